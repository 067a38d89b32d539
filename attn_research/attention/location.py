"""Location-aware attention (Chorowski et al. 2015, "Attention-based models for speech recognition", sec. 2.2).

    f_i     = F * alpha_{i-1}                                       (eq. 8: `channels` filters of `filter_width`)
    e_{i,j} = w^T tanh(W s_{i-1} + V h_j + U f_{i,j} + b)           (eq. 9)
    alpha_i = softmax(e_i / T) over the real keys                   (eq. 6, T = temperature)
`normalizer` may replace the softmax by another registered normalizer, e.g. 'sigmoid', the smoothed focus
alpha_ij = sigma(e_ij) / sum_j sigma(e_ij) (sec. 2.3).

`location_source` picks what the convolution F reads (ESPnet's attentions.py names in brackets):
    previous     the previous alignment alpha_{i-1}                      (AttLoc, 'location'; the paper)
    cumulative   the sum of all previous alignments, sum_{k<i} alpha_k   (AttCovLoc, 'coverage_location')
    previous_2d  the last `att_win` alignments, oldest first, as `att_win` input channels of F
                 (AttLoc2D, 'location2d': a 2-D filter of height att_win)
    recurrent    an LSTM cell (no bias) reads max_j relu(F * alpha_{i-1})_j and its hidden state
                 z_i [dim] replaces U f_{i,j} for every j                 (AttLocRec, 'location_recurrent')
The initial alignments (and the LSTM state) are zeros, so the first step has no location term (as
Tacotron 2's location-sensitive attention; ESPnet starts from the uniform alignment over the real keys).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from attn_research.attention.factored import normalize
from attn_research.attention.registry import FAMILIES, NORMALIZERS
from attn_research.attention.settings import fields_from_config
from attn_research.attention.stateful import (
    F32,
    check_inputs,
    check_positive,
    dense_param,
    projected_keys,
    scan_queries,
    tanh_energy,
    vector_param,
)
from attn_research.attention.types import AttentionOutput, context_vector, default_mask
from attn_research.validation import check_choice

Array = jax.Array

LOCATION_SOURCES = ("previous", "cumulative", "previous_2d", "recurrent")


def check_filter_width(filter_width: int) -> None:
    """Raises ValueError unless filter_width is odd and >= 1 ('same' padding needs a centre tap)."""
    if filter_width < 1 or filter_width % 2 == 0:
        raise ValueError(f"filter_width must be odd and >= 1, got {filter_width}")


def convolve_alignment(signal: Array, filters: Array, mask: Array) -> Array:
    """Location features f = F * signal (Chorowski et al. 2015, eq. 8), 'same' zero padding along the keys.

    signal: [batch, key_len, in_channels] (alignments, zero at padded keys); filters: [filter_width,
    in_channels, channels], filter_width odd; mask: [batch, key_len] bool. f_j = sum_k sum_r
    F[k, r, :] signal[j + k - (filter_width - 1) / 2, r] (a cross-correlation, as torch's Conv2d).
    Returns [batch, key_len, channels] float32, zero at masked keys.
    """
    pad = (filters.shape[0] - 1) // 2
    features = jax.lax.conv_general_dilated(
        signal.astype(F32), filters, window_strides=(1,), padding=[(pad, pad)], dimension_numbers=("NWC", "WIO", "NWC")
    )
    return jnp.where(mask[..., None], features, 0.0)


def conv_filters(module: nn.Module, filter_width: int, in_channels: int, channels: int) -> Array:
    """The filters F [filter_width, in_channels, channels] (lecun normal over filter_width * in_channels)."""
    init = nn.initializers.lecun_normal(in_axis=(0, 1), out_axis=2)
    return module.param("F", init, (filter_width, in_channels, channels), F32)


def lstm_step(x: Array, h: Array, c: Array, w_x: Array, w_h: Array) -> tuple[Array, Array]:
    """One LSTM cell step without bias (torch.nn.LSTMCell(bias=False), gate order i, f, g, o).

    x [batch, in]; h, c [batch, dim]; w_x [in, 4 dim]; w_h [dim, 4 dim]. Returns (h', c') [batch, dim]:
    c' = sigmoid(f) c + sigmoid(i) tanh(g), h' = sigmoid(o) tanh(c'), [i f g o] = x w_x + h w_h.
    """
    i, f, g, o = jnp.split(x @ w_x + h @ w_h, 4, axis=-1)
    c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
    return jax.nn.sigmoid(o) * jnp.tanh(c), c


@FAMILIES.register(
    "location_aware",
    equation="e_ij = w^T tanh(W s_{i-1} + V h_j + U f_ij + b), f_i = F * a_{i-1} "
    "(location_source: previous, cumulative, previous_2d, recurrent)",
    source="Chorowski et al. 2015, sec. 2.2, eqs. 5-9; ESPnet AttLoc, AttCovLoc, AttLoc2D, AttLocRec",
)
class LocationAwareAttention(nn.Module):
    """Chorowski et al. (2015), sec. 2.2, eqs. 5-9, with the ESPnet variants of the module docstring.

    dim: attention dimensionality (size of W s, V h, U f, b, w). channels: number of filters in F.
    filter_width: odd width of F, in keys. location_source: one of LOCATION_SOURCES. att_win: alignments
    the 'previous_2d' source reads. temperature: T of the softmax (ESPnet's scaling = 1 / T).
    normalizer: a name in NORMALIZERS, 'softmax' (eq. 6) by default; 'sigmoid' is the smoothing of sec. 2.3.

    __call__(query [batch, query_len, query_dim] (s_{i-1}), keys [batch, key_len, key_dim] (h_j),
             values [batch, key_len, value_dim], mask [batch, key_len] bool or None, state or None,
             precomputed (V h_j + b from `precompute`) or None, *, train)
      -> AttentionOutput(context [batch, query_len, value_dim], weights [batch, query_len, key_len] float32,
                         state).
    The queries are steps i, i+1, ... of the recursion from `state` (None: init_state), so a parallel
    call equals the same queries one at a time. state (every leaf batch-first, zeros initially):
    {"alignment": [batch, key_len]} (previous), {"coverage": [batch, key_len]} (cumulative),
    {"alignments": [batch, att_win, key_len]} (previous_2d), {"alignment", "lstm_h": [batch, dim],
    "lstm_c": [batch, dim]} (recurrent). Masked keys get zero weight; a fully masked row gives zero
    weights and a zero context. Params: W [query_dim, dim], V [key_dim, dim], b [dim], w [dim],
    F [filter_width, in_channels, channels], U [channels, dim] (recurrent: lstm_Wx [channels, 4 dim],
    lstm_Wh [dim, 4 dim] instead of U). Raises ValueError for an unknown location_source, an even
    filter_width, sizes < 1 or mismatched shapes.
    """

    dim: int = 128
    channels: int = 10
    filter_width: int = 31
    location_source: str = "previous"
    att_win: int = 5
    temperature: float = 1.0
    normalizer: str = "softmax"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LocationAwareAttention:
        """The module a config describes (keys: the fields; a missing or None key keeps the field's default).
        Raises ValueError as the class docstring says."""
        module = cls(**fields_from_config(cls, config))
        module._check()
        return module

    def _check(self) -> None:
        check_choice("location_source", self.location_source, LOCATION_SOURCES)
        check_choice(NORMALIZERS.kind, self.normalizer, NORMALIZERS)
        check_positive(dim=self.dim, channels=self.channels, att_win=self.att_win)
        check_filter_width(self.filter_width)

    def init_state(self, batch_size: int, key_len: int) -> dict[str, Array]:
        """The state before the first step: zero alignments (and LSTM state); shapes in the class docstring."""
        self._check()
        zeros = jnp.zeros((batch_size, key_len), F32)
        if self.location_source == "cumulative":
            return {"coverage": zeros}
        if self.location_source == "previous_2d":
            return {"alignments": jnp.zeros((batch_size, self.att_win, key_len), F32)}
        if self.location_source == "recurrent":
            lstm = jnp.zeros((batch_size, self.dim), F32)
            return {"alignment": zeros, "lstm_h": lstm, "lstm_c": lstm}
        return {"alignment": zeros}

    def precompute(self, keys: Array) -> Array:
        """V h_j + b [batch, key_len, dim] for keys [batch, key_len, key_dim], once per source sentence."""
        return self(None, keys, keys)

    def _signal(self, state: dict[str, Array]) -> Array:
        """What F convolves: [batch, key_len, in_channels]."""
        if self.location_source == "cumulative":
            return state["coverage"][..., None]
        if self.location_source == "previous_2d":
            return jnp.swapaxes(state["alignments"], 1, 2)
        return state["alignment"][..., None]

    def _next_state(self, state: dict[str, Array], weights: Array, lstm: tuple[Array, Array] | None):
        if self.location_source == "cumulative":
            return {"coverage": state["coverage"] + weights}
        if self.location_source == "previous_2d":
            return {"alignments": jnp.concatenate([state["alignments"][:, 1:], weights[:, None]], axis=1)}
        if self.location_source == "recurrent":
            return {"alignment": weights, "lstm_h": lstm[0], "lstm_c": lstm[1]}
        return {"alignment": weights}

    @nn.compact
    def __call__(
        self,
        query: Array | None,
        keys: Array,
        values: Array,
        mask: Array | None = None,
        state: Any = None,
        precomputed: Array | None = None,
        *,
        train: bool = False,
    ) -> AttentionOutput:
        del train  # deterministic
        self._check()
        check_inputs(query, keys, values)
        keys_d = projected_keys(self, keys, precomputed, self.dim, "V", "b")
        if query is None:  # precompute()
            return keys_d
        batch, _, query_dim = query.shape
        key_len = keys.shape[1]
        key_mask = default_mask(mask, batch, key_len)
        w = vector_param(self, "w", (self.dim,))
        in_channels = self.att_win if self.location_source == "previous_2d" else 1
        filters = conv_filters(self, self.filter_width, in_channels, self.channels)
        u = lstm_x = lstm_h = None
        if self.location_source == "recurrent":
            lstm_x = dense_param(self, "lstm_Wx", (self.channels, 4 * self.dim))
            lstm_h = dense_param(self, "lstm_Wh", (self.dim, 4 * self.dim))
        else:
            u = dense_param(self, "U", (self.channels, self.dim))
        query_d = query.astype(F32) @ dense_param(self, "W", (query_dim, self.dim))  # W s_{i-1}
        if state is None:
            state = self.init_state(batch, key_len)

        def step(state, query_d):
            features = convolve_alignment(self._signal(state), filters, key_mask)  # f_i
            lstm = None
            if self.location_source == "recurrent":
                pooled = jnp.max(jax.nn.relu(features), axis=1)  # masked keys hold 0 <= relu
                lstm = lstm_step(pooled, state["lstm_h"], state["lstm_c"], lstm_x, lstm_h)
                location = lstm[0][:, None, :]
            else:
                location = features @ u
            energy = tanh_energy(query_d, keys_d, location, w)
            weights = normalize(self.normalizer, energy, key_mask, self)  # softmax(e / T) by default
            return self._next_state(state, weights, lstm), weights

        state, weights = scan_queries(step, state, query_d)
        return AttentionOutput(context_vector(weights, values), weights, state)
