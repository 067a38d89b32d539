"""Ablation sweeps and paper tables: declare an experiment (spec), expand it into points as wandb's
`sweeps` engine does (expand; the package itself only for bayes sweeps and W&B exports), run them in
subprocesses (runner), aggregate seeds (aggregate), render the tables (tables, plots) and export W&B
sweeps (wandb_export). The CLI is attn_research/sweep.py."""

from attn_research.sweeps.smoke import SMOKE
from attn_research.sweeps.spec import BLEU_NOTE, Block, Evaluation, Experiment, Metric, Scale, Table, load_experiment

__all__ = ["BLEU_NOTE", "Block", "Evaluation", "Experiment", "Metric", "Scale", "Table", "load_experiment", "SMOKE"]
