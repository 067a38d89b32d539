"""Multi-head additive and multi-head location-aware attention (ESPnet's AttMultiHeadAdd, AttMultiHeadLoc).

Each head h is an independent additive attention (Bahdanau et al. 2015, eq. 6) or location-aware attention
(Chorowski et al. 2015, eq. 9) with its own projections; the heads' contexts are projected, concatenated and
mixed by W_o, as multi-head attention does (Vaswani et al. 2017, sec. 3.2.2):

    e^h_{i,j} = w_h^T tanh(W_h s_{i-1} + V_h h_j + b_h [+ U_h (F_h * alpha^h_{i-1})_j])
    alpha^h_i = softmax(e^h_i / T) over the real keys
    c_i       = [sum_j alpha^1_{i,j} W_v^1 h_j; ...; sum_j alpha^H_{i,j} W_v^H h_j] W_o
ESPnet scales the energies by 1 / sqrt(dim) (AttMultiHeadAdd) or 2 (AttMultiHeadLoc): temperature T = sqrt(dim)
or 0.5 reproduces them. The location heads start from a zero previous alignment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp

from attn_research.attention import normalizers
from attn_research.attention.location import check_filter_width, convolve_alignment
from attn_research.attention.registry import FAMILIES
from attn_research.attention.settings import fields_from_config
from attn_research.attention.stateful import F32, check_inputs, check_positive, scan_queries, vector_param
from attn_research.attention.types import AttentionOutput, default_mask, initial_position_state

Array = jax.Array


def _head_matrices(module: nn.Module, name: str, shape: tuple[int, ...]) -> Array:
    """One weight matrix per head: [heads, in, out], lecun normal over `in`."""
    return module.param(name, nn.initializers.lecun_normal(batch_axis=0), shape, F32)


@FAMILIES.register(
    "multi_head_additive",
    equation="c = [sum_j a^h_j W_v^h h_j]_h W_o, a^h = softmax(w_h^T tanh(W_h s + V_h h_j + b_h))",
    source="ESPnet AttMultiHeadAdd; Bahdanau et al. 2015, eq. 6",
)
class MultiHeadAdditiveAttention(nn.Module):
    """H independent additive (or location-aware) attentions mixed by W_o (module docstring).

    heads: H. dim: each head's attention dimensionality (also the size of W_v^h h_j). location: add the
    location term U_h (F_h * alpha^h_{i-1}) of Chorowski et al. (2015), eq. 9 (multi_head_location).
    channels, filter_width: each head's location filters. out_dim: size of W_o's output (None: value_dim).
    temperature: T of the softmax.

    __call__(query [batch, query_len, query_dim] (s_{i-1}), keys [batch, key_len, key_dim],
             values [batch, key_len, value_dim], mask [batch, key_len] bool or None, state or None,
             precomputed (V_h h_j + b_h from `precompute`) or None, *, train)
      -> AttentionOutput(context [batch, query_len, out_dim], weights [batch, heads, query_len, key_len]
                         float32, state).
    state: {"alignment": [batch, heads, key_len]} (the previous alignments, zeros initially) with location,
    else {"position": [batch] int32}. The queries are steps i, i+1, ... from `state` (None: init_state),
    so a parallel call equals the steps one at a time. Masked keys get zero weight; a fully masked row
    gives zero weights and a zero context. Params: W [heads, query_dim, dim], V [heads, key_dim, dim],
    b [heads, dim], w [heads, dim], W_v [heads, value_dim, dim], W_o [heads * dim, out_dim]; with location
    F [heads, filter_width, 1, channels], U [heads, channels, dim]. Raises ValueError for sizes < 1, an even
    filter_width or mismatched shapes.
    """

    heads: int = 4
    dim: int = 128
    location: bool = False
    channels: int = 10
    filter_width: int = 31
    out_dim: int | None = None
    temperature: float = 1.0

    NOT_CONFIGURED: ClassVar[tuple[str, ...]] = ("location",)  # the family name decides it

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MultiHeadAdditiveAttention:
        """The module a config describes (keys: the fields; a missing or None key keeps the field's default).
        Raises ValueError as the class docstring says."""
        module = cls(**fields_from_config(cls, config))
        module._check()
        return module

    def _check(self) -> None:
        check_positive(heads=self.heads, dim=self.dim, channels=self.channels)
        check_filter_width(self.filter_width)

    def init_state(self, batch_size: int, key_len: int) -> dict[str, Array]:
        """Zero previous alignments {"alignment": [batch, heads, key_len]} (location), else {"position"}."""
        if self.location:
            return {"alignment": jnp.zeros((batch_size, self.heads, key_len), F32)}
        return initial_position_state(batch_size)

    def precompute(self, keys: Array) -> Array:
        """V_h h_j + b_h [batch, heads, key_len, dim] for keys [batch, key_len, key_dim], once per sentence."""
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
        heads, dim = self.heads, self.dim
        keys_d = precomputed
        if keys_d is None:
            v = _head_matrices(self, "V", (heads, keys.shape[-1], dim))
            b = self.param("b", nn.initializers.zeros, (heads, dim), F32)
            keys_d = jnp.einsum("bki,hid->bhkd", keys.astype(F32), v) + b[None, :, None, :]
        if query is None:  # precompute()
            return keys_d
        batch, query_len, query_dim = query.shape
        key_len, value_dim = keys.shape[1], values.shape[-1]
        key_mask = default_mask(mask, batch, key_len)
        allowed = jnp.broadcast_to(key_mask[:, None, :], (batch, heads, key_len))
        w = vector_param(self, "w", (heads, dim))
        filters = u = None
        if self.location:
            init = nn.initializers.lecun_normal(in_axis=(1, 2), out_axis=3, batch_axis=0)
            filters = self.param("F", init, (heads, self.filter_width, 1, self.channels), F32)
            u = _head_matrices(self, "U", (heads, self.channels, dim))
        w_v = _head_matrices(self, "W_v", (heads, value_dim, dim))
        w_o = self.param("W_o", nn.initializers.lecun_normal(), (heads * dim, self.out_dim or value_dim), F32)
        query_d = jnp.einsum("bqi,hid->bqhd", query.astype(F32), _head_matrices(self, "W", (heads, query_dim, dim)))
        if state is None:
            state = self.init_state(batch, key_len)

        def step(state, query_d):  # query_d [batch, heads, dim]
            inner = keys_d + query_d[:, :, None, :]
            if self.location:
                convolve = jax.vmap(convolve_alignment, in_axes=(1, 0, None), out_axes=1)
                features = convolve(state["alignment"][..., None], filters, key_mask)  # [batch, heads, key_len, C]
                inner = inner + jnp.einsum("bhkc,hcd->bhkd", features, u)
            energy = jnp.einsum("bhkd,hd->bhk", jnp.tanh(inner), w)
            weights = normalizers.softmax(energy, allowed, self.temperature)
            new_state = {"alignment": weights} if self.location else state
            return new_state, weights

        state, weights = scan_queries(step, state, query_d)  # weights [batch, query_len, heads, key_len]
        if not self.location:
            state = {"position": state["position"] + query_len}
        weights = jnp.swapaxes(weights, 1, 2)
        attended = jnp.einsum("bhqk,bkv->bqhv", weights, values.astype(F32))  # sum_j alpha^h_j h_j
        heads_out = jnp.einsum("bqhv,hvd->bqhd", attended, w_v)  # = sum_j alpha^h_j W_v^h h_j
        context = heads_out.reshape(batch, query_len, heads * dim) @ w_o
        return AttentionOutput(context.astype(values.dtype), weights, state)


@FAMILIES.register(
    "multi_head_location",
    equation="multi_head_additive with + U_h (F_h * a^h_{i-1})_j in each head",
    source="ESPnet AttMultiHeadLoc; Chorowski et al. 2015, eq. 9",
)
class MultiHeadLocationAttention(MultiHeadAdditiveAttention):
    """MultiHeadAdditiveAttention with location=True: each head adds U_h (F_h * alpha^h_{i-1}) (Chorowski et al.
    2015, eq. 9; ESPnet's AttMultiHeadLoc). Same fields, params and interface."""

    location: bool = True
