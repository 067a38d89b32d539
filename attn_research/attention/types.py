"""The interface every attention module keeps (DESIGN.md, "Interface every attention module keeps")."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

Array = jax.Array


class AttentionOutput(NamedTuple):
    """What every attention module returns.

    context: [batch, query_len, value_dim] the context vector c_t for every query.
    weights: [batch, query_len, key_len] alignment weights a_t(s), or [batch, heads, query_len, key_len].
    state:   the recurrent attention state for the next decoder step (a pytree of arrays), or None.
    """

    context: Array
    weights: Array
    state: Any


def initial_position_state(batch_size: int) -> dict[str, Array]:
    """The state of a stateless attention: the decoder position t of the next query.

    Returns {"position": [batch] int32 zeros}. A call with query_len queries advances it by query_len,
    so a step-by-step decoder and a teacher-forced parallel call see the same positions t = 0, 1, ...
    """
    return {"position": jnp.zeros((batch_size,), jnp.int32)}


def query_positions(state: dict[str, Array] | None, batch_size: int, query_len: int) -> Array:
    """Target positions t of the queries: [batch, query_len] int32 (state position + query index)."""
    offsets = jnp.arange(query_len, dtype=jnp.int32)[None, :]
    if state is None:
        return jnp.broadcast_to(offsets, (batch_size, query_len))
    return state["position"][:, None] + offsets


def default_mask(mask: Array | None, batch_size: int, key_len: int) -> Array:
    """The key mask as [batch, key_len] bool (True = may attend); None means every key is allowed."""
    if mask is None:
        return jnp.ones((batch_size, key_len), bool)
    if mask.shape != (batch_size, key_len):
        raise ValueError(f"mask must have shape [batch, key_len] = {(batch_size, key_len)}, got {mask.shape}")
    return mask.astype(bool)


def context_vector(weights: Array, values: Array) -> Array:
    """c_t = sum_s a_t(s) values_s. weights [batch, query_len, key_len]; values [batch, key_len, value_dim].

    Returns [batch, query_len, value_dim] in the dtype of values.
    """
    return jnp.einsum("bqk,bkd->bqd", weights.astype(values.dtype), values)
