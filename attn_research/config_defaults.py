"""The base experiment config that every file in configs/ starts from.

Top-level keys: experiment, name, seed, results_dir, data, model, train, eval, wandb.
Config files in configs/ override what their paper's setup section says.
"""

from __future__ import annotations

import ml_collections

from attn_research.attention import attention_config  # noqa: F401  (configs import it from here)
from attn_research.tasks import build_task


def base_config() -> ml_collections.ConfigDict:
    """Every key an experiment reads, with defaults (data, model, train, eval, wandb; see the module docstring)."""
    config = ml_collections.ConfigDict()
    config.task = "seq2seq"  # attn_research/tasks/: the registered task the trainer runs
    config.experiment = "default"
    config.name = "default"
    config.run_name = ""  # results/<experiment>/<run_name or name>.json
    config.seed = 0
    config.results_dir = ""  # "": results only in <workdir>/results.json; "results": also recorded there

    # the default task's model: the recurrent encoder-decoder (models/seq2seq.py; its attention:
    # attn_research.attention.attention_config), defaults written there once
    defaults = build_task(config).default_config()
    config.data = defaults.data  # every text data set's keys (data/config.py)
    config.model = defaults.model

    config.train = ml_collections.ConfigDict(
        {
            "batch_size": 128,
            "num_epochs": 10,
            "num_steps": 0,
            "optimizer": "adam",
            "learning_rate": 1e-3,
            "adam_b1": 0.9,
            "adam_b2": 0.999,
            "adam_eps": 1e-8,
            "schedule": "constant",
            "warmup_steps": 0,
            "halving_start_epoch": 5,
            "decay_rate": 0.9,
            "clip_norm": 1.0,
            "weight_decay": 0.0,
            "label_smoothing": 0.0,
            "coverage_loss_weight": 0.0,
            "log_every_steps": 50,
            "eval_every_steps": 0,
            "checkpoint_every_steps": 0,
            "keep_checkpoints": 2,
            "best_metric": "loss",
            "best_mode": "min",
            # stop after this many evaluations without a better validation best_metric (0: never; the best
            # checkpoint is tested either way; training/loop.py patience_spent)
            "early_stopping_patience": 0,
            "steps_per_call": 1,  # K > 1: K updates per jitted call (lax.scan; training/steps.py train_steps)
            # "multiple": lengths padded to a multiple of 8; "buckets": a fixed grid of `buckets` lengths per axis,
            # every compiled shape in epoch 0 (data/batching.py make_batches)
            "padding": "multiple",
            "buckets": 6,
            # the optimizer state as one flat vector per moment (optax.flatten): the same update, a few fused
            # kernels instead of several per parameter array (less compile time; benchmarks/optimizer_layout.py)
            "flatten_optimizer": True,
        }
    )

    config.eval = ml_collections.ConfigDict({"batch_size": 128, "max_decode_len": 64, "num_heatmaps": 4})

    config.wandb = ml_collections.ConfigDict(
        {
            # mode "": unset ($WANDB_MODE decides, else offline); dir "": the workdir (logging/writer.py)
            "mode": "",
            "project": "attn_research",
            "group": "",
            "tags": (),
            "name": "",
            "dir": "",
        }
    )
    return config
