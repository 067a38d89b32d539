"""Orbax checkpoints: the latest ones (periodic, for resuming) and the best by a validation metric.

A step that no longer loads (a file truncated by a full disk or a copy cut short) is set aside as
`<step>.corrupt` (outside orbax's step naming) with a warning, and the newest step that loads is used.
A checkpoint whose arrays have other shapes than the model (another config) is an error, not corruption.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp
from absl import logging

CORRUPT_SUFFIX = ".corrupt"
# fields of older train states -> (training term, its variable) in TrainState.term_state
LEGACY_FIELDS = {"baseline": ("reinforce", "baseline")}


class CheckpointError(RuntimeError):
    """A checkpoint folder that cannot be resumed from: no step loads, or its arrays have other shapes."""


def _shape_mismatches(metadata: Any, target: Any) -> list[str]:
    """'<path>: saved (a, b), model (c, d)' for each array of `target` (nested dicts) whose saved shape in
    `metadata` (orbax's tree of ArrayMetadata) differs, or that is not saved."""
    saved = {jax.tree_util.keystr(path): leaf for path, leaf in jax.tree_util.tree_flatten_with_path(metadata)[0]}
    mismatches = []
    for path, leaf in jax.tree_util.tree_flatten_with_path(target)[0]:
        key = jax.tree_util.keystr(path)
        shape = tuple(getattr(leaf, "shape", ()))
        stored = saved.get(key)
        if stored is None:
            mismatches.append(f"{key}: not in the checkpoint")
        elif tuple(getattr(stored, "shape", ())) != shape:
            mismatches.append(f"{key}: saved {tuple(stored.shape)}, model {shape}")
    return mismatches


def _restore(manager: ocp.CheckpointManager, step: int, state: Any) -> Any:
    """Restores step `step` into the structure of `state` (a flax struct, e.g. TrainState).

    A checkpoint written before a field was added to the state (e.g. TrainState.term_state) restores the
    fields it holds; the others keep their values in `state`. A field since moved (LEGACY_FIELDS: the
    REINFORCE baseline, once TrainState.baseline) goes to its new place when the state has that term.
    Raises CheckpointError (one line, naming the folder and the first mismatches) when the saved parameters
    have other names or shapes than `state`'s.
    """
    metadata = manager.item_metadata(step)
    saved = set(metadata.keys())
    target = {name: getattr(state, name) for name in saved if name not in LEGACY_FIELDS}
    target.update({name: np.zeros(metadata[name].shape, metadata[name].dtype) for name in saved & set(LEGACY_FIELDS)})
    mismatches = _shape_mismatches(metadata["params"], state.params) if "params" in saved else []
    if mismatches:
        shown = "; ".join(mismatches[:3]) + (f"; and {len(mismatches) - 3} more" if len(mismatches) > 3 else "")
        raise CheckpointError(
            f"{manager.directory}/{step} holds another model ({shown}): train this config in a new --workdir"
        )
    restored = dict(manager.restore(step, args=ocp.args.StandardRestore(target)))
    for name, (term, variable) in LEGACY_FIELDS.items():
        value = restored.pop(name, None)
        if value is not None and term in state.term_state:
            restored["term_state"] = {**state.term_state, term: {**state.term_state[term], variable: value}}
    return state.replace(**restored)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:200] if text else ''}"


def restore_newest_loadable(manager: ocp.CheckpointManager, state: Any, steps: list[int] | None = None) -> Any:
    """The newest of `steps` (default: every step, newest first) that restores into `state`'s structure.

    A step that fails to load is renamed `<step>.corrupt` with a warning naming it and the error, and the
    next older one is tried. Raises CheckpointError naming the folder when none loads, and (from _restore)
    when a step holds another model's shapes.
    """
    steps = sorted(manager.all_steps() if steps is None else steps, reverse=True)
    directory = os.fspath(manager.directory)
    for step in steps:
        try:
            return _restore(manager, step, state)
        except CheckpointError:
            raise
        except Exception as error:  # tensorstore, JSON, msgpack, ...: whatever a torn file raises
            broken = os.path.join(directory, str(step))
            aside = broken + CORRUPT_SUFFIX
            if os.path.exists(aside):  # the same step was set aside before
                aside += f".{int(time.time())}"
            logging.warning("checkpoint %s does not load (%s); set aside as %s", broken, _first_line(error), aside)
            os.rename(broken, aside)
            manager.reload()
    raise CheckpointError(
        f"no checkpoint in {directory} loads (tried steps {', '.join(map(str, steps))}; "
        f"set aside as <step>{CORRUPT_SUFFIX}): delete the folder to start over"
    )


def _barrier_prefix(name: str) -> ocp.options.MultiprocessingOptions:
    """Orbax's multi-process barriers are keyed by step: two managers saving the same step at once (the last
    periodic save and the best one) would meet at one barrier and time out ("already ongoing"). Each manager
    gets its own key prefix."""
    return ocp.options.MultiprocessingOptions(barrier_sync_key_prefix=name)


class Checkpoints:
    """Two orbax managers under `workdir`: `checkpoints/` (latest `keep` states) and `best/` (one state).

    best_metric: the validation metric that ranks checkpoints (e.g. "loss"); best_mode: "min" or "max".
    Raises ValueError for another best_mode.
    """

    def __init__(self, workdir: str, *, keep: int = 2, best_metric: str = "loss", best_mode: str = "min"):
        if best_mode not in ("min", "max"):
            raise ValueError(f"best_mode must be 'min' or 'max', got {best_mode!r}")
        self.best_metric = best_metric
        self.latest = ocp.CheckpointManager(
            os.path.abspath(os.path.join(workdir, "checkpoints")),
            options=ocp.CheckpointManagerOptions(
                max_to_keep=keep, create=True, multiprocessing_options=_barrier_prefix("latest")
            ),
            item_handlers=ocp.StandardCheckpointHandler(),
        )
        self.best = ocp.CheckpointManager(
            os.path.abspath(os.path.join(workdir, "best")),
            options=ocp.CheckpointManagerOptions(
                max_to_keep=1,
                create=True,
                best_fn=lambda metrics: metrics[best_metric],
                best_mode=best_mode,
                multiprocessing_options=_barrier_prefix("best"),
            ),
            item_handlers=ocp.StandardCheckpointHandler(),
        )

    def latest_step(self) -> int | None:
        """The step of the newest periodic checkpoint, or None before the first save."""
        return self.latest.latest_step()

    def best_step(self) -> int | None:
        """The step of the best checkpoint so far (by best_metric and best_mode), or None before the first."""
        return self.best.best_step()

    def save_latest(self, step: int, state: Any) -> None:
        """Saves `state` as step `step` (asynchronously; the oldest beyond `keep` is deleted)."""
        self.latest.save(step, args=ocp.args.StandardSave(state), force=True)

    def save_if_best(self, step: int, state: Any, metrics: dict[str, float]) -> bool:
        """Keeps `state` if metrics[best_metric] is the best so far (orbax ranks them). A non-finite value
        (NaN, inf) is never kept: it is skipped with a warning, so it cannot displace a good checkpoint.
        A step already in best/ (a resumed run that went back past it, e.g. from a checkpoint set aside as
        corrupt) is replaced. Returns whether the state was offered to orbax's ranking."""
        value = float(metrics[self.best_metric])
        if not math.isfinite(value):
            logging.warning(
                "step %d: validation %s is %s; not a best-checkpoint candidate", step, self.best_metric, value
            )
            return False
        if step in self.best.all_steps():
            self.best.delete(step)
        self.best.save(step, args=ocp.args.StandardSave(state), metrics={self.best_metric: value}, force=True)
        return True

    def restore_latest(self, abstract_state: Any) -> Any:
        """The newest periodic checkpoint that loads, restored into the structure of `abstract_state`
        (see restore_newest_loadable: a broken step is set aside; CheckpointError if none loads)."""
        return restore_newest_loadable(self.latest, abstract_state)

    def restore_best(self, abstract_state: Any) -> Any | None:
        """The best state, or None if no evaluation was checkpointed. Raises CheckpointError naming the
        folder when it does not load."""
        step = self.best.best_step()
        if step is None:
            return None
        return restore_newest_loadable(self.best, abstract_state, [step])

    def wait(self) -> None:
        """Blocks until every asynchronous save has been written."""
        self.latest.wait_until_finished()
        self.best.wait_until_finished()

    def close(self) -> None:
        """Waits for pending saves and releases both managers."""
        self.latest.close()
        self.best.close()
