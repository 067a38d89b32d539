"""Monotonic attention: Raffel et al. (2017), "Online and linear-time attention by enforcing monotonic alignments".

At output step i the decoder scans the memory left to right from where it stopped at step i-1 and stops at
key j with selection probability p_{i,j} = sigmoid(e_{i,j}) (sec. 2.2). Training uses the expected
alignment alpha_{i,j} of that process (sec. 2.3, eqs. 9-14):

    alpha_{i,j} = p_{i,j} sum_{k<=j} alpha_{i-1,k} prod_{l=k}^{j-1} (1 - p_{i,l})                  (eq. 9)
                = p_{i,j} q_{i,j},  q_{i,j} = (1 - p_{i,j-1}) q_{i,j-1} + alpha_{i-1,j}          (eqs. 13-14)

with alpha_0 = one-hot at the first key. sum_j alpha_{i,j} <= 1: the missing mass is the probability of
stopping nowhere (a zero context vector); alpha is not renormalized.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from attn_research.attention.factored import part_module, projects_keys
from attn_research.attention.registry import FAMILIES, SCORES
from attn_research.attention.settings import fields_from_config
from attn_research.attention.stateful import check_inputs, scan_queries
from attn_research.attention.types import AttentionOutput, context_vector, default_mask
from attn_research.validation import check_choice

Array = jax.Array
F32 = jnp.float32

# The scores that compare a query with each key (location ignores the keys; cosine has its own scale).
ENERGY_SCORES = ("dot", "scaled_dot", "general", "multiplicative", "additive", "concat")
MODES = ("recursive", "parallel", "hard")
# The TF implementation's clip of the exclusive cumulative product before dividing by it (appendix C.1).
CUMPROD_FLOOR = 1e-10


def check_energy_arguments(score: str, mode: str) -> None:
    """Raises ValueError naming the valid choices if score is not in ENERGY_SCORES or mode not in MODES."""
    check_choice("monotonic energy score", score, ENERGY_SCORES)
    check_choice("monotonic attention mode", mode, MODES)


class Energy(nn.Module):
    """e_{i,j} = score(s_{i-1}, h_j) + r: one of ENERGY_SCORES plus an optional learned scalar bias r.

    With score 'additive' and normalize=True this is Raffel et al.'s monotonic energy (sec. 2.4)
    g v^T/||v|| tanh(W s_{i-1} + V h_j + b) + r; with normalize=False and bias_init=None, Chiu & Raffel's
    (2018) chunk energy v^T tanh(W s_{i-1} + V h_j).
    score: one of ENERGY_SCORES; dim: attention dimensionality d; normalize: weight normalization of the
    additive score; query_chunk: queries per block of the additive energy; bias_init: initial r, or None
    for no r.

    __call__(query [batch, query_len, query_dim] or None, keys [batch, key_len, key_dim],
             projected_keys [batch, key_len, d] or None) -> [batch, query_len, key_len] float32 energies;
    with query=None, the key projection W1 h_j [batch, key_len, d] (None for scores without one).
    """

    score: str = "additive"
    dim: int = 128
    normalize: bool = False
    query_chunk: int = 64
    bias_init: float | None = None

    @nn.compact
    def __call__(self, query: Array | None, keys: Array, projected_keys: Array | None = None) -> Array | None:
        score = part_module(SCORES, self.score, self)
        if projects_keys(self.score):
            energy = score(query, keys, projected_keys)
        elif query is None:
            return None
        else:
            energy = score(query, keys)
        if query is None:
            return energy
        if self.bias_init is not None:
            energy = energy + self.param("r", nn.initializers.constant(self.bias_init), (), F32)
        return energy


def selection_probabilities(energy: Array, allowed: Array, noise: Array | None = None) -> Array:
    """p_{i,j} = sigmoid(e_{i,j} + noise) on allowed keys, exactly 0 on the others (sec. 2.2, 2.5).

    energy, allowed, noise: [batch, query_len, key_len]; noise is Raffel et al.'s Gaussian pre-sigmoid
    noise (training only), or None.
    """
    if noise is not None:
        energy = energy + noise
    return jnp.where(allowed, jax.nn.sigmoid(energy), 0.0)


def monotonic_recursive(p: Array, previous: Array) -> Array:
    """alpha_i by the recurrence of eqs. 13-14: q_{i,j} = (1 - p_{i,j-1}) q_{i,j-1} + alpha_{i-1,j}, alpha = p q.

    p, previous (alpha_{i-1}): [batch, key_len]. A lax.scan over the key positions (q_{i,0} = 0, p_{i,0} = 0
    before the first key). Exact, but sequential in key_len.
    """

    def step(carry, inputs):
        q_before, p_before = carry
        p_j, previous_j = inputs
        q_j = (1.0 - p_before) * q_before + previous_j
        return (q_j, p_j), p_j * q_j

    zeros = jnp.zeros(p.shape[:-1], p.dtype)
    _, alpha = jax.lax.scan(step, (zeros, zeros), (jnp.moveaxis(p, -1, 0), jnp.moveaxis(previous, -1, 0)))
    return jnp.moveaxis(alpha, 0, -1)


def exclusive_cumprod(x: Array) -> Array:
    """[1, x_0, x_0 x_1, ...] along the last axis, as exp(cumsum(log x)) with x clipped to [tiny, 1]."""
    logs = jnp.log(jnp.clip(x, jnp.finfo(x.dtype).tiny, 1.0))
    cumulative = jnp.cumsum(logs, axis=-1)
    return jnp.exp(jnp.concatenate([jnp.zeros_like(cumulative[..., :1]), cumulative[..., :-1]], axis=-1))


def monotonic_parallel(p: Array, previous: Array) -> Array:
    """alpha_i = p_i * cumprod(1 - p_i) * cumsum(alpha_{i-1} / cumprod(1 - p_i)) (appendix C.1).

    p, previous (alpha_{i-1}): [batch, key_len]. cumprod is exclusive; the divisor is clipped to
    [CUMPROD_FLOOR, 1] as in the TF implementation, so once the product of (1 - p) falls below 1e-10 the
    result drifts from the recursive one.
    """
    cumprod = exclusive_cumprod(1.0 - p)
    return p * cumprod * jnp.cumsum(previous / jnp.clip(cumprod, CUMPROD_FLOOR, 1.0), axis=-1)


def monotonic_hard(p: Array, previous_index: Array) -> tuple[Array, Array]:
    """The hard monotonic process at test time (sec. 2.2, z_{i,j} = 1[p_{i,j} >= 0.5]).

    p: [batch, key_len] (0 on disallowed keys); previous_index t_{i-1}: [batch] int32.
    Attends to the first j >= t_{i-1} with p_{i,j} >= 0.5: returns (one-hot alignment [batch, key_len],
    t_i [batch]). If there is none, the alignment is all zero (zero context) and t_i = t_{i-1}.
    """
    positions = jnp.arange(p.shape[-1], dtype=jnp.int32)
    chosen = (p >= 0.5) & (positions >= previous_index[:, None])
    attended = jnp.any(chosen, axis=-1)
    index = jnp.where(attended, jnp.argmax(chosen, axis=-1).astype(jnp.int32), previous_index)
    alignment = jax.nn.one_hot(index, p.shape[-1], dtype=p.dtype) * attended[:, None].astype(p.dtype)
    return alignment, index


def initial_monotonic_state(batch_size: int, key_len: int) -> dict[str, Array]:
    """{"alignment": alpha_0 [batch, key_len] float32, one-hot at key 0; "index": t_0 [batch] int32 zeros}."""
    alignment = jnp.zeros((batch_size, key_len), F32).at[:, 0].set(1.0)
    return {"alignment": alignment, "index": jnp.zeros((batch_size,), jnp.int32)}


def monotonic_alignments(p: Array, state: dict[str, Array], mode: str) -> tuple[Array, dict[str, Array]]:
    """Runs the recursion over the queries in order: p [batch, query_len, key_len] -> alpha (same shape).

    state: {"alignment": alpha_{i-1} [batch, key_len], "index": t_{i-1} [batch]} before the first query.
    mode: 'recursive' | 'parallel' (expected alignment; the index is carried unchanged) or 'hard'.
    Returns (alpha, the state after the last query).
    """

    def step(carry, p_i):
        if mode == "hard":
            alpha, index = monotonic_hard(p_i, carry["index"])
        else:
            solve = monotonic_recursive if mode == "recursive" else monotonic_parallel
            alpha, index = solve(p_i, carry["alignment"]), carry["index"]
        return {"alignment": alpha, "index": index}, alpha

    state, alpha = scan_queries(step, state, p)
    return alpha, state


@FAMILIES.register(
    "monotonic",
    equation="p_ij = sigmoid(g v^T/norm(v) tanh(W s_{i-1} + V h_j + b) + r + noise); "
    "a_ij = p_ij ((1 - p_{i,j-1}) a_{i,j-1} / p_{i,j-1} + a_{i-1,j}); test: first j >= t_{i-1} with p_ij >= 0.5",
    source="Raffel et al. 2017, sec. 2.2-2.5, eqs. 9-14, appendix C.1",
)
class MonotonicAttention(nn.Module):
    """Raffel et al. (2017): monotonic attention, trained in expectation, decoded online with the hard process.

    score: the energy, one of ENERGY_SCORES (the additive one is weight-normalized, sec. 2.4: g v^T/||v||
    tanh(W s_{i-1} + V h_j + b) + r); dim: attention dimensionality d; mode: how training computes alpha,
    'recursive' (eqs. 13-14), 'parallel' (appendix C.1) or 'hard' (sec. 2.2); noise_std: standard deviation
    of the Gaussian pre-sigmoid noise in training (sec. 2.5; rng 'sampling'); energy_bias_init: initial r
    (negative keeps p small at first, so the alignment does not stick to the first keys; sec. 2.4);
    query_chunk: queries per block of the additive energy.

    __call__(query [batch, query_len, query_dim], keys [batch, key_len, key_dim],
             values [batch, key_len, value_dim], mask [batch, key_len] bool or None, state or None,
             precomputed (from `precompute`) or None, *, train)
      -> AttentionOutput(context [batch, query_len, value_dim], weights alpha [batch, query_len, key_len]
                         float32 with sum_j alpha_{i,j} <= 1, state {"alignment", "index"}).
    train=True computes alpha with `mode`; train=False always runs the hard process (test time, sec. 2.2).
    The queries are processed in order from `state` (init_state's when None), so one call with query_len
    queries equals query_len calls with one query each. Masked keys get p = 0, hence zero weight.
    Raises ValueError for an unknown score or mode, or mismatched shapes.
    """

    score: str = "additive"
    mode: str = "parallel"
    dim: int = 128
    noise_std: float = 1.0
    energy_bias_init: float = -4.0
    query_chunk: int = 64

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MonotonicAttention:
        """The module a config describes (keys: the fields; a missing or None key keeps the field's default).
        Raises ValueError for an unknown score or mode."""
        module = cls(**fields_from_config(cls, config))
        check_energy_arguments(module.score, module.mode)
        return module

    def init_state(self, batch_size: int, key_len: int) -> dict[str, Array]:
        """alpha_0 = one-hot at the first key and t_0 = 0 (initial_monotonic_state)."""
        return initial_monotonic_state(batch_size, key_len)

    def precompute(self, keys: Array) -> Array | None:
        """The energy's key projection W1 h_j [batch, key_len, d] once per sentence, or None (see FactoredAttention.precompute)."""
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
        precomputed: Array | None = None,
        *,
        train: bool = False,
    ) -> AttentionOutput:
        check_energy_arguments(self.score, self.mode)
        check_inputs(query, keys, values)
        energy_module = Energy(
            score=self.score,
            dim=self.dim,
            normalize=True,
            query_chunk=self.query_chunk,
            bias_init=self.energy_bias_init,
            name="energy",
        )
        if query is None:  # precompute(): the key-side projection only
            return energy_module(None, keys)
        batch, key_len = keys.shape[:2]
        energy = energy_module(query, keys, precomputed)  # [batch, query_len, key_len]
        allowed = jnp.broadcast_to(default_mask(mask, batch, key_len)[:, None, :], energy.shape)
        noise = None
        if train and self.noise_std > 0:
            noise = self.noise_std * jax.random.normal(self.make_rng("sampling"), energy.shape, energy.dtype)
        p = selection_probabilities(energy, allowed, noise)
        if state is None:
            state = self.init_state(batch, key_len)
        alpha, state = monotonic_alignments(p, state, self.mode if train else "hard")
        return AttentionOutput(context_vector(alpha, values), alpha, state)
