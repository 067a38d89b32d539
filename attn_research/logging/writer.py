"""MetricWriter: every metric to <workdir>/metrics.jsonl, and the same to Weights & Biases.

The JSON-lines file is the record of truth; W&B is a convenience that may fail (not installed, not
logged in, network down) without ever stopping training: the first failure is logged once as a
warning, W&B is switched off for the rest of the run, and the local files go on being written.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

METRICS_FILE = "metrics.jsonl"  # one {"step": ..., <name>: <value>, ..., "time": ...} per line
SUMMARY_FILE = "summary.json"  # merged write_summary() calls
RUN_ID_FILE = "wandb_run_id.txt"  # the W&B run id, reused with resume="allow" on restart

WANDB_DEFAULTS = {
    "mode": None,
    "project": "attn_research",
    "group": None,
    "tags": None,
    "name": None,
    "dir": None,
    "entity": None,
    "notes": None,
}
_MODES = {
    "offline": "offline",
    "online": "online",
    "disabled": "disabled",
    "dryrun": "offline",
    "run": "online",
}  # the last two: wandb's legacy WANDB_MODE values
_RESERVED = ("step", "time")
INIT_TIMEOUT_S = 10.0  # wandb.init gives up after this (W&B's default, 90 s, stalls every run with no network)

log = logging.getLogger(__name__)


def resolve_mode(config_mode: str | None) -> str:
    """The W&B mode a run uses: the config's `wandb.mode` if set (not None or ""), else $WANDB_MODE if
    set, else "offline"; wandb's legacy names are mapped ("dryrun" -> "offline", "run" -> "online").

    Returns "offline", "online" or "disabled". Raises ValueError naming the source for any other value.
    """
    source, mode = "config wandb.mode", config_mode
    if not mode:
        source, mode = "$WANDB_MODE", os.environ.get("WANDB_MODE")
    if not mode:
        return "offline"
    if mode not in _MODES:
        raise ValueError(f"{source} must be offline, online or disabled; got {mode!r}")
    return _MODES[mode]


def _as_dict(config: Any) -> dict:
    if config is None:
        return {}
    if hasattr(config, "to_dict"):  # ml_collections.ConfigDict / FrozenConfigDict
        return config.to_dict()
    return dict(config)


def _scalar(name: str, value: Any) -> int | float:
    array = np.asarray(value)  # also fetches a 0-d jax.Array from the device
    if array.ndim != 0 or array.dtype.kind not in "biuf":
        raise ValueError(
            f"metric {name!r} must be a real scalar, got {type(value).__name__} "
            f"with shape {array.shape} and dtype {array.dtype}"
        )
    return array.item()


def _to_builtin(value: Any) -> Any:
    """json.dumps hook: NumPy / JAX arrays and scalars become Python lists and numbers."""
    return np.asarray(value).tolist()


class MetricWriter:
    """Writes scalars, images and a summary to <workdir> and to one W&B run.

    workdir: the run directory (created if missing). config: the experiment's full
    ml_collections.ConfigDict (or dict), sent to W&B as the run config. wandb_config: dict or
    ConfigDict with any of the keys of WANDB_DEFAULTS: mode ("offline" | "online" | "disabled";
    missing, None or "" -> $WANDB_MODE, else "offline": `resolve_mode`), project, group, tags, name,
    entity, notes, dir (where W&B puts its `wandb/` folder; None or "" -> workdir).
    wandb.init gives up after INIT_TIMEOUT_S seconds (no network: W&B is off, training goes on).
    If <workdir>/wandb_run_id.txt exists, that W&B run is resumed (resume="allow"), so a restarted
    job keeps one W&B run. (W&B drops points whose step is below the run's last step; metrics.jsonl
    keeps them, so after a restart from a checkpoint a step may appear twice: the later line wins.)
    Raises ValueError for an unknown wandb_config key or mode. W&B errors are never raised.
    Several processes: create it on process 0 only (training/distributed.is_primary), NullWriter elsewhere.
    """

    def __init__(self, workdir: str | os.PathLike, config: Any = None, wandb_config: Any = None):
        self.workdir = os.fspath(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.metrics_path = os.path.join(self.workdir, METRICS_FILE)
        self.summary_path = os.path.join(self.workdir, SUMMARY_FILE)
        options = _as_dict(wandb_config)
        unknown = set(options) - set(WANDB_DEFAULTS)
        if unknown:
            raise ValueError(f"unknown wandb_config keys {sorted(unknown)}; known: {sorted(WANDB_DEFAULTS)}")
        # "" and () mean "not set" (ConfigDict fields cannot hold None once typed as str / tuple).
        options = {**WANDB_DEFAULTS, **{k: v for k, v in options.items() if v not in ("", ())}}
        options["mode"] = resolve_mode(options["mode"])
        self.mode = options["mode"]
        self._closed = False
        self.wandb_run = None  # the live wandb Run, or None while W&B is off
        if options["mode"] != "disabled":
            self.wandb_run = self._init_wandb(options, _as_dict(config))
        self._run_id = None if self.wandb_run is None else self.wandb_run.id
        self._run_dir = None if self.wandb_run is None else os.path.dirname(self.wandb_run.dir)

    # W&B plumbing -----------------------------------------------------------------------------
    def _wandb_failed(self, action: str, error: BaseException) -> None:
        # Called once at most: W&B is off afterwards, so later calls never reach it.
        log.warning(
            "W&B %s failed (%s: %s); W&B is off for the rest of this run, metrics still go to %s",
            action,
            type(error).__name__,
            " ".join(str(error).split()),
            self.metrics_path,
        )
        self.wandb_run = None

    def _init_wandb(self, options: dict, config: dict):
        run_id_path = os.path.join(self.workdir, RUN_ID_FILE)
        try:
            import wandb  # pylint: disable=import-outside-toplevel

            run_id = None
            if os.path.exists(run_id_path):
                with open(run_id_path) as f:
                    run_id = f.read().strip() or None
            wandb_dir = os.fspath(options["dir"] or self.workdir)
            os.makedirs(wandb_dir, exist_ok=True)
            run = wandb.init(
                mode=options["mode"],
                project=options["project"],
                entity=options["entity"],
                group=options["group"],
                name=options["name"],
                notes=options["notes"],
                tags=list(options["tags"]) if options["tags"] else None,
                dir=wandb_dir,
                config=config,
                id=run_id,
                resume="allow" if run_id else None,
                reinit="create_new",  # several writers may live in one process (e.g. seeds)
                settings=wandb.Settings(silent=True, init_timeout=INIT_TIMEOUT_S),
            )
            with open(run_id_path, "w") as f:
                f.write(run.id + "\n")
            return run
        except Exception as error:  # pylint: disable=broad-except
            self._wandb_failed("init", error)
            return None

    def _to_wandb(self, action: str, fn) -> None:
        if self.wandb_run is None:
            return
        try:
            fn(self.wandb_run)
        except Exception as error:  # pylint: disable=broad-except
            self._wandb_failed(action, error)

    # Public API -------------------------------------------------------------------------------
    @property
    def run_id(self) -> str | None:
        """The id of the W&B run this writer started (kept after close), or None if none started."""
        return self._run_id

    @property
    def wandb_run_dir(self) -> str | None:
        """The folder of the W&B run (`<dir>/wandb/offline-run-...` offline), or None if none started.
        Kept after close; `wandb sync <folder>` uploads an offline run."""
        return self._run_dir

    def write_scalars(self, step: int, scalars: Mapping[str, Any]) -> None:
        """Appends {"step": step, **scalars, "time": unix seconds} to metrics.jsonl; logs to W&B.

        scalars: name -> real scalar (Python, NumPy or 0-d JAX). Raises ValueError for a
        non-scalar value or a name in ("step", "time").
        """
        values = {}
        for name, value in scalars.items():
            if name in _RESERVED:
                raise ValueError(f"metric name {name!r} is reserved in {METRICS_FILE}")
            values[name] = _scalar(name, value)
        step = int(step)
        with open(self.metrics_path, "a") as f:
            f.write(json.dumps({"step": step, **values, "time": time.time()}) + "\n")
        self._to_wandb("log", lambda run: run.log(values, step=step))

    def write_images(self, step: int, images: Mapping[str, str | os.PathLike]) -> None:
        """Logs PNG files (name -> path) to W&B as images at `step`; the files themselves stay put.

        Raises FileNotFoundError if a path does not exist.
        """
        for path in images.values():
            if not os.path.isfile(path):
                raise FileNotFoundError(f"image {os.fspath(path)!r} does not exist")

        def log_images(run):
            import wandb  # pylint: disable=import-outside-toplevel

            run.log({name: wandb.Image(os.fspath(path)) for name, path in images.items()}, step=int(step))

        self._to_wandb("image log", log_images)

    def write_summary(self, summary: Mapping[str, Any]) -> None:
        """Merges `summary` (JSON-able values; NumPy / JAX arrays allowed) into summary.json and the
        W&B run summary. Raises TypeError for values that cannot be written as JSON."""
        merged = {}
        if os.path.exists(self.summary_path):
            with open(self.summary_path) as f:
                merged = json.load(f)
        update = json.loads(json.dumps(dict(summary), default=_to_builtin))
        merged.update(update)
        tmp = self.summary_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(merged, f, indent=2, sort_keys=True)
        os.replace(tmp, self.summary_path)
        self._to_wandb("summary", lambda run: run.summary.update(update))

    def close(self) -> None:
        """Finishes the W&B run (syncs nothing when offline) and logs where the run is, with the
        `wandb sync <folder>` command that uploads an offline run. Safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        started = self.wandb_run is not None
        self._to_wandb("finish", lambda run: run.finish())
        self.wandb_run = None
        if started and self.mode == "offline":
            log.info("W&B offline run in %s; upload it with: wandb sync %s", self._run_dir, self._run_dir)
        elif started:
            log.info("W&B run in %s", self._run_dir)

    def __enter__(self) -> MetricWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class NullWriter:
    """MetricWriter's interface, writing nothing: what the processes other than process 0 of a multi-process
    run use (training/distributed.py), so that one metrics.jsonl, summary.json and W&B run exist per run."""

    run_id = None
    wandb_run_dir = None

    def write_scalars(self, step: int, scalars: Mapping[str, Any]) -> None:
        del step, scalars

    def write_images(self, step: int, images: Mapping[str, str | os.PathLike]) -> None:
        del step, images

    def write_summary(self, summary: Mapping[str, Any]) -> None:
        del summary

    def close(self) -> None:
        return None

    def __enter__(self) -> NullWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
