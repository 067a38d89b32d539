"""What every forecasting model returns."""

from __future__ import annotations

from typing import NamedTuple

import jax


class ForecastOutput(NamedTuple):
    """forecast: [batch, horizon, channels] float32, standardized values.
    attention: [batch, horizon, lookback] float32, the weight each forecast step puts on each look-back step
    (heads averaged), for the models whose forecast reads the look-back through attention; else None."""

    forecast: jax.Array
    attention: jax.Array | None = None
