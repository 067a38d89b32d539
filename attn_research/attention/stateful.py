"""Shared parts of the stateful attentions (location-aware, coverage, forward, multi-head additive).

A stateful attention is a recursion over the queries: step i reads the state left by step i - 1 (the
previous alignment, the coverage vector, ...). The modules write that recursion once, as a step function
over one query, and run it with `scan_queries`: a decoder step (query_len = 1) and a teacher-forced
parallel call (query_len > 1, state None = the initial state) then compute exactly the same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from attn_research import validation

Array = jax.Array
F32 = jnp.float32


def check_inputs(query: Array | None, keys: Array, values: Array) -> None:
    """Raises ValueError unless query [batch, query_len, query_dim] (or None), keys [batch, key_len, key_dim]
    and values [batch, key_len, value_dim] are 3-D and agree in batch and key_len."""
    if (query is not None and query.ndim != 3) or keys.ndim != 3 or values.ndim != 3:
        raise ValueError(
            "query, keys and values must be [batch, length, dim] arrays, got shapes "
            f"{getattr(query, 'shape', None)}, {keys.shape}, {values.shape}"
        )
    if keys.shape[:2] != values.shape[:2]:
        raise ValueError(f"keys {keys.shape} and values {values.shape} differ in [batch, key_len]")
    if query is not None and query.shape[0] != keys.shape[0]:
        raise ValueError(f"query {query.shape} and keys {keys.shape} differ in batch")


def check_positive(**sizes: int) -> None:
    """Raises ValueError (validation.check_positive) naming the first of the given sizes that is not > 0."""
    for name, size in sizes.items():
        validation.check_positive(name, size)


def scan_queries(step: Callable[[Any, Any], tuple[Any, Any]], state: Any, per_query: Any) -> tuple[Any, Any]:
    """Runs step(state, x_i) -> (state, y_i) over the queries i = 0 .. query_len - 1 in order (jax.lax.scan).

    per_query: a pytree of [batch, query_len, ...] arrays; step sees their slices x_i [batch, ...].
    Returns (the last state, the pytree of outputs stacked as [batch, query_len, ...]).
    """
    xs = jax.tree.map(lambda x: jnp.swapaxes(x, 0, 1), per_query)
    state, ys = jax.lax.scan(step, state, xs)
    return state, jax.tree.map(lambda y: jnp.swapaxes(y, 0, 1), ys)


def tanh_energy(query_d: Array, keys_d: Array, extra: Array | None, w: Array) -> Array:
    """e_j = w^T tanh(query_d + keys_d[j] + extra[j]): the additive energy of one query against every key.

    query_d [batch, dim] (W s_{i-1}); keys_d [batch, key_len, dim] (V h_j + b); extra: [batch, key_len, dim]
    or [batch, 1, dim] (a location or coverage term) or None; w [dim]. Returns [batch, key_len] float32.
    """
    inner = keys_d + query_d[:, None, :]
    if extra is not None:
        inner = inner + extra
    return jnp.einsum("bkd,d->bk", jnp.tanh(inner), w)


def dense_param(module: nn.Module, name: str, shape: tuple[int, ...]) -> Array:
    """A float32 weight matrix (lecun normal over the second-to-last axis) created on `module`."""
    return module.param(name, nn.initializers.lecun_normal(), shape, F32)


def vector_param(module: nn.Module, name: str, shape: tuple[int, ...]) -> Array:
    """The energy's output vector w, initialized U(-1/sqrt(d), 1/sqrt(d)) like the additive score's v."""
    limit = 1.0 / shape[-1] ** 0.5

    def init(key, shape, dtype=F32):
        return jax.random.uniform(key, shape, dtype, -limit, limit)

    return module.param(name, init, shape, F32)


def projected_keys(
    module: nn.Module, keys: Array, precomputed: Array | None, dim: int, kernel: str, bias: str
) -> Array:
    """The key side of an additive energy, V h_j + b: [batch, key_len, dim] float32 (Bahdanau et al. 2015, eq. 6).

    keys: [batch, key_len, key_dim]. Returns `precomputed` when given (the module's precompute(keys));
    otherwise creates the params `kernel` [key_dim, dim] and `bias` [dim] (zeros) on `module` (call it inside
    the module's nn.compact __call__).
    """
    if precomputed is not None:
        return precomputed
    weight = dense_param(module, kernel, (keys.shape[-1], dim))
    return keys.astype(jnp.float32) @ weight + module.param(bias, nn.initializers.zeros, (dim,), jnp.float32)
