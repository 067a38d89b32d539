"""The declaration of an experiment: base config, swept config keys, seeds, scales, metrics, table.

An experiment file (experiments/<name>.py) defines EXPERIMENT = Experiment(...):

    Experiment(name="luong2015_table4", title="...", config="configs/multi30k.py:model=luong_general",
               overrides={"data.source_lang": "en", "data.target_lang": "de"},   # every run, every scale
               method="grid",                                                  # grid | random | bayes
               blocks=(Block({"model.attention.score": ["dot", "general"],     # a list: values to sweep
                              "model.attention.window": ["global", "local_p"],
                              "model.bridge": "last"}),),                      # a scalar: a constant
               scales={"smoke": Scale(...), "full": Scale(...)},
               table=Table(...), objective=Metric("validation/bleu", "BLEU"))

A block is one W&B-style sweep over config keys: every combination of its lists (grid), or `count`
draws from its lists and distributions (random, bayes; a distribution is W&B's own form, e.g.
{"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-2}). An experiment's points are the union
of its blocks, each point run once per seed. A run's config is the base config, then
`Experiment.overrides`, then `Scale.overrides`, then the point's values (later ones win).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from attn_research.validation import check_choice

METHODS = ("grid", "random", "bayes")
GOALS = ("maximize", "minimize")
SCALAR_TYPES = (str, int, float, bool)
_NAME = re.compile(r"^[a-z0-9_]+$")
_OBJECTIVE = re.compile(r"^(validation|test)/\w+$")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")

Point = dict[str, Any]  # config key (dotted, e.g. "model.attention.score", or "seed") -> value


@dataclasses.dataclass(frozen=True)
class Block:
    """One sweep over config keys (dotted paths below the config root, e.g. "model.attention.dim").

    parameters: key -> list of values (swept), W&B distribution dict (random / bayes only) or a scalar
    (the same in every point of this block). name: tells blocks apart in W&B exports ("" for one block).
    """

    parameters: Mapping[str, Any]
    name: str = ""


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """After training, `python -m attn_research.evaluate --split=<split> --beam=<beam>` on every run."""

    split: str = "test"
    beam: int = 5


@dataclasses.dataclass(frozen=True)
class Scale:
    """How big the runs are. description: what this scale runs and roughly how long on 2 CPU cores.

    overrides: config key -> value for every run of this scale. seeds: each point runs once per seed.
    blocks: this scale's blocks (None: the experiment's). count: draws per block (random, bayes).
    evaluation: an evaluation of each finished run (None: the training run's own metrics only).
    notes: lines under this scale's table, after the table's own notes (what differs at this scale: its recipe,
    its measured time).
    """

    description: str
    overrides: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    seeds: tuple[int, ...] = (0,)
    blocks: tuple[Block, ...] | None = None
    count: int = 0
    evaluation: Evaluation | None = None
    notes: tuple[str, ...] = ()


# A table note for tables with both BLEU columns (the metrics are metrics.corpus_bleu and metrics.token_bleu).
BLEU_NOTE = (
    "BLEU: sacreBLEU (13a tokenization) of the lowercased detokenized text; BLEU (tokens): corpus BLEU of our "
    "lowercased Moses tokens, no smoothing (metrics.token_bleu: torchtext's bleu_score, the PyTorch notebooks' "
    "metric; records made before it existed show –)."
)


@dataclasses.dataclass(frozen=True)
class Metric:
    """A number each run reports. key: "<split>/<metric>" of the results JSON ("test/bleu",
    "validation/seq_accuracy", "test/ppl"), "num_params", or "eval/bleu" and
    "eval/bleu_by_length/[lo, hi)" from an Evaluation. title: column title. scale: shown as value * scale
    (100 for accuracies in %). digits: decimals shown. goal: which seed is the best one (and what a bayes
    sweep optimizes)."""

    key: str
    title: str
    scale: float = 1.0
    digits: int = 2
    goal: str = "maximize"


@dataclasses.dataclass(frozen=True)
class Table:
    """One row per point (seeds aggregated): its label, then each metric as mean ± std (best), with the
    paper's value beside it where `published` has one.

    row_label(point) -> the row's name, as the paper writes it (point: config key -> value, no seed).
    row_title: the title of the label column.
    published: row label -> metric key -> the paper's cell, copied as printed (a string).
    source: where the published numbers come from (paper, table, test set). notes: lines under the table.
    findings: rows -> lines computed from the results (e.g. which of the paper's claims hold here), under the
    notes; None: none.
    by_length: add a column per source-length bucket of the runs' Evaluation ("eval/bleu_by_length/[lo, hi)",
    whichever buckets attn_research.evaluate chose) and a figure of BLEU against length, one curve per row
    (Bahdanau et al. 2015, Fig. 2).
    """

    metrics: tuple[Metric, ...]
    row_label: Callable[[Point], str]
    row_title: str = "model"
    published: Mapping[str, Mapping[str, str]] = dataclasses.field(default_factory=dict)
    source: str = ""
    notes: tuple[str, ...] = ()
    by_length: bool = False
    findings: Callable[[Sequence[Any]], Sequence[str]] | None = None


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A reproduced paper table (module docstring). config: "<file>.py[:<arg>]" (named arguments, e.g.
    "configs/scan.py:split=simple,model=gru_attention"; none: the file's defaults), the file relative to the
    repository root (the folder holding experiments/) unless absolute. objective: the metric a bayes sweep
    optimizes and W&B sweeps report (a validation metric)."""

    name: str
    title: str
    config: str
    blocks: tuple[Block, ...]
    scales: Mapping[str, Scale]
    table: Table
    objective: Metric
    method: str = "grid"
    overrides: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        validate(self)

    def scale(self, name: str) -> Scale:
        """The scale called `name`; raises ValueError naming the valid ones."""
        return self.scales[check_choice("scale", name, tuple(self.scales))]

    def blocks_at(self, scale: str) -> tuple[Block, ...]:
        """The blocks swept at `scale` (the scale's own, else the experiment's)."""
        blocks = self.scale(scale).blocks
        return self.blocks if blocks is None else blocks


def is_distribution(value: Any) -> bool:
    return isinstance(value, Mapping)


def _check_key(key: Any, where: str) -> None:
    if not isinstance(key, str) or not _KEY.match(key) or key.startswith("config.") or key == "seed":
        raise ValueError(
            f"{where}: config key {key!r} must be a dotted path below the config root such as "
            "'model.attention.score' (no 'config.' prefix; seeds go in Scale.seeds)"
        )


def _check_value(key: str, value: Any, method: str, where: str) -> None:
    if is_distribution(value):
        if method == "grid":
            raise ValueError(f"{where}: {key} is a distribution {dict(value)}; a grid sweep needs a list of values")
        return
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if not values:
        raise ValueError(f"{where}: {key} has an empty list of values")
    for v in values:
        if not isinstance(v, SCALAR_TYPES):
            raise ValueError(
                f"{where}: {key} value {v!r} is a {type(v).__name__}; values must be str, int, "
                "float or bool (they travel on the command line)"
            )
    if len(set(map(repr, values))) != len(values):
        raise ValueError(f"{where}: {key} lists a value twice: {values}")


def validate(experiment: Experiment) -> None:
    """Raises ValueError for a malformed experiment (names the field and the valid choices)."""
    if not _NAME.match(experiment.name):
        raise ValueError(f"experiment name {experiment.name!r} must match [a-z0-9_]+ (it names folders)")
    check_choice("sweep method", experiment.method, METHODS)
    if not experiment.config.partition(":")[0].endswith(".py"):
        raise ValueError(f"{experiment.name}: config {experiment.config!r} must be '<file>.py[:<arg>]'")
    if not experiment.scales:
        raise ValueError(f"{experiment.name}: no scales")
    for key in experiment.overrides:
        _check_key(key, f"{experiment.name} overrides")
    check_choice("metric goal", experiment.objective.goal, GOALS)
    if not _OBJECTIVE.match(experiment.objective.key):
        raise ValueError(
            f"{experiment.name}: objective {experiment.objective.key!r} must be a metric of the "
            "results JSON, 'validation/<metric>' or 'test/<metric>'"
        )
    for metric in experiment.table.metrics:
        check_choice("metric goal", metric.goal, GOALS)
    for scale_name, scale in experiment.scales.items():
        where = f"{experiment.name}, scale {scale_name!r}"
        if not _NAME.match(scale_name):
            raise ValueError(f"{where}: scale names must match [a-z0-9_]+")
        for key in scale.overrides:
            _check_key(key, f"{where} overrides")
        if (
            not scale.seeds
            or len(set(scale.seeds)) != len(scale.seeds)
            or not all(isinstance(s, int) and not isinstance(s, bool) for s in scale.seeds)
        ):
            raise ValueError(f"{where}: seeds must be distinct ints, got {scale.seeds}")
        if experiment.method != "grid" and scale.count < 1:
            raise ValueError(f"{where}: a {experiment.method} sweep needs count >= 1 (draws per block)")
        if scale.evaluation is not None and scale.evaluation.beam < 1:
            raise ValueError(f"{where}: evaluation beam must be >= 1, got {scale.evaluation.beam}")
        blocks = experiment.blocks if scale.blocks is None else scale.blocks
        if not blocks:
            raise ValueError(f"{where}: no blocks to sweep")
        names = [b.name for b in blocks]
        if len(blocks) > 1 and (len(set(names)) != len(names) or not all(_NAME.match(n) for n in names)):
            raise ValueError(f"{where}: several blocks need distinct names matching [a-z0-9_]+, got {names}")
        for block in blocks:
            if not block.parameters:
                raise ValueError(f"{where}: block {block.name!r} has no parameters")
            for key, value in block.parameters.items():
                _check_key(key, f"{where}, block {block.name!r}")
                _check_value(key, value, experiment.method, f"{where}, block {block.name!r}")


def load_experiment(path: str) -> Experiment:
    """The EXPERIMENT defined by the Python file at `path`.

    Raises FileNotFoundError for a missing file, ValueError if it defines no Experiment called EXPERIMENT.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no experiment file {path}")
    name = "attn_research_experiment_" + re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0])
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    experiment = getattr(module, "EXPERIMENT", None)
    if not isinstance(experiment, Experiment):
        raise ValueError(f"{path} must define EXPERIMENT = attn_research.sweeps.Experiment(...)")
    return experiment


def config_file(experiment: Experiment, experiment_path: str) -> tuple[str, str]:
    """(absolute path of the base config file, its argument). A relative file is looked up from the
    repository root, i.e. the parent of the folder that holds the experiment file."""
    file, _, arg = experiment.config.partition(":")
    if not os.path.isabs(file):
        root = os.path.dirname(os.path.dirname(os.path.abspath(experiment_path)))
        file = os.path.join(root, file)
    return file, arg


def base_config(experiment: Experiment, experiment_path: str):
    """The experiment's base config: get_config(arg) of its config file (an ml_collections.ConfigDict)."""
    file, arg = config_file(experiment, experiment_path)
    if not os.path.isfile(file):
        raise FileNotFoundError(f"{experiment.name}: no config file {file}")
    spec = importlib.util.spec_from_file_location("attn_research_config_" + experiment.name, file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config(arg) if arg else module.get_config()


def check_config_keys(experiment: Experiment, experiment_path: str) -> None:
    """Raises ValueError naming the first override or swept key (any scale) that the base config lacks,
    with the keys valid at that level, before any run starts."""
    config = base_config(experiment, experiment_path)
    keys = list(experiment.overrides)
    for scale_name, scale in experiment.scales.items():
        keys += list(scale.overrides)
        keys += [key for block in experiment.blocks_at(scale_name) for key in block.parameters]
    for key in dict.fromkeys(keys):
        node, path = config, []
        for part in key.split("."):
            if not hasattr(node, "keys") or part not in node:
                where = ".".join(path) or "the config root"
                valid = ", ".join(sorted(node.keys())) if hasattr(node, "keys") else "none (a value)"
                raise ValueError(f"{experiment.name}: unknown config key {key!r}: {where} has {valid}")
            node, path = node[part], path + [part]
