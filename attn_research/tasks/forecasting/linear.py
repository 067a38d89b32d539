"""The baselines: Repeat (the last value) and DLinear (Zeng et al. 2023, "Are Transformers Effective for
Time Series Forecasting?", AAAI, sec. 4 "DLinear").

Both read a look-back x [batch, L, channels] and return ForecastOutput(forecast [batch, H, channels], None).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from attn_research.tasks.forecasting.types import ForecastOutput
from attn_research.validation import check_choice, check_positive

Array = jax.Array
LINEAR_INITS = ("torch", "lecun")


def torch_linear_init(fan_in: int):
    """PyTorch nn.Linear's default initialization (the DLinear reference code's, which keeps it): weight and bias
    each uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)] (kaiming_uniform with a = sqrt(5) gives that bound for the
    weight). Returns (kernel_init, bias_init) for flax.linen.Dense. Flax's default (lecun) draws the weight with
    3 times that variance and sets the bias to zero."""
    bound = fan_in**-0.5

    def bias_init(key, shape, dtype=jnp.float32):
        return jax.random.uniform(key, shape, dtype, -bound, bound)

    return nn.initializers.variance_scaling(1 / 3, "fan_in", "uniform"), bias_init


def moving_average(x: Array, kernel: int) -> Array:
    """The trend of DLinear's series decomposition (Zeng et al. 2023, sec. 4; the reference code's moving_avg):
    the mean over a window of `kernel` steps centred on each step, stride 1, the series padded at the front
    with (kernel - 1) // 2 copies of its first value and at the back with as many of its last.

    x: [batch, length, channels] -> [batch, length - ((kernel + 1) % 2), channels] (an odd kernel keeps the
    length; DLinear uses 25). Raises ValueError if kernel < 1.
    """
    check_positive("moving-average kernel", kernel)
    pad = (kernel - 1) // 2
    padded = jnp.concatenate([jnp.repeat(x[:, :1], pad, axis=1), x, jnp.repeat(x[:, -1:], pad, axis=1)], axis=1)
    sums = jnp.cumsum(jnp.pad(padded, ((0, 0), (1, 0), (0, 0))), axis=1)
    return (sums[:, kernel:] - sums[:, :-kernel]) / kernel


class Repeat(nn.Module):
    """Repeat: every forecast step is the look-back's last value, x_hat_{L+h} = x_L (Zeng et al. 2023, Table 2).
    It holds one unused parameter (zero, shape [1], its gradient 0): the trainer reads variables["params"],
    which Flax omits for a module without parameters, and Orbax does not save an empty array."""

    horizon: int

    @nn.compact
    def __call__(self, lookback: Array, *, train: bool = False) -> ForecastOutput:
        del train
        self.param("unused", nn.initializers.zeros, (1,))
        return ForecastOutput(jnp.repeat(lookback[:, -1:], self.horizon, axis=1), None)


class DLinear(nn.Module):
    """DLinear (Zeng et al. 2023, sec. 4): x = trend + remainder, trend = moving_average(x, kernel);
    x_hat = W_t trend + b_t + W_s remainder + b_s, each a linear map over time (L -> H) shared by the channels
    (individual=False, the reference setting for ETT) or one per channel (individual=True). linear_init: "torch"
    (the reference code's PyTorch nn.Linear default, torch_linear_init) or "lecun" (Flax's Dense default).

    lookback [batch, L, channels] -> forecast [batch, H, channels]. Raises ValueError if kernel is even or < 1, or
    for an unknown linear_init.
    """

    horizon: int
    kernel: int = 25
    individual: bool = False
    linear_init: str = "torch"

    @nn.compact
    def __call__(self, lookback: Array, *, train: bool = False) -> ForecastOutput:
        del train
        if self.kernel < 1 or self.kernel % 2 == 0:
            raise ValueError(f"model.moving_average must be odd and >= 1 (it keeps the length), got {self.kernel}")
        check_choice("model.linear_init", self.linear_init, LINEAR_INITS)
        trend = moving_average(lookback, self.kernel)
        remainder = lookback - trend
        forecast = self._over_time(trend, "trend") + self._over_time(remainder, "seasonal")
        return ForecastOutput(forecast, None)

    def _over_time(self, x: Array, name: str) -> Array:
        """A linear map L -> H of each channel's series: [batch, L, channels] -> [batch, H, channels]."""
        series = jnp.swapaxes(x, 1, 2)  # [batch, channels, L]
        inits = {}
        if self.linear_init == "torch":
            kernel_init, bias_init = torch_linear_init(x.shape[1])
            inits = {"kernel_init": kernel_init, "bias_init": bias_init}
        if self.individual:
            channels = x.shape[-1]
            dense = nn.vmap(
                nn.Dense,
                in_axes=1,
                out_axes=1,
                axis_size=channels,
                variable_axes={"params": 0},
                split_rngs={"params": True},
            )(self.horizon, name=name, **inits)
        else:
            dense = nn.Dense(self.horizon, name=name, **inits)
        return jnp.swapaxes(dense(series), 1, 2)
