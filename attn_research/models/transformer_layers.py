"""The Transformer's encoder and decoder layers (Vaswani et al. 2017, sec. 3.1-3.3, 5.4).

Every sub-layer (self-attention, cross-attention, feed-forward) sits in a residual connection with
layer normalization, in one of two places (`norm`):
    'post'  LayerNorm(x + Dropout(Sublayer(x)))      the paper's sec. 3.1 and 5.4
    'pre'   x + Dropout(Sublayer(LayerNorm(x)))      (Wang et al. 2019; Xiong et al. 2020); the model adds a
                                                      final LayerNorm after the last layer of each stack
The attention is `attn_research.attention.MultiHeadAttention` (sec. 3.2.2) with h heads and
d_v = d_model / h and d_k = key_dim (0: d_model / h).
The encoder layer's normalizer (`normalization`, sublayer_norm): 'layer', LayerNorm over d_model at each position
(Ba et al. 2016), or 'batch', BatchNorm of each d_model feature over the batch and the positions (Ioffe and
Szegedy 2015; the norm of PatchTST's encoder, Nie et al. 2023, after Zerveas et al. 2021), which evaluation
replaces by its running statistics (the trainer keeps them: TrainState.model_state).
`dtype` (models/precision.py) is the operand dtype of the projections and feed-forward matmuls; the attention
softmax and the norms compute in float32.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from attn_research.attention import MultiHeadAttention

Array = jax.Array
F32 = jnp.float32

NORMS = ("post", "pre")
NORMALIZATIONS = ("layer", "batch")
ACTIVATIONS = {"relu": nn.relu, "gelu": partial(nn.gelu, approximate=False)}
BATCH_NORM_MOMENTUM = 0.9  # running statistics: r <- 0.9 r + 0.1 batch (PyTorch's BatchNorm1d default, momentum 0.1)
BATCH_NORM_EPSILON = 1e-5  # PyTorch's BatchNorm1d default


def sublayer_norm(normalization: str, train: bool, name: str) -> nn.Module:
    """The normalizer of a residual connection, float32: 'layer' nn.LayerNorm over the last axis; 'batch'
    nn.BatchNorm of each feature (last axis) over every other axis, padding positions included (for inputs
    without padding, such as patches), the batch's statistics when train and the running ones otherwise. The
    running variance averages the biased batch variance (PyTorch's, the unbiased one: a factor N / (N - 1) over
    the N values of a feature in a batch, 1 + 3e-5 for PatchTST's 128 windows x 7 channels x 42 patches).
    Raises ValueError for another normalization."""
    if normalization == "layer":
        return nn.LayerNorm(dtype=F32, name=name)
    if normalization == "batch":
        return nn.BatchNorm(
            use_running_average=not train,
            momentum=BATCH_NORM_MOMENTUM,
            epsilon=BATCH_NORM_EPSILON,
            dtype=F32,
            name=name,
        )
    raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}")


def sublayer_input(x: Array, norm: nn.Module, kind: str) -> Array:
    """What a sub-layer reads: x ('post') or LayerNorm(x) ('pre'). x: [batch, length, d_model]."""
    return x if kind == "post" else norm(x)


def sublayer_output(x: Array, y: Array, norm: nn.Module, dropout: Callable[[Array], Array], kind: str) -> Array:
    """The residual connection around a sub-layer output y (sec. 3.1, 5.4), both [batch, length, d_model].

    'post': LayerNorm(x + Dropout(y)); 'pre': x + Dropout(y).
    """
    return norm(x + dropout(y)) if kind == "post" else x + dropout(y)


class FeedForward(nn.Module):
    """FFN(x) = act(x W_1 + b_1) W_2 + b_2 (Vaswani et al. 2017, sec. 3.3, eq. 2: act = max(0, .)), at every position.

    x: [batch, length, d_model] -> [batch, length, d_model]; ff_dim: the inner size d_ff; dtype: matmul operands.
    activation: 'relu' (the paper's) | 'gelu' (exact, x Phi(x): Hendrycks and Gimpel 2016; PatchTST's reference
    code, as PyTorch's F.gelu). dropout: on the inner activations when train (rng 'dropout'; PatchTST's reference
    code). Raises ValueError for another activation.
    """

    ff_dim: int
    dtype: Any = F32
    activation: str = "relu"
    dropout: float = 0.0

    @nn.compact
    def __call__(self, x: Array, *, train: bool = False) -> Array:
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {tuple(ACTIVATIONS)}, got {self.activation!r}")
        hidden = ACTIVATIONS[self.activation](nn.Dense(self.ff_dim, dtype=self.dtype, name="inner")(x))
        if self.dropout > 0.0:
            hidden = nn.Dropout(self.dropout)(hidden, deterministic=not train)
        return nn.Dense(x.shape[-1], dtype=self.dtype, name="outer")(hidden)


def _attention(
    d_model: int,
    heads: int,
    key_dim: int,
    dropout: float,
    name: str,
    *,
    causal: bool = False,
    return_weights: bool = False,
    residual_scores: bool = False,
    dtype: Any = F32,
) -> MultiHeadAttention:
    """h heads with d_k = key_dim (0: d_model / h) and d_v = d_model / h (Vaswani et al. 2017, Table 3 row B)."""
    qk_dim = heads * key_dim if key_dim else d_model
    return MultiHeadAttention(
        heads=heads,
        qk_dim=qk_dim,
        v_dim=d_model,
        causal=causal,
        dropout_rate=dropout,
        return_weights=return_weights,
        residual_scores=residual_scores,
        dtype=dtype,
        name=name,
    )


class EncoderLayer(nn.Module):
    """Multi-head self-attention, then the position-wise feed-forward network (sec. 3.1, "Encoder").

    __call__(x [batch, src_len, d_model], mask [batch, src_len] bool (True = real token), prior_scores=None, *,
             train) -> [batch, src_len, d_model]. No position attends to padding. Dropout (rate `dropout`) on each
    sub-layer output and (`attention_dropout`) on the attention weights when train=True (rng 'dropout').
    normalization: 'layer' | 'batch' (sublayer_norm; 'batch' keeps running statistics in the 'batch_stats'
    collection). residual_attention: RealFormer's residual attention (MultiHeadAttention.residual_scores): the
    layer adds prior_scores [batch, heads, src_len, src_len] (the previous layer's, None in the first) to its
    attention scores and returns (output, its scores) instead of the output alone. activation, ff_dropout: the
    feed-forward network's (FeedForward). projection_dropout: dropout on the attention's output (after W^O), before
    the sub-layer output's own dropout (PatchTST's reference code has both).
    explicit_weights: the attention computes its weights explicitly (MultiHeadAttention's einsum path, the
    same function) instead of jax.nn.dot_product_attention: on CPU about 1.4x faster at small head sizes
    (d_k = 4, 42 positions; tasks/forecasting/patch.py).
    """

    d_model: int
    heads: int
    ff_dim: int
    dropout: float
    attention_dropout: float
    norm: str
    key_dim: int = 0
    dtype: Any = F32
    explicit_weights: bool = False
    normalization: str = "layer"
    residual_attention: bool = False
    activation: str = "relu"
    ff_dropout: float = 0.0
    projection_dropout: float = 0.0

    @nn.compact
    def __call__(
        self, x: Array, mask: Array, prior_scores: Array | None = None, *, train: bool
    ) -> Array | tuple[Array, Array]:
        def drop(y: Array) -> Array:
            return nn.Dropout(self.dropout)(y, deterministic=not train)

        attention = _attention(
            self.d_model,
            self.heads,
            self.key_dim,
            self.attention_dropout,
            "self_attention",
            return_weights=self.explicit_weights,
            residual_scores=self.residual_attention,
            dtype=self.dtype,
        )
        norm = sublayer_norm(self.normalization, train, "self_attention_norm")
        h = sublayer_input(x, norm, self.norm)
        attended = attention(h, h, h, mask, prior_scores=prior_scores, train=train)
        context = attended.context
        if self.projection_dropout > 0.0:
            context = nn.Dropout(self.projection_dropout)(context, deterministic=not train)
        x = sublayer_output(x, context, norm, drop, self.norm)

        norm = sublayer_norm(self.normalization, train, "feed_forward_norm")
        h = sublayer_input(x, norm, self.norm)
        feed_forward = FeedForward(
            self.ff_dim, dtype=self.dtype, activation=self.activation, dropout=self.ff_dropout, name="feed_forward"
        )
        x = sublayer_output(x, feed_forward(h, train=train), norm, drop, self.norm)
        return (x, attended.state["scores"]) if self.residual_attention else x


class DecoderLayer(nn.Module):
    """Masked self-attention, cross-attention over the encoder output, feed-forward (sec. 3.1, "Decoder").

    __call__(x, memory [batch, src_len, d_model], memory_mask [batch, src_len] bool, cache=None,
             position=None, *, train) -> (y, cache, weights)
      teacher forcing (cache None): x, y [batch, tgt_len, d_model]; target position t attends to the
          positions <= t of x (causal mask); the returned cache is None.
      one decoder step: x, y [batch, 1, d_model] at target position `position` [batch] int32; cache
          [batch, max_len, d_model] holds the self-attention inputs of the earlier positions (zeros
          after them). The step writes its own input at `position` and attends to cache positions
          <= position; the updated cache is returned. A position >= max_len is not written.
      weights: the cross-attention weights [batch, heads, query_len, src_len] float32 when
          return_weights, else None.
    Both modes use the same parameters, so a step-by-step decoder reproduces the parallel one.
    """

    d_model: int
    heads: int
    ff_dim: int
    dropout: float
    attention_dropout: float
    norm: str
    key_dim: int = 0
    dtype: Any = F32
    return_weights: bool = False

    @nn.compact
    def __call__(
        self,
        x: Array,
        memory: Array,
        memory_mask: Array,
        cache: Array | None = None,
        position: Array | None = None,
        *,
        train: bool,
    ) -> tuple[Array, Array | None, Array | None]:
        def drop(y: Array) -> Array:
            return nn.Dropout(self.dropout)(y, deterministic=not train)

        self_attention = _attention(
            self.d_model,
            self.heads,
            self.key_dim,
            self.attention_dropout,
            "self_attention",
            causal=True,
            dtype=self.dtype,
        )
        norm = nn.LayerNorm(dtype=F32, name="self_attention_norm")
        h = sublayer_input(x, norm, self.norm)
        if cache is None:
            keys, state = h, None
        else:
            at_position = jnp.arange(cache.shape[1])[None, :, None] == position[:, None, None]
            cache = jnp.where(at_position, h, cache)
            keys, state = cache, {"position": position}
        x = sublayer_output(x, self_attention(h, keys, keys, None, state, train=train).context, norm, drop, self.norm)

        cross_attention = _attention(
            self.d_model,
            self.heads,
            self.key_dim,
            self.attention_dropout,
            "cross_attention",
            return_weights=self.return_weights,
            dtype=self.dtype,
        )
        norm = nn.LayerNorm(dtype=F32, name="cross_attention_norm")
        h = sublayer_input(x, norm, self.norm)
        attended = cross_attention(h, memory, memory, memory_mask, train=train)
        x = sublayer_output(x, attended.context, norm, drop, self.norm)

        norm = nn.LayerNorm(dtype=F32, name="feed_forward_norm")
        h = sublayer_input(x, norm, self.norm)
        feed_forward = FeedForward(self.ff_dim, dtype=self.dtype, name="feed_forward")
        x = sublayer_output(x, feed_forward(h), norm, drop, self.norm)
        return x, cache, attended.weights
