"""The forecasting task's pictures: forecasts against the truth, and the attention over the look-back (forecast
step x look-back step) or over the patches (patch x patch, the OT channel)."""

from __future__ import annotations

import os
import types

import numpy as np
import pytest

from attn_research.tasks.base import EvalResult
from attn_research.tasks.forecasting import ForecastingTask, ForecastPlots
from attn_research.tasks.forecasting.plots import plot_forecast, plot_lookback_attention

CHANNELS = ("HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT")
DATA = types.SimpleNamespace(channels=CHANNELS, name="etth1")


def plot_data(attention) -> ForecastPlots:
    rng = np.random.default_rng(0)
    return ForecastPlots(
        np.array([0, 9]), rng.normal(size=(2, 12, 7)), rng.normal(size=(2, 4, 7)), np.zeros((2, 4, 7)), attention
    )


@pytest.mark.parametrize(
    "attention, pictures",
    [(None, 2), (np.full((2, 4, 12), 1 / 12), 4), (np.full((2, 7, 3, 3), 1 / 3), 4)],
    ids=["no attention", "look-back", "patches"],
)
def test_task_plots_forecasts_and_attention_pictures(tmp_path, attention, pictures):
    task = ForecastingTask(ForecastingTask.default_config())
    paths = task.plots(str(tmp_path), 5, DATA, EvalResult({}, plot_data(attention)))
    assert len(paths) == pictures and all(os.path.getsize(p) > 1000 for p in paths.values())
    assert paths["forecasts/window_1"].endswith(os.path.join("forecasts", "step_0000005_window_1.png"))


def test_plots_reject_mismatched_shapes(tmp_path):
    with pytest.raises(ValueError, match="differ"):
        plot_forecast(np.zeros(5), np.zeros(3), np.zeros(4), str(tmp_path / "f.png"), channel="OT")
    with pytest.raises(ValueError, match=r"\[queries, keys\]"):
        plot_lookback_attention(np.zeros((2, 3, 4)), str(tmp_path / "a.png"), rows="step", columns="step")
