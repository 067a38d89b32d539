"""A vanilla Transformer encoder-decoder for forecasting, in the form of Informer / Autoformer (Zhou et al.
2021, sec. 2 and Fig. 2; Wu et al. 2021) with the attention of Vaswani et al. (2017):

  encoder input: the look-back x [L, channels]; decoder input: its last label_len values, then H zeros (the
  "start token" of Informer, sec. 3.3, eq. 6), [label_len + H, channels];
  each embedded by a linear layer (values -> d_model) plus sinusoidal positions (Vaswani et al. 2017, sec. 3.5),
  then dropout; N encoder layers and M decoder layers of models/transformer_layers.py (decoder self-attention
  causal); a linear layer d_model -> channels; the last H outputs are the forecast, all at once (no
  step-by-step decoding).
Not here: Informer's ProbSparse attention, distilling and calendar (time-stamp) embeddings.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from attn_research.attention import sinusoidal_positions
from attn_research.models.transformer_layers import DecoderLayer, EncoderLayer
from attn_research.tasks.forecasting.types import ForecastOutput

Array = jax.Array


class TransformerForecaster(nn.Module):
    """lookback [batch, L, channels] -> ForecastOutput(forecast [batch, H, channels], attention [batch, H, L]:
    the last decoder layer's cross-attention weights of the H forecast positions, heads averaged).
    Raises ValueError if label_len > L. Dropout (rng 'dropout') when train."""

    horizon: int
    label_len: int = 48
    d_model: int = 512
    heads: int = 8
    ff_dim: int = 2048
    encoder_layers: int = 2
    decoder_layers: int = 1
    dropout: float = 0.05
    attention_dropout: float = 0.0
    norm: str = "post"

    @nn.compact
    def __call__(self, lookback: Array, *, train: bool = False) -> ForecastOutput:
        batch, length, channels = lookback.shape
        if not 0 <= self.label_len <= length:
            raise ValueError(f"model.label_len ({self.label_len}) must be in [0, data.lookback = {length}]")
        start = lookback[:, length - self.label_len :]
        decoder_input = jnp.concatenate([start, jnp.zeros((batch, self.horizon, channels), lookback.dtype)], axis=1)

        def embed(x: Array, name: str) -> Array:
            positions = sinusoidal_positions(jnp.arange(x.shape[1]), self.d_model)
            y = nn.Dense(self.d_model, name=name)(x) + positions[None]
            return nn.Dropout(self.dropout)(y, deterministic=not train)

        sizes = dict(
            d_model=self.d_model,
            heads=self.heads,
            ff_dim=self.ff_dim,
            dropout=self.dropout,
            attention_dropout=self.attention_dropout,
            norm=self.norm,
        )
        memory = embed(lookback, "encoder_embedding")
        mask = jnp.ones((batch, length), bool)
        for i in range(self.encoder_layers):
            memory = EncoderLayer(**sizes, explicit_weights=True, name=f"encoder_{i}")(memory, mask, train=train)
        if self.norm == "pre":
            memory = nn.LayerNorm(name="encoder_norm")(memory)
        y, weights = embed(decoder_input, "decoder_embedding"), None
        for i in range(self.decoder_layers):
            last = i == self.decoder_layers - 1
            y, _, weights = DecoderLayer(**sizes, return_weights=last, name=f"decoder_{i}")(
                y, memory, mask, train=train
            )
        if self.norm == "pre":
            y = nn.LayerNorm(name="decoder_norm")(y)
        forecast = nn.Dense(channels, name="output")(y[:, self.label_len :])
        attention = None if weights is None else jnp.mean(weights[:, :, self.label_len :], axis=1)
        return ForecastOutput(forecast, attention)
