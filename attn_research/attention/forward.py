"""Forward attention (Zhang, Ling & Dai 2018, "Forward attention in sequence-to-sequence acoustic modelling
for speech synthesis", sec. 3): the alignment may only stay on a key or move one key forward per step.

    y_t(n)       = softmax(e_t / T)(n), the content attention
    alpha^_0     = one-hot at the first key
    alpha'_t(n)  = (alpha^_{t-1}(n) + alpha^_{t-1}(n-1)) y_t(n)                          (sec. 3, eqs. 8-11)
                 = ((1 - u_{t-1}) alpha^_{t-1}(n) + u_{t-1} alpha^_{t-1}(n-1)) y_t(n)    (sec. 3.2, transition agent)
    alpha^_t     = alpha'_t / sum_n alpha'_t(n);  c_t = sum_n alpha^_t(n) h_n
    u_t          = sigmoid(W_ta [c_t; q_t] + b_ta), u_0 = 0.5                   (sec. 3.2, eqs. 12-14)

The content energy e_t (forward_score) is location-aware, e_t(n) = w^T tanh(W q_t + V h_n + U (F * alpha^_{t-1})_n
+ b) (as ESPnet's AttForward / AttForwardTA), or additive without the location term. The normalization is
computed as a softmax of e_t / T + log(alpha^_{t-1} mix) over the keys with a non-zero mix, which equals
alpha'_t / sum alpha'_t exactly (y_t's own normalizer cancels) without underflow; ESPnet instead clamps alpha' at 1e-6.
The paper's transition DNN also reads the previous decoder output o_{t-1}, which the common attention
interface does not carry: here it reads [c_t; q_t] with one linear layer (ESPnet's mlp_ta reads all three).
Keys are assumed right-padded: the path starts at key 0 and cannot cross a masked key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from attn_research import validation
from attn_research.attention import normalizers
from attn_research.attention.location import check_filter_width, conv_filters, convolve_alignment
from attn_research.attention.registry import FAMILIES
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
from attn_research.attention.types import AttentionOutput, default_mask

Array = jax.Array

FORWARD_SCORES = ("additive", "location_aware")


@FAMILIES.register(
    "forward",
    equation="a^_t(n) = ((1-u) a^_{t-1}(n) + u a^_{t-1}(n-1)) y_t(n) / Z, u = 1/2 or u_t = sigmoid(W_ta [c_t; q_t] + b_ta)",
    source="Zhang et al. 2018, sec. 3, eqs. 8-14",
)
class ForwardAttention(nn.Module):
    """Forward attention (Zhang et al. 2018, sec. 3, eqs. 8-11) and its transition agent (sec. 3.2, eqs. 12-14).

    dim: attention dimensionality. forward_score: the content energy, one of FORWARD_SCORES. channels,
    filter_width: the location filters F (location_aware). transition_agent: mix with u_{t-1} instead of
    the fixed stay + move sum. temperature: T of y_t's softmax.

    __call__(query [batch, query_len, query_dim] (q_t), keys [batch, key_len, key_dim] (h_n),
             values [batch, key_len, value_dim], mask [batch, key_len] bool or None, state or None,
             precomputed (V h_n + b from `precompute`) or None, *, train)
      -> AttentionOutput(context [batch, query_len, value_dim], weights alpha^ [batch, query_len, key_len]
                         float32, state {"alignment": alpha^ [batch, key_len]} (+ "transition": u [batch])).
    The queries are steps t, t+1, ... from `state` (None: init_state), so a parallel call equals the steps
    one at a time. Rows sum to 1 over the keys the path reached; masked keys get zero weight; a fully
    masked row gives zero weights and a zero context. Params: W [query_dim, dim], V [key_dim, dim], b [dim],
    w [dim], F [filter_width, 1, channels] and U [channels, dim] (location_aware), W_ta [value_dim +
    query_dim] and b_ta [] (transition agent). Raises ValueError for an unknown forward_score, an even
    filter_width, sizes < 1, temperature <= 0 or mismatched shapes.
    """

    dim: int = 128
    channels: int = 10
    filter_width: int = 31
    forward_score: str = "location_aware"
    transition_agent: bool = False
    temperature: float = 1.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ForwardAttention:
        """The module a config describes (keys: the fields; a missing or None key keeps the field's default).
        Raises ValueError as the class docstring says."""
        module = cls(**fields_from_config(cls, config))
        module._check()
        return module

    def _check(self) -> None:
        validation.check_choice("forward_score", self.forward_score, FORWARD_SCORES)
        check_positive(dim=self.dim, channels=self.channels)
        check_filter_width(self.filter_width)
        validation.check_positive("temperature", self.temperature)

    def init_state(self, batch_size: int, key_len: int) -> dict[str, Array]:
        """alpha^_0 = one-hot at key 0 {"alignment": [batch, key_len]} (+ u_0 = 0.5, "transition": [batch])."""
        state = {"alignment": jnp.zeros((batch_size, key_len), F32).at[:, 0].set(1.0)}
        if self.transition_agent:
            state["transition"] = jnp.full((batch_size,), 0.5, F32)
        return state

    def precompute(self, keys: Array) -> Array:
        """V h_n + b [batch, key_len, dim] for keys [batch, key_len, key_dim], once per source sentence."""
        return self(None, keys, keys)

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
        filters = u = w_ta = b_ta = None
        if self.forward_score == "location_aware":
            filters = conv_filters(self, self.filter_width, 1, self.channels)
            u = dense_param(self, "U", (self.channels, self.dim))
        if self.transition_agent:
            w_ta = vector_param(self, "W_ta", (values.shape[-1] + query_dim,))
            b_ta = self.param("b_ta", nn.initializers.zeros, (), F32)
        query_d = query.astype(F32) @ dense_param(self, "W", (query_dim, self.dim))
        if state is None:
            state = self.init_state(batch, key_len)

        def step(state, inputs):
            query_d, query_t = inputs
            previous = state["alignment"]
            location = None
            if filters is not None:
                location = convolve_alignment(previous[..., None], filters, key_mask) @ u
            energy = tanh_energy(query_d, keys_d, location, w) / self.temperature
            moved = jnp.pad(previous, ((0, 0), (1, 0)))[:, :-1]  # alpha^_{t-1}(n - 1)
            if self.transition_agent:
                u_prev = state["transition"][:, None]
                mix = (1.0 - u_prev) * previous + u_prev * moved
            else:
                mix = previous + moved
            allowed = key_mask & (mix > 0)
            weights = normalizers.softmax(energy + jnp.log(jnp.where(allowed, mix, 1.0)), allowed)
            context = jnp.einsum("bk,bkd->bd", weights.astype(values.dtype), values)
            new_state = {"alignment": weights}
            if self.transition_agent:
                features = jnp.concatenate([context.astype(F32), query_t.astype(F32)], axis=-1)
                new_state["transition"] = jax.nn.sigmoid(features @ w_ta + b_ta)
            return new_state, (weights, context)

        state, (weights, context) = scan_queries(step, state, (query_d, query))
        return AttentionOutput(context, weights, state)
