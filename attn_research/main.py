"""Command line: train and evaluate one config.

    python -m attn_research.main --config=configs/<file>.py:<arg> --workdir=<dir> [--config.a.b=c ...]

Several processes (one per host; training/distributed.py), the same command in each:
    ... --coordinator_address=<host of process 0>:<port> --num_processes=N --process_id=<0..N-1>
    ... --distributed        (jax detects SLURM, Cloud TPU, MPI or Kubernetes from the environment)

Also installed as the console script `attn-train`. Rerunning the same command resumes from the
workdir's latest checkpoint. The config is checked (attn_research/config_validation.py) before any
work; a bad flag, a missing config file, an invalid config or unavailable data prints one line
`error: ...` and exits with status 2; the run's own one-line errors (training.loop.RUN_ERRORS: a locked
workdir, a config that differs from the workdir's, no loadable checkpoint, a non-finite loss) exit with 1. W&B: the config's `wandb.mode` if set, else $WANDB_MODE, else
offline (logging/writer.py).
"""

from __future__ import annotations

import logging as std_logging
import os
import sys

from absl import app, flags, logging
from ml_collections import config_flags

from attn_research.config_validation import ConfigError, validate_config
from attn_research.training.distributed import Cluster, ClusterError, check_cluster, initialize

_CONFIG = config_flags.DEFINE_config_file("config", None, "Experiment config file (path.py:arg).", lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "Directory for checkpoints, metrics and plots.")
_COMPILATION_CACHE = flags.DEFINE_string(
    "compilation_cache",
    os.path.expanduser("~/.cache/attn_research/jax"),
    "Persistent XLA compilation cache ('' to disable): sweeps never recompile a shape twice.",
)

_COORDINATOR = flags.DEFINE_string(
    "coordinator_address", "", "host:port of process 0 for a multi-process run ('' for one process)."
)
_NUM_PROCESSES = flags.DEFINE_integer("num_processes", 0, "Processes in the job (with --coordinator_address).")
_PROCESS_ID = flags.DEFINE_integer("process_id", -1, "This process's rank, 0..num_processes-1.")
_AUTO = flags.DEFINE_boolean(
    "distributed", False, "Join a multi-process job that jax detects from the environment (SLURM, Cloud TPU, ...)."
)
_CPU_COLLECTIVES = flags.DEFINE_string(
    "cpu_collectives", "gloo", "CPU all-reduce implementation of a multi-process run on CPUs ('' for jax's default)."
)

EXIT_USAGE = 2  # bad input: flags, config, data
EXIT_RUN = 1  # the run stopped with one of training.loop.RUN_ERRORS


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


def _config_argument(argv: list[str]) -> str | None:
    """The value of --config=<value> (or --config <value>) in argv, else None."""
    for i, argument in enumerate(argv):
        if argument.startswith("--config="):
            return argument.removeprefix("--config=")
        if argument == "--config" and i + 1 < len(argv):
            return argv[i + 1]
    return None


def flag_error_message(error: BaseException, argv: list[str]) -> str:
    """One line for an error raised while parsing the flags (a config file's own traceback reduced to
    its last line; an unknown override key named with its flag)."""
    config = _config_argument(argv)
    if config is not None:
        path = config.split(":", 1)[0]
        if not os.path.isfile(path):
            return (
                f"config file {path!r} not found (--config=<file>.py[:<arg>], e.g. configs/synthetic.py:task=reverse)"
            )
    if isinstance(error, (AttributeError, KeyError)):
        overrides = [a.split("=", 1)[0] for a in argv if a.startswith("--config.")]
        name = str(error).strip("\"'")
        named = [flag for flag in overrides if flag.split(".")[-1] == name]
        if named:
            return f"unknown config key {named[0].removeprefix('--config.')!r} ({named[0]}=...)"
        return f"unknown config key {name!r} in {', '.join(overrides)}"
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if len(lines) > 1 and "Traceback" in str(error):  # a config file raised: its last line says what
        return f"--config={config}: {lines[-1]}"
    return " ".join(lines) or type(error).__name__


def parse_flags(argv: list[str]) -> list[str]:
    """absl's flag parsing, with any error printed as one line `error: ...` (exit status 2) instead of a
    traceback or the help text; the config is loaded and validated here, before any work."""
    try:
        remaining = flags.FLAGS(argv)
        config = _CONFIG.value  # loading errors of the config file surface here
        if config is None or _WORKDIR.value is None:
            raise app.UsageError("both --config and --workdir are required")
        if len(remaining) > 1:
            raise app.UsageError(f"unexpected arguments: {remaining[1:]}")
        check_cluster(cluster())
        validate_config(config)
    except (ConfigError, app.UsageError, ClusterError) as error:
        _exit_with(str(error))
    except Exception as error:  # pylint: disable=broad-except  (flag and config-file errors)
        _exit_with(flag_error_message(error, argv))
    return remaining


def cluster() -> Cluster:
    """The multi-process job the flags describe (Cluster() for a single process)."""
    return Cluster(
        coordinator_address=_COORDINATOR.value,
        num_processes=_NUM_PROCESSES.value,
        process_id=_PROCESS_ID.value,
        auto=_AUTO.value,
        cpu_collectives=_CPU_COLLECTIVES.value,
    )


def _exit_with(message: str, status: int = EXIT_USAGE) -> None:
    print(f"error: {' '.join(str(message).split())}", file=sys.stderr)
    sys.exit(status)


def main(argv) -> None:
    del argv  # checked by parse_flags
    enable_compilation_cache(_COMPILATION_CACHE.value)
    initialize(cluster())  # before anything touches a device
    from attn_research.data.tfds_io import DataUnavailableError
    from attn_research.training.loop import RUN_ERRORS, train_and_evaluate

    logging.set_verbosity(logging.INFO)
    logging.get_absl_handler().addFilter(_QuietLibraries())
    try:
        results = train_and_evaluate(_CONFIG.value, _WORKDIR.value)
    except (ConfigError, DataUnavailableError) as error:
        _exit_with(str(error))
    except RUN_ERRORS as error:
        _exit_with(str(error), EXIT_RUN)
    for split, metrics in results["metrics"].items():
        logging.info("%s: %s", split, ", ".join(f"{k}={v:.4g}" for k, v in metrics.items()))


def run() -> None:
    """Console-script entry point."""
    app.run(main, flags_parser=parse_flags)


if __name__ == "__main__":
    run()
