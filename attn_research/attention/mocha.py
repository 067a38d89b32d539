"""Monotonic chunkwise attention (MoChA): Chiu & Raffel (2018), "Monotonic chunkwise attention".

The monotonic attention of Raffel et al. (2017) (monotonic.py) picks where to stop; a softmax over the
chunk of w keys ending there gives the context. In training, with the expected monotonic alignment alpha
(sec. 2.3, eq. 20):

    beta_{i,j} = sum_{k=j}^{j+w-1} alpha_{i,k} exp(u_{i,j}) / sum_{l=k-w+1}^{k} exp(u_{i,l})

where u_{i,j} = ChunkEnergy(s_{i-1}, h_j) is a second energy. At test time the hard monotonic process stops
at t_i and the weights are the softmax of u over keys t_i - w + 1 .. t_i (sec. 2.2); that is eq. 20 with
alpha one-hot at t_i, so both use `chunkwise_weights`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from attn_research.attention.factored import projects_keys
from attn_research.attention.monotonic import (
    Energy,
    MonotonicAttention,
    check_energy_arguments,
    initial_monotonic_state,
)
from attn_research.attention.registry import FAMILIES
from attn_research.attention.settings import fields_from_config
from attn_research.attention.types import AttentionOutput, context_vector, default_mask
from attn_research.validation import check_positive

Array = jax.Array
# Stands for exp(u) = 0 (a disallowed key, or a position outside the sequence) without inf - inf in the
# gradient: exp(FILL - x) underflows to exactly 0 for any energy x of sane size.
FILL = -1e30


def _shifted(x: Array, offsets: range, fill: float) -> Array:
    """[..., key_len, len(offsets)] with x[..., k + o] at [..., k, o] (fill where k + o is outside)."""
    key_len = x.shape[-1]
    pad = max(abs(o) for o in offsets)
    padded = jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(pad, pad)], constant_values=fill)
    return jnp.stack([padded[..., pad + o : pad + o + key_len] for o in offsets], axis=-1)


def chunkwise_weights(alpha: Array, chunk_energy: Array, allowed: Array, chunk_size: int) -> Array:
    """beta of eq. 20 (Chiu & Raffel 2018, sec. 2.3) from the monotonic alignment alpha.

    alpha, chunk_energy u, allowed: [batch, query_len, key_len]; chunk_size: w >= 1.
    The chunk softmax denominators D_k = sum_{l=k-w+1}^{k} exp(u_l) (disallowed keys excluded) are taken
    in log space, log D_k = logsumexp over the w keys ending at k (max-subtraction within each chunk), and
    beta_j = sum_{o<w} alpha_{j+o} exp(u_j - log D_{j+o}). sum_j beta_j = sum_k alpha_k <= 1; disallowed
    keys get exactly 0. Raises ValueError if chunk_size < 1.
    """
    check_positive("chunk_size", chunk_size)
    u = jnp.where(allowed, chunk_energy, FILL)
    log_denominator = jax.nn.logsumexp(_shifted(u, range(0, -chunk_size, -1), FILL), axis=-1)
    # chunks k = j .. j + w - 1 that contain key j; past the end alpha is 0 and exp(u_j + FILL) is 0
    alpha_ahead = _shifted(alpha, range(chunk_size), 0.0)
    log_denominator_ahead = _shifted(log_denominator, range(chunk_size), -FILL)
    beta = jnp.sum(alpha_ahead * jnp.exp(u[..., None] - log_denominator_ahead), axis=-1)
    return jnp.where(allowed, beta, 0.0)


@FAMILIES.register(
    "mocha",
    equation="b_ij = sum_{k=j}^{j+w-1} a_ik exp(u_ij) / sum_{l=k-w+1}^{k} exp(u_il), "
    "a: monotonic; test: softmax(u) over the w keys ending at t_i",
    source="Chiu & Raffel 2018, sec. 2.2-2.3, eq. 20",
)
class MonotonicChunkwiseAttention(nn.Module):
    """Chiu & Raffel (2018): monotonic attention that attends to a chunk of chunk_size keys ending where it stops.

    score, dim, mode, noise_std, energy_bias_init, query_chunk: the monotonic attention's (MonotonicAttention).
    chunk_size: w, the keys in a chunk (w = 1 is monotonic attention; sec. 2.2). The chunk energy u is a
    second energy of the same score, without weight normalization and without r (sec. 2.5).

    __call__(query [batch, query_len, query_dim], keys [batch, key_len, key_dim],
             values [batch, key_len, value_dim], mask [batch, key_len] bool or None, state or None,
             precomputed (from `precompute`) or None, *, train)
      -> AttentionOutput(context [batch, query_len, value_dim], weights beta [batch, query_len, key_len]
                         float32 (sum <= 1), state: the monotonic attention's {"alignment", "index"}).
    train=True: beta of eq. 20 from the expected alignment (`mode`); train=False: the hard monotonic
    process and the chunk softmax over keys t_i - w + 1 .. t_i (zero weights if it stops nowhere).
    Raises ValueError for an unknown score or mode, chunk_size < 1 or mismatched shapes.
    """

    score: str = "additive"
    mode: str = "parallel"
    chunk_size: int = 2
    dim: int = 128
    noise_std: float = 1.0
    energy_bias_init: float = -4.0
    query_chunk: int = 64

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MonotonicChunkwiseAttention:
        """The module a config describes (keys: the fields; a missing or None key keeps the field's default).
        Raises ValueError for an unknown score or mode, or chunk_size < 1."""
        module = cls(**fields_from_config(cls, config))
        check_energy_arguments(module.score, module.mode)
        check_positive("chunk_size", module.chunk_size)
        return module

    def init_state(self, batch_size: int, key_len: int) -> dict[str, Array]:
        """The monotonic attention's: alpha_0 one-hot at the first key, t_0 = 0."""
        return initial_monotonic_state(batch_size, key_len)

    def precompute(self, keys: Array) -> dict[str, Array] | None:
        """{"monotonic", "chunk"}: both energies' key projections [batch, key_len, d], or None (see FactoredAttention.precompute)."""
        if not projects_keys(self.score):
            return None
        return self(None, keys, keys)

    @nn.compact
    def __call__(
        self,
        query: Array | None,
        keys: Array,
        values: Array,
        mask: Array | None = None,
        state: Any = None,
        precomputed: dict[str, Array] | None = None,
        *,
        train: bool = False,
    ) -> AttentionOutput | dict[str, Array]:
        check_energy_arguments(self.score, self.mode)
        monotonic = MonotonicAttention(
            score=self.score,
            mode=self.mode,
            dim=self.dim,
            noise_std=self.noise_std,
            energy_bias_init=self.energy_bias_init,
            query_chunk=self.query_chunk,
            name="monotonic",
        )
        chunk_energy = Energy(
            score=self.score, dim=self.dim, normalize=False, query_chunk=self.query_chunk, name="chunk_energy"
        )
        if query is None:  # precompute(): the key-side projections only
            return {"monotonic": monotonic(None, keys, values), "chunk": chunk_energy(None, keys)}
        precomputed = precomputed or {}
        out = monotonic(query, keys, values, mask, state, precomputed.get("monotonic"), train=train)
        allowed = jnp.broadcast_to(default_mask(mask, keys.shape[0], keys.shape[1])[:, None, :], out.weights.shape)
        u = chunk_energy(query, keys, precomputed.get("chunk"))
        beta = chunkwise_weights(out.weights, u, allowed, self.chunk_size)
        return AttentionOutput(context_vector(beta, values), beta, out.state)
