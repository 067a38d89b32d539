"""Coverage attention: the alignment remembers how much of each source position was already attended.

    e_{i,j} = v^T tanh(W_s s_{i-1} + W_h h_j + w_c C_{i-1,j} + b_attn)
    a_i     = softmax(e_i / T) over the real keys
    C_{i,j} = C_{i-1,j} + a_{i,j}                  (C_0 = 0)
            = C_{i-1,j} + a_{i,j} / Phi_j,  Phi_j = N sigmoid(U_f h_j)     (with fertility N > 0)

Tu et al. (2016), "Modeling coverage for neural machine translation", sec. 3.1.1 (linguistic coverage: the
coverage C_{i-1,j} enters the energy through V C_{i-1,j}, here w_c; the fertility Phi_j) and See et al.
(2017), "Get to the point", eqs. 10-11 (c^t = sum_{t'<t} a^{t'}; e_i^t = v^T tanh(W_h h_i + W_s s_t + w_c c_i^t
+ b_attn)). Their coverage loss (See et al., eq. 12) is attn_research.tasks.seq2seq.loss.coverage_loss.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from attn_research.attention import normalizers
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
from attn_research.attention.types import AttentionOutput, context_vector, default_mask

Array = jax.Array


@FAMILIES.register(
    "coverage",
    equation="e_ij = v^T tanh(W_s s_{i-1} + W_h h_j + w_c C_{i-1,j} + b), C_ij = C_{i-1,j} + a_ij (/ Phi_j)",
    source="Tu et al. 2016, sec. 3.1.1; See et al. 2017, eqs. 10-11",
)
class CoverageAttention(nn.Module):
    """Coverage attention of Tu et al. (2016), sec. 3.1.1, and See et al. (2017), eqs. 10-11 (module docstring).

    dim: attention dimensionality. fertility: N of Tu et al.'s Phi_j = N sigmoid(U_f h_j) (0 = no fertility: C sums the
    alignments, as See et al.); temperature: T of the softmax.

    __call__(query [batch, query_len, query_dim] (s_{i-1}), keys [batch, key_len, key_dim] (h_j),
             values [batch, key_len, value_dim], mask [batch, key_len] bool or None, state or None,
             precomputed (W_h h_j + b_attn from `precompute`) or None, *, train)
      -> AttentionOutput(context [batch, query_len, value_dim], weights [batch, query_len, key_len] float32,
                         state {"coverage": C [batch, key_len] float32}).
    The queries are steps i, i+1, ... from `state` (None: C = 0), so a parallel call equals the steps one
    at a time. Masked keys get zero weight and keep zero coverage; a fully masked row gives zero weights
    and a zero context. Params: W_s [query_dim, dim], W_h [key_dim, dim], b_attn [dim], w_c [dim], v [dim],
    U_f [key_dim] (fertility only). Raises ValueError if dim < 1, fertility < 0 or shapes mismatch.
    """

    dim: int = 128
    fertility: float = 0.0
    temperature: float = 1.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> CoverageAttention:
        """The module a config describes (keys: the fields; a missing or None key keeps the field's default).
        Raises ValueError as the class docstring says."""
        module = cls(**fields_from_config(cls, config))
        module._check()
        return module

    def _check(self) -> None:
        check_positive(dim=self.dim)
        if self.fertility < 0:
            raise ValueError(f"fertility N must be >= 0 (0 = none), got {self.fertility}")

    def init_state(self, batch_size: int, key_len: int) -> dict[str, Array]:
        """C_0 = 0: {"coverage": [batch, key_len] float32 zeros}."""
        return {"coverage": jnp.zeros((batch_size, key_len), F32)}

    def precompute(self, keys: Array) -> Array:
        """W_h h_j + b_attn [batch, key_len, dim] for keys [batch, key_len, key_dim], once per source sentence."""
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
        keys_d = projected_keys(self, keys, precomputed, self.dim, "W_h", "b_attn")
        if query is None:  # precompute()
            return keys_d
        batch, _, query_dim = query.shape
        key_len = keys.shape[1]
        key_mask = default_mask(mask, batch, key_len)
        v = vector_param(self, "v", (self.dim,))
        w_c = vector_param(self, "w_c", (self.dim,))
        increment_scale = jnp.ones((batch, key_len), F32)  # 1 / Phi_j
        if self.fertility > 0:
            u_f = vector_param(self, "U_f", (keys.shape[-1],))
            phi = self.fertility * jax.nn.sigmoid(keys.astype(F32) @ u_f)  # Phi_j, Tu et al. sec. 3.1.1
            increment_scale = 1.0 / jnp.maximum(phi, jnp.finfo(F32).tiny)  # finite even if sigmoid underflows
        query_d = query.astype(F32) @ dense_param(self, "W_s", (query_dim, self.dim))
        if state is None:
            state = self.init_state(batch, key_len)

        def step(state, query_d):
            coverage = state["coverage"]
            energy = tanh_energy(query_d, keys_d, coverage[..., None] * w_c, v)
            weights = normalizers.softmax(energy, key_mask, self.temperature)
            return {"coverage": coverage + weights * increment_scale}, weights

        state, weights = scan_queries(step, state, query_d)
        return AttentionOutput(context_vector(weights, values), weights, state)
