"""A training progress bar: a thin tqdm wrapper showing steps, steps/s, ETA and a few metrics."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import tqdm


def _short(value: Any) -> str:
    try:
        return f"{np.asarray(value).item():.4g}"
    except (TypeError, ValueError):
        return str(value)


class ProgressBar:
    """Wraps tqdm.tqdm; see progress_bar(). Tracks the step itself, so that step and rate() stay
    right when tqdm is disabled."""

    def __init__(self, total_steps: int, initial_step: int = 0, desc: str | None = None, disable: bool | None = None):
        if total_steps < 0 or not 0 <= initial_step <= total_steps:
            raise ValueError(f"need 0 <= initial_step ({initial_step}) <= total_steps ({total_steps})")
        self._bar = tqdm.tqdm(
            total=total_steps,
            initial=initial_step,
            desc=desc,
            unit="step",
            disable=disable,
            dynamic_ncols=True,
            mininterval=1.0,
            smoothing=0.1,
        )
        self.step = initial_step
        self._last = (time.perf_counter(), initial_step)  # (time, step) at the previous update
        self._rate = 0.0

    @property
    def disabled(self) -> bool:
        return bool(self._bar.disable)

    def update(self, n: int = 1, **postfix: Any) -> None:
        """Advances by n steps (n is an increment, as in tqdm); postfix (name=value, e.g.
        loss=0.31) is shown after the bar."""
        now = time.perf_counter()
        self.step += n
        last_time, last_step = self._last
        if now > last_time:
            self._rate = (self.step - last_step) / (now - last_time)
        self._last = (now, self.step)
        if postfix and not self.disabled:
            self._bar.set_postfix({k: _short(v) for k, v in postfix.items()}, refresh=False)
        self._bar.update(n)

    def set_step(self, step: int, **postfix: Any) -> None:
        """Moves the bar to absolute step `step` (e.g. the step just completed)."""
        self.update(step - self.step, **postfix)

    def rate(self) -> float:
        """Steps per second between the last two updates (or creation and the first update);
        0.0 before any update. Works when the bar is disabled."""
        return self._rate

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def metrics_line(step: int, total_steps: int, metrics: dict[str, Any]) -> str:
    """One log line for when the bar is off: 'step 50/300 (17%): loss 1.234, ppl 3.435, ...'.

    metrics: name -> scalar; a "train/" prefix is dropped from names. Values are shown with 4 significant digits.
    """
    values = ", ".join(f"{name.removeprefix('train/')} {_short(value)}" for name, value in metrics.items())
    return f"step {step}/{total_steps} ({100 * step / max(total_steps, 1):.0f}%): {values}"


def progress_bar(
    total_steps: int, initial_step: int = 0, desc: str | None = None, disable: bool | None = None
) -> ProgressBar:
    """A bar over training steps [initial_step, total_steps], with steps/s and ETA from the steps run
    in this process (a resumed run does not count restored steps as fast ones).

    disable: None (default) hides it when stderr is not a TTY (batch jobs, CI); True / False force it.
    When it is hidden (`.disabled`), the caller logs metrics_line() at each log point instead.
    Raises ValueError unless 0 <= initial_step <= total_steps.
    """
    return ProgressBar(total_steps, initial_step, desc, disable)
