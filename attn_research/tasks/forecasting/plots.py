"""Pictures of a forecasting run: forecasts against the truth, and the attention over the look-back."""

from __future__ import annotations

import os

import numpy as np

from attn_research.logging.figures import new_figure


def plot_forecast(lookback, target, forecast, path: str, *, channel: str, title: str = "") -> str:
    """One channel of one window: the look-back [L] and the truth [H] (black), the forecast [H] (red), against
    the hour (0 = the first forecast step). Saves a PNG at path (folders made) and returns path. Raises
    ValueError if target and forecast differ in length."""
    lookback, target, forecast = (np.asarray(a, np.float32) for a in (lookback, target, forecast))
    if target.shape != forecast.shape:
        raise ValueError(f"target {target.shape} and forecast {forecast.shape} differ")
    hours_back, hours = np.arange(-len(lookback), 0), np.arange(len(target))
    figure = new_figure(figsize=(8, 3))
    axes = figure.subplots()
    axes.plot(hours_back, lookback, color="black", linewidth=0.8, label="look-back")
    axes.plot(hours, target, color="black", linestyle="--", linewidth=0.8, label="truth")
    axes.plot(hours, forecast, color="tab:red", linewidth=1.0, label="forecast")
    axes.axvline(-0.5, color="gray", linewidth=0.5)
    axes.set_xlabel("hour (0 = first forecast step)")
    axes.set_ylabel(f"{channel} (standardized)")
    axes.legend(loc="upper left", fontsize=7)
    axes.set_title(title, fontsize=9)
    return _save(figure, path)


def plot_lookback_attention(weights, path: str, *, rows: str, columns: str, title: str = "") -> str:
    """A heatmap of attention weights [queries, keys] (e.g. forecast step x look-back step, or patch x patch),
    rows down and columns across, with a colour bar. Saves a PNG and returns path. Raises ValueError unless
    weights is 2-D."""
    weights = np.asarray(weights, np.float32)
    if weights.ndim != 2:
        raise ValueError(f"attention weights must be [queries, keys], got shape {weights.shape}")
    figure = new_figure(figsize=(8, 4))
    axes = figure.subplots()
    image = axes.imshow(weights, aspect="auto", cmap="viridis", interpolation="nearest")
    figure.colorbar(image, ax=axes, label="weight")
    axes.set_xlabel(columns)
    axes.set_ylabel(rows)
    axes.set_title(title, fontsize=9)
    return _save(figure, path)


def _save(figure, path: str) -> str:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    return path
