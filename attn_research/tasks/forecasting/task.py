"""Long-term multivariate forecasting on ETTh1 / ETTh2 (Zhou et al. 2021; the protocol of Zeng et al. 2023 and
Nie et al. 2023): from the look-back x [L, 7] predict the next H hours of all 7 channels, standardized.

Loss: the MSE over the batch's windows, steps and channels. Metrics: MSE and MAE on the standardized values,
averaged over every window of a split and every step and channel (metrics.py). Plots: forecasts against the
truth for a few validation windows (channel OT), and the attention over the look-back (plots.py).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from attn_research.data import tfds_io
from attn_research.data.builders import ett
from attn_research.tasks.base import TASKS, EvalResult, Evaluator, LossOutput, Task
from attn_research.tasks.forecasting import data as windows
from attn_research.tasks.forecasting.metrics import error_sums, mean_errors
from attn_research.tasks.forecasting.models import build_model, check_model, default_model_config, recorded_keys
from attn_research.tasks.forecasting.patch import PatchAttention, patch_attention_weights
from attn_research.tasks.forecasting.plots import plot_forecast, plot_lookback_attention
from attn_research.training.mesh import shard_batch, to_host
from attn_research.training.state import eval_variables
from attn_research.training.steps import eval_step
from attn_research.validation import check_choice

Array = jax.Array
STEP_ARRAYS = ("lookback", "target", "weight")
PLOT_CHANNEL = "OT"  # oil temperature, the usual target of ETT


def default_data_config() -> ml_collections.ConfigDict:
    """config.data: name 'etth1' | 'etth2', lookback L (336), horizon H (96), manual_dir and tfds_dir ('' =
    $ATTN_RESEARCH_DATA_DIR/ett and ~/.cache/attn_research/tfds)."""
    return ml_collections.ConfigDict(
        {"name": "etth1", "lookback": 336, "horizon": 96, "manual_dir": "", "tfds_dir": ""}
    )


class ForecastPlots(NamedTuple):
    """EvalResult.plot_data: a few windows of a split (index: their positions among the split's windows).
    lookback [n, L, channels], target and forecast [n, H, channels]; attention [n, H, L] (forecast step x
    look-back step), [n, channels, N, N] (patch x patch, patch attention) or None."""

    index: np.ndarray
    lookback: np.ndarray
    target: np.ndarray
    forecast: np.ndarray
    attention: np.ndarray | None


@TASKS.register(
    "forecasting",
    equation="x_hat_{L+1..L+H} = f(x_{1..L}); loss 1/(H C) sum_h sum_c (x_hat - x)^2",
    source="Zhou et al. 2021; Zeng et al. 2023, sec. 5; Nie et al. 2023, sec. 4.1",
)
class ForecastingTask(Task):
    """Reads config.data (default_data_config), config.model (models.py), config.eval.batch_size and
    num_heatmaps (windows plotted). Step arrays: lookback [batch, L, 7], target [batch, H, 7] float32, weight
    [batch] (0 for the padding windows of an evaluation batch). Loss metrics (sums): se_sum, ae_sum, count."""

    name = "forecasting"
    rng_streams = ("dropout",)

    @classmethod
    def default_config(cls) -> ml_collections.ConfigDict:
        return ml_collections.ConfigDict({"data": default_data_config(), "model": default_model_config()})

    @classmethod
    def check_config(cls, config) -> None:
        """data.name, lookback and horizon (data.split_starts' errors) and the model (models.check_model)."""
        data = config.data
        check_choice("forecasting data set (data.name)", data.get("name"), windows.DATASETS)
        windows.split_starts(int(data.lookback), int(data.horizon))
        check_model(config.model, int(data.lookback))

    def load_data(self) -> windows.ForecastData:
        return windows.load_forecast_data(self.config.data)

    def build_model(self, data: windows.ForecastData):
        return build_model(self.config.model, data.horizon)

    def train_batches(self, data, batch_size: int, seed: int, epoch: int, fixed_shape: bool) -> list[dict]:
        del fixed_shape  # every batch is full
        return windows.train_batches(data, batch_size, seed, epoch)

    def step_arrays(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        return {name: batch[name] for name in STEP_ARRAYS}

    def model_inputs(self, arrays: Mapping[str, Array]) -> tuple[Array, ...]:
        return (arrays["lookback"],)

    def loss(self, output, arrays: Mapping[str, Array]) -> LossOutput:
        """The MSE of the forecast over the counted windows, steps and channels."""
        sums = error_sums(output.forecast, arrays["target"], arrays["weight"])
        loss = sums["se_sum"] / jnp.maximum(sums["count"], 1.0)
        return LossOutput(loss, sums, {})

    def eval_metrics(self, output, arrays: Mapping[str, Array]) -> dict[str, Array]:
        return error_sums(output.forecast, arrays["target"], arrays["weight"])

    def train_log(self, sums: Mapping[str, float], count: int) -> dict[str, float]:
        """train/mse and train/mae over the log window."""
        return mean_errors(sums)

    def evaluator(self, model, data, mesh) -> ForecastEvaluator:
        return ForecastEvaluator(
            self, model, data, mesh, batch_size=self.config.eval.get("batch_size", self.config.train.batch_size)
        )

    def plots(self, workdir: str, step: int, data, result: EvalResult) -> dict[str, str]:
        """forecasts/step_<step>_window_<i>.png (channel OT) and attention/step_<step>_window_<i>.png."""
        plotted: ForecastPlots | None = result.plot_data
        if plotted is None:
            return {}
        channel = data.channels.index(PLOT_CHANNEL)
        paths = {}
        for i, window in enumerate(plotted.index):
            name = f"step_{step:07d}_window_{i}.png"
            title = f"{data.name} validation window {int(window)}, step {step}"
            paths[f"forecasts/window_{i}"] = plot_forecast(
                plotted.lookback[i, :, channel],
                plotted.target[i, :, channel],
                plotted.forecast[i, :, channel],
                os.path.join(workdir, "forecasts", name),
                channel=PLOT_CHANNEL,
                title=title,
            )
            if plotted.attention is None:
                continue
            if plotted.attention.ndim == 4:  # patch attention: [channels, N, N]
                weights, rows, columns = plotted.attention[i, channel], "patch (query)", "patch (key)"
                title = f"{title}, channel {PLOT_CHANNEL}, last encoder layer"
            else:
                weights, rows, columns = plotted.attention[i], "forecast step", "look-back step"
            paths[f"attention/window_{i}"] = plot_lookback_attention(
                weights, os.path.join(workdir, "attention", name), rows=rows, columns=columns, title=title
            )
        return paths

    def result_fields(self, data) -> dict[str, Any]:
        """The fingerprint of the CSV the prepared data came from (None if downloaded) and the window counts."""
        fingerprint = tfds_io.prepared_fingerprint(
            ett.Ett, windows.DATASETS[data.name], tfds_dir=self.config.data.get("tfds_dir") or None
        )
        return {"data_fingerprint": fingerprint, "windows": {s: int(len(v)) for s, v in data.starts.items()}}

    def recorded_model_config(self) -> dict[str, Any]:
        """config.model reduced to the keys its model reads (models.MODEL_KEYS)."""
        return recorded_keys(self.config.model)


class ForecastEvaluator(Evaluator):
    """MSE and MAE over every window of a split (eval_step on batches of batch_size windows), and the
    forecasts and attention of a few windows for the plots."""

    def __init__(self, task: ForecastingTask, model, data: windows.ForecastData, mesh, *, batch_size: int):
        self.task, self.model, self.data, self.mesh, self.batch_size = task, model, data, mesh, batch_size
        self._predict = jax.jit(lambda variables, lookback: model.apply(variables, lookback, train=False))
        self._patch_attention = None
        if isinstance(model, PatchAttention):
            self._patch_attention = jax.jit(partial(patch_attention_weights, model))

    def evaluate(self, state, split_name: str, keep_plots: int = 0) -> EvalResult:
        """{"loss": MSE, "mse", "mae"} over the split; plot_data: ForecastPlots of `keep_plots` windows spread
        evenly over the split (None when 0)."""
        sums = {"se_sum": 0.0, "ae_sum": 0.0, "count": 0.0}
        for batch in windows.eval_batches(self.data, split_name, self.batch_size):
            sharded = shard_batch(self.task.step_arrays(batch), self.mesh)
            for key, value in to_host(eval_step(state, sharded)).items():
                sums[key] += float(value)
        errors = mean_errors(sums)
        metrics = {"loss": errors["mse"], **errors}
        return EvalResult(metrics, self._plot_data(state, split_name, keep_plots) if keep_plots else None)

    def _plot_data(self, state, split_name: str, count: int) -> ForecastPlots:
        total = len(self.data.starts[split_name])
        index = np.unique(np.linspace(0, total - 1, count).astype(np.int64))
        lookback, target = self.data.windows(split_name, index)
        variables = jax.device_get(eval_variables(state))
        output = jax.device_get(self._predict(variables, lookback))
        attention = output.attention
        if self._patch_attention is not None:
            attention = jax.device_get(self._patch_attention(variables, lookback))
        return ForecastPlots(
            index, lookback, target, np.asarray(output.forecast), None if attention is None else np.asarray(attention)
        )
