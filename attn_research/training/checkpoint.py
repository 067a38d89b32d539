"""Orbax checkpoints: the latest ones (periodic, for resuming) and the best by a validation metric."""
from __future__ import annotations

import os
from typing import Any

import orbax.checkpoint as ocp


def _restore(manager: ocp.CheckpointManager, step: int, state: Any) -> Any:
    """Restores step `step` into the structure of `state` (a flax struct, e.g. TrainState).

    A checkpoint written before a field was added to the state (e.g. TrainState.baseline) restores the
    fields it holds; the others keep their values in `state`.
    """
    saved = set(manager.item_metadata(step).keys())
    target = {name: getattr(state, name) for name in saved}
    return state.replace(**manager.restore(step, args=ocp.args.StandardRestore(target)))


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
            options=ocp.CheckpointManagerOptions(max_to_keep=keep, create=True),
            item_handlers=ocp.StandardCheckpointHandler())
        self.best = ocp.CheckpointManager(
            os.path.abspath(os.path.join(workdir, "best")),
            options=ocp.CheckpointManagerOptions(
                max_to_keep=1, create=True, best_fn=lambda metrics: metrics[best_metric], best_mode=best_mode),
            item_handlers=ocp.StandardCheckpointHandler())

    def latest_step(self) -> int | None:
        """The step of the newest periodic checkpoint, or None before the first save."""
        return self.latest.latest_step()

    def save_latest(self, step: int, state: Any) -> None:
        """Saves `state` as step `step` (asynchronously; the oldest beyond `keep` is deleted)."""
        self.latest.save(step, args=ocp.args.StandardSave(state), force=True)

    def save_if_best(self, step: int, state: Any, metrics: dict[str, float]) -> None:
        """Keeps `state` if metrics[best_metric] is the best so far (orbax ranks them)."""
        self.best.save(step, args=ocp.args.StandardSave(state), metrics={self.best_metric: float(metrics[self.best_metric])},
                       force=True)

    def restore_latest(self, abstract_state: Any) -> Any:
        """The newest periodic checkpoint, restored into the structure of `abstract_state`."""
        return _restore(self.latest, self.latest.latest_step(), abstract_state)

    def restore_best(self, abstract_state: Any) -> Any | None:
        """The best state, or None if no evaluation was checkpointed."""
        step = self.best.best_step()
        if step is None:
            return None
        return _restore(self.best, step, abstract_state)

    def wait(self) -> None:
        """Blocks until every asynchronous save has been written."""
        self.latest.wait_until_finished()
        self.best.wait_until_finished()

    def close(self) -> None:
        """Waits for pending saves and releases both managers."""
        self.latest.close()
        self.best.close()
