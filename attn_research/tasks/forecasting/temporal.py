"""A recurrent encoder and a decoder with temporal attention over its states (Qin et al. 2017, "A Dual-Stage
Attention-Based Recurrent Neural Network for Time Series Prediction", IJCAI, sec. 3.2 "Decoder with temporal
attention"), forecasting H steps of every channel.

Encoder: a GRU or LSTM over the look-back, h_i = f(h_{i-1}, x_i), i = 1..L (the annotations, keys and values).
Decoder, for t = 1..T, from d_0 = the encoder's final state and y_0 = x_L (the last look-back value):
    c_t = sum_i beta_t^i h_i, beta_t = attention(query = d_{t-1} (the hidden state), keys = h_1..h_L)   eq. 12-14
    y~_t = w~^T [y_{t-1}; c_t] + b~                                                                      eq. 15
    d_t = f(d_{t-1}, y~_t)                                                                               eq. 16
    y_t = V_y (W_y [d_t; c_t] + b_w) + b_v                                                               eq. 22
With step_len s = 1 (Qin et al.) the decoder takes T = H steps, one forecast hour each. With s > 1 each step
forecasts the next s hours at once (y_t: [s * channels], the s hours of every channel; y_0 = x_{L-s+1..L}),
T = ceil(H / s) steps, and the forecast is cut to H hours; all s hours of a step read the same beta_t. This is
a departure from the paper for CPU sizing (configs/forecasting.py: s = 24, one day per step, so H = 720 takes
30 decoder steps instead of 720).
The score is any of the attention catalogue (config.model.attention; Qin et al. use the additive one with the
query [d_{t-1}; s'_{t-1}]; here the query is d_{t-1}, which every score accepts). Differences from the paper:
all channels are inputs and targets (no input attention, which selects among exogenous driving series), and the
decoder feeds its own y_{t-1} back, in training too (the paper predicts one step from known targets).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from attn_research.attention import build_attention
from attn_research.models.cells import hidden_state, make_cell
from attn_research.tasks.forecasting.types import ForecastOutput

Array = jax.Array


class TemporalAttentionStep(nn.Module):
    """One decoder step (eqs. 12-16, 22). carry (cell carry, y_{t-1} [batch, step_len * channels], attention
    state), annotations [batch, L, hidden] and their precomputed key features -> (new carry, (y_t [batch,
    step_len * channels], beta_t [batch, L])). `channels` is the size of y_t (step_len * data channels)."""

    cell: str
    hidden: int
    channels: int
    attention_config: Any

    def setup(self) -> None:
        self.attention = build_attention(self.attention_config)
        self.decoder_input = nn.Dense(self.hidden, name="decoder_input")  # w~, b~ (eq. 15)
        self.decoder_cell = make_cell(self.cell, self.hidden, cell_name="decoder_cell")
        self.hidden_layer = nn.Dense(self.hidden, name="hidden_layer")  # W_y, b_w (eq. 22)
        self.output_layer = nn.Dense(self.channels, name="output")  # V_y, b_v (eq. 22)

    def precompute(self, annotations: Array) -> Any:
        return self.attention.precompute(annotations)

    def init_attention_state(self, batch: int, length: int) -> Any:
        return self.attention.init_state(batch, length)

    def __call__(self, carry, _, annotations: Array, precomputed: Any):
        state, previous, attention_state = carry
        query = hidden_state(self.cell, state)[:, None, :]
        attended = self.attention(
            query, annotations, annotations, None, attention_state, precomputed=precomputed, train=False
        )
        context = attended.context[:, 0]
        state, d = self.decoder_cell(state, self.decoder_input(jnp.concatenate([previous, context], axis=-1)))
        value = self.output_layer(self.hidden_layer(jnp.concatenate([d, context], axis=-1)))
        weights = attended.weights[:, 0]
        return (state, value, attended.state), (value, weights)


class TemporalAttentionForecaster(nn.Module):
    """The encoder and temporal-attention decoder of the module docstring. lookback [batch, L, channels] ->
    ForecastOutput(forecast [batch, H, channels], attention beta [batch, H, L]; with step_len s > 1 the s
    forecast hours of one decoder step share its beta). Raises ValueError if s < 1 or s > L. The attention is
    called with train=False in training too (deterministic families: factored scores, multi-head without
    dropout; a stochastic one, such as hard attention, would not sample). Raises ValueError as build_attention
    does."""

    horizon: int
    cell: str = "lstm"
    hidden: int = 64
    attention_config: Any = None
    step_len: int = 1

    @nn.compact
    def __call__(self, lookback: Array, *, train: bool = False) -> ForecastOutput:
        del train
        batch, length, channels = lookback.shape
        size = self.step_len
        if not 1 <= size <= length:
            raise ValueError(f"model.step_len ({size}) must be in [1, data.lookback = {length}]")
        steps = -(-self.horizon // size)
        encoder = nn.RNN(make_cell(self.cell, self.hidden, cell_name="encoder_cell"), return_carry=True)
        final, annotations = encoder(lookback)
        step = TemporalAttentionStep(self.cell, self.hidden, size * channels, self.attention_config, name="decoder")
        precomputed = step.precompute(annotations)
        start = lookback[:, length - size :].reshape(batch, size * channels)
        carry = (final, start, step.init_attention_state(batch, length))
        scan = nn.scan(
            lambda module, carry, x, annotations, precomputed: module(carry, x, annotations, precomputed),
            variable_broadcast="params",
            split_rngs={"params": False},
            in_axes=(0, nn.broadcast, nn.broadcast),
            out_axes=1,
            length=steps,
        )
        _, (forecast, weights) = scan(step, carry, jnp.zeros((steps,)), annotations, precomputed)
        forecast = forecast.reshape(batch, steps * size, channels)[:, : self.horizon]
        weights = jnp.repeat(weights, size, axis=1)[:, : self.horizon]  # [batch, H, L]
        return ForecastOutput(forecast, weights)
