"""Normalizers: turn windowed scores into alignment weights over the allowed keys.

Every normalizer takes scores [batch, query_len, key_len] (float32) and allowed [batch, query_len, key_len]
bool, and returns weights of the same shape with exactly 0 on disallowed keys and an all-zero row when
no key is allowed (never NaN). Each registers itself in NORMALIZERS (registry.py); keyword arguments after
`allowed` (softmax's temperature) are filled from the factored attention's fields of the same name.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from attn_research.attention.registry import NORMALIZERS

Array = jax.Array


def _check(scores: Array, allowed: Array) -> None:
    if scores.shape != allowed.shape:
        raise ValueError(f"scores {scores.shape} and allowed {allowed.shape} must have the same shape")


@NORMALIZERS.register("softmax", equation="a_s = exp(e_s/T) / sum exp(e_s'/T)", source="Bahdanau et al. 2015, eq. 6")
def softmax(scores: Array, allowed: Array, temperature: float = 1.0) -> Array:
    """a_s = exp(e_s / T) / sum_{s' allowed} exp(e_s' / T) (Bahdanau et al. 2015, eq. 6; Luong et al. 2015, eq. 7).

    temperature T > 0 (T < 1 sharpens, T > 1 smooths). Raises ValueError if T <= 0.
    Computed in at least float32 (mixed precision: bfloat16 scores still give float32 weights that sum to 1
    and are exactly 0 where not allowed; float64 scores stay float64).
    """
    _check(scores, allowed)
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    scaled = jnp.where(allowed, scores.astype(jnp.promote_types(scores.dtype, jnp.float32)) / temperature, -jnp.inf)
    row_max = jax.lax.stop_gradient(jnp.max(scaled, axis=-1, keepdims=True))
    row_max = jnp.where(jnp.isfinite(row_max), row_max, 0.0)
    exps = jnp.where(allowed, jnp.exp(scaled - row_max), 0.0)
    total = jnp.sum(exps, axis=-1, keepdims=True)
    return exps / jnp.where(total > 0, total, 1.0)


@NORMALIZERS.register(
    "sparsemax", equation="a = argmin_{p in simplex} norm(p - e)^2", source="Martins & Astudillo 2016, eq. 2"
)
def sparsemax(scores: Array, allowed: Array) -> Array:
    """Euclidean projection of the scores onto the probability simplex (Martins & Astudillo 2016, eq. 2).

    With z sorted decreasingly, k(z) = max{k : 1 + k z_(k) > sum_{j<=k} z_(j)},
    tau = (sum_{j<=k(z)} z_(j) - 1) / k(z), and p_s = max(z_s - tau, 0) (their Algorithm 1).
    Disallowed keys are left out of the projection.
    """
    _check(scores, allowed)
    key_len = scores.shape[-1]
    lowest = jnp.finfo(scores.dtype).min / (4 * key_len)  # stays finite after a cumulative sum
    z = jnp.where(allowed, scores, lowest)
    z_sorted = -jnp.sort(-z, axis=-1)
    k = jnp.arange(1, key_len + 1, dtype=scores.dtype)
    cumsum = jnp.cumsum(z_sorted, axis=-1)
    in_support = (1.0 + k * z_sorted > cumsum) & (z_sorted > lowest)
    support_size = jnp.maximum(jnp.sum(in_support, axis=-1, keepdims=True), 1)
    support_sum = jnp.take_along_axis(cumsum, support_size - 1, axis=-1)
    tau = (support_sum - 1.0) / support_size.astype(scores.dtype)
    return jnp.where(allowed, jnp.maximum(z - tau, 0.0), 0.0)


@NORMALIZERS.register(
    "hardmax", equation="a = one_hot(argmax_s e_s)", source="Xu et al. 2015, sec. 4.1 (argmax of the alignment)"
)
def hardmax(scores: Array, allowed: Array) -> Array:
    """One-hot at argmax_s e_s over allowed keys (first index on ties); zero gradient almost everywhere."""
    _check(scores, allowed)
    masked = jnp.where(allowed, scores, -jnp.inf)
    one_hot = jax.nn.one_hot(jnp.argmax(masked, axis=-1), scores.shape[-1], dtype=scores.dtype)
    return jnp.where(jnp.any(allowed, axis=-1, keepdims=True), one_hot, 0.0)


@NORMALIZERS.register(
    "sigmoid", equation="a_s = sigmoid(e_s) / sum sigmoid(e_s')", source="Chorowski et al. 2015, sec. 2.3"
)
def sigmoid(scores: Array, allowed: Array) -> Array:
    """Smoothed focus of Chorowski et al. (2015), sec. 2.3: a_s = sigma(e_s) / sum_{s' allowed} sigma(e_s').

    The logistic sigmoid replaces exp, so weight spreads over several keys instead of one.
    """
    _check(scores, allowed)
    gates = jnp.where(allowed, jax.nn.sigmoid(scores), 0.0)
    total = jnp.sum(gates, axis=-1, keepdims=True)
    return gates / jnp.where(total > 0, total, 1.0)
