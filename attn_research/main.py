"""Command line: train and evaluate one config.

    python -m attn_research.main --config=configs/<file>.py:<arg> --workdir=<dir> [--config.a.b=c ...]

Also installed as the console script `attn-train`. Rerunning the same command resumes from the
workdir's latest checkpoint.
"""
from __future__ import annotations

import logging as std_logging
import os

from absl import app, flags, logging
from ml_collections import config_flags

_CONFIG = config_flags.DEFINE_config_file("config", None, "Experiment config file (path.py:arg).", lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "Directory for checkpoints, metrics and plots.")
_COMPILATION_CACHE = flags.DEFINE_string(
    "compilation_cache", os.path.expanduser("~/.cache/attn_research/jax"),
    "Persistent XLA compilation cache ('' to disable): sweeps never recompile a shape twice.")


def enable_compilation_cache(path: str) -> None:
    """Turns on JAX's persistent compilation cache in `path` (no-op for '')."""
    if not path:
        return
    import jax

    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


class _QuietLibraries(std_logging.Filter):
    """Drops INFO records from orbax (dozens per checkpoint) so the console shows the run's own progress."""

    def filter(self, record: std_logging.LogRecord) -> bool:
        return record.levelno >= std_logging.WARNING or "orbax" not in record.pathname


def main(argv) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    if _CONFIG.value is None or _WORKDIR.value is None:
        raise app.UsageError("both --config and --workdir are required")
    os.environ.setdefault("WANDB_MODE", _CONFIG.value.wandb.mode)
    enable_compilation_cache(_COMPILATION_CACHE.value)
    from attn_research.training.loop import train_and_evaluate

    logging.set_verbosity(logging.INFO)
    logging.get_absl_handler().addFilter(_QuietLibraries())
    results = train_and_evaluate(_CONFIG.value, _WORKDIR.value)
    for split, metrics in results["metrics"].items():
        logging.info("%s: %s", split, ", ".join(f"{k}={v:.4g}" for k, v in metrics.items()))


def run() -> None:
    """Console-script entry point."""
    app.run(main)


if __name__ == "__main__":
    run()
