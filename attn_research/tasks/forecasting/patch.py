"""Patch attention: PatchTST (Nie et al. 2023, "A Time Series is Worth 64 Words", ICLR, sec. 3.1, Fig. 1),
the supervised PatchTST/42 of Table 3: channel-independent, patches of P = 16 with stride S = 8 over a look-back
of L = 336 (N = (L - P) / S + 2 = 42 patches), a Transformer encoder over the patches, a linear head.

Per window and channel (instance normalization, RevIN without affine parameters, Kim et al. 2022, as the
reference code's revin=1): x' = (x - mean) / sqrt(var + 1e-5) over the look-back; the forecast is scaled back.
The series x' [L] is padded at its end with S copies of its last value and cut into N patches [N, P], each
embedded as W_p p + W_pos[n] (W_pos learned, U(-0.02, 0.02)), then dropout, then the encoder layers of
models/transformer_layers.py, then the head x_hat = W_h flatten(z) + b_h (N * d_model -> H). Every channel
shares every parameter.

Normalization (`normalization`): the reference code's encoder (its defaults: norm "BatchNorm", pre_norm False,
res_attention True) puts BatchNorm after each sub-layer (norm 'post', normalization 'batch'); at evaluation that
is a fixed affine map per feature, which keeps each patch's level, and each layer adds the previous layer's
attention scores to its own (residual_attention, RealFormer's residual attention: models/transformer_layers.py).
Its feed-forward network uses GELU with dropout between its two layers, and its attention's output projection has
dropout of its own (activation, ff_dropout, projection_dropout; the defaults, ReLU and no such dropout, are the
Transformer's).
LayerNorm (normalization 'layer') normalizes each patch token on its own and so removes its level when it sits on
the residual stream: norm 'post', or 'pre' with its final LayerNorm. norm = 'pre' with final_norm = False keeps
LayerNorm inside the sub-layers only, and the head reads the unnormalized residual stream (measured on ETTh1 H
96, 4 epochs at Adam 1e-3 halved from the third: test MSE .391 against .414 for 'post' with LayerNorm).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from attn_research.attention import MultiHeadAttention
from attn_research.models.transformer_layers import EncoderLayer, sublayer_norm
from attn_research.tasks.forecasting.types import ForecastOutput

Array = jax.Array
REVIN_EPS = 1e-5


def num_patches(lookback: int, patch_len: int, stride: int) -> int:
    """N = floor((L - P) / S) + 2: the patches of a look-back of L padded with S copies of its last value.
    Raises ValueError if P > L or P, S < 1."""
    if patch_len < 1 or stride < 1 or patch_len > lookback:
        raise ValueError(
            f"model.patch_len ({patch_len}) and model.stride ({stride}) must be >= 1, patch_len <= data.lookback "
            f"({lookback})"
        )
    return (lookback - patch_len) // stride + 2


def make_patches(series: Array, patch_len: int, stride: int) -> Array:
    """series [batch, L] -> patches [batch, N, P]: padded at the end with S copies of its last value, patch n
    = padded[n S : n S + P] (PatchTST, sec. 3.1, "Patching")."""
    padded = jnp.concatenate([series, jnp.repeat(series[:, -1:], stride, axis=1)], axis=1)
    count = num_patches(series.shape[1], patch_len, stride)
    index = jnp.arange(count)[:, None] * stride + jnp.arange(patch_len)[None, :]
    return padded[:, index]


def _uniform_positions(key: Array, shape: tuple[int, ...], dtype=jnp.float32) -> Array:
    """W_pos drawn from U(-0.02, 0.02), the reference code's learned positional encoding."""
    return jax.random.uniform(key, shape, dtype, minval=-0.02, maxval=0.02)


class PatchAttention(nn.Module):
    """PatchTST (module docstring). lookback [batch, L, channels] -> ForecastOutput(forecast [batch, H,
    channels], None). final_norm: with norm 'pre', a norm after the last encoder layer. normalization: 'layer' |
    'batch' (BatchNorm's statistics over the windows, channels and patches of a batch). residual_attention:
    each encoder layer's attention adds the previous layer's scores. activation, ff_dropout, projection_dropout:
    the encoder layers' (models/transformer_layers.py EncoderLayer). Dropout (rng 'dropout') after the patch
    embedding and in the encoder layers when train."""

    horizon: int
    patch_len: int = 16
    stride: int = 8
    d_model: int = 16
    heads: int = 4
    ff_dim: int = 128
    layers: int = 3
    dropout: float = 0.3
    attention_dropout: float = 0.0
    head_dropout: float = 0.0
    norm: str = "post"
    final_norm: bool = True
    normalization: str = "layer"
    residual_attention: bool = False
    activation: str = "relu"
    ff_dropout: float = 0.0
    projection_dropout: float = 0.0

    @nn.compact
    def __call__(self, lookback: Array, *, train: bool = False) -> ForecastOutput:
        batch, length, channels = lookback.shape
        mean = jnp.mean(lookback, axis=1, keepdims=True)
        scale = jnp.sqrt(jnp.var(lookback, axis=1, keepdims=True) + REVIN_EPS)
        series = jnp.swapaxes((lookback - mean) / scale, 1, 2).reshape(batch * channels, length)
        patches = make_patches(series, self.patch_len, self.stride)  # [batch * channels, N, P]
        count = patches.shape[1]
        positions = self.param("positions", _uniform_positions, (count, self.d_model))
        z = nn.Dense(self.d_model, name="patch_embedding")(patches) + positions
        z = nn.Dropout(self.dropout)(z, deterministic=not train)
        mask = jnp.ones((batch * channels, count), bool)
        scores = None
        for i in range(self.layers):
            layer = EncoderLayer(
                d_model=self.d_model,
                heads=self.heads,
                ff_dim=self.ff_dim,
                dropout=self.dropout,
                attention_dropout=self.attention_dropout,
                norm=self.norm,
                explicit_weights=True,  # the same function, faster on CPU at d_k = 4 (transformer_layers.py)
                normalization=self.normalization,
                residual_attention=self.residual_attention,
                activation=self.activation,
                ff_dropout=self.ff_dropout,
                projection_dropout=self.projection_dropout,
                name=f"encoder_{i}",
            )
            if self.residual_attention:
                z, scores = layer(z, mask, scores, train=train)
            else:
                z = layer(z, mask, train=train)
        if self.norm == "pre" and self.final_norm:
            z = sublayer_norm(self.normalization, train, "encoder_norm")(z)
        flat = nn.Dropout(self.head_dropout)(z.reshape(batch * channels, -1), deterministic=not train)
        forecast = nn.Dense(self.horizon, name="head")(flat).reshape(batch, channels, self.horizon)
        return ForecastOutput(jnp.swapaxes(forecast, 1, 2) * scale + mean, None)


def patch_attention_weights(model: PatchAttention, variables: Any, lookback: Array) -> Array:
    """The self-attention weights of the last encoder layer, heads averaged: [batch, channels, N, N] (row n:
    how patch n's encoding reads the patches), with train=False.

    The encoder layers compute their attention without keeping the weights; each MultiHeadAttention call is
    intercepted and the same module, with the same parameters and inputs, is called again with
    return_weights=True (the catalogue's own computation).
    """
    captured: list[Array] = []
    busy = [False]

    def keep_weights(next_fun, args, kwargs, context):
        output = next_fun(*args, **kwargs)
        module = context.module
        if isinstance(module, MultiHeadAttention) and context.method_name == "__call__" and not busy[0]:
            busy[0] = True
            probe = module.clone(parent=None, return_weights=True)
            captured.append(probe.apply({"params": module.variables["params"]}, *args, **kwargs).weights)
            busy[0] = False
        return output

    with nn.intercept_methods(keep_weights):
        model.apply(variables, lookback, train=False)
    batch, _, channels = lookback.shape
    weights = jnp.mean(captured[-1], axis=1)  # [batch * channels, N, N]
    return weights.reshape(batch, channels, *weights.shape[1:])
