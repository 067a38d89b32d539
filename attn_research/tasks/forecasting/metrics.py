"""The loss and metrics of long-term forecasting: MSE and MAE on the standardized values, averaged over every
window, forecast step and channel (Zhou et al. 2021, sec. 4; Zeng et al. 2023, Table 2)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

Array = jax.Array


def error_sums(forecast: Array, target: Array, weight: Array) -> dict[str, Array]:
    """{"se_sum": sum of squared errors, "ae_sum": sum of absolute errors, "count": values counted} (float32
    scalars) over the windows with weight 1 (weight 0: a padding window, not counted).

    forecast, target: [batch, horizon, channels]; weight: [batch] in {0, 1}. MSE = se_sum / count and
    MAE = ae_sum / count, the mean over windows, steps and channels (every window has H x channels values).
    """
    error = forecast.astype(jnp.float32) - target.astype(jnp.float32)
    per_window = weight.astype(jnp.float32)[:, None, None]
    values = jnp.asarray(error.shape[1] * error.shape[2], jnp.float32)
    return {
        "se_sum": jnp.sum(per_window * error**2),
        "ae_sum": jnp.sum(per_window * jnp.abs(error)),
        "count": jnp.sum(weight.astype(jnp.float32)) * values,
    }


def mean_errors(sums: dict[str, float]) -> dict[str, float]:
    """{"mse", "mae"} from error_sums' sums (added over batches); 0 counted values give NaN."""
    count = sums["count"]
    if count == 0:
        return {"mse": float("nan"), "mae": float("nan")}
    return {"mse": sums["se_sum"] / count, "mae": sums["ae_sum"] / count}
