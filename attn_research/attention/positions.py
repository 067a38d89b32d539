"""Sinusoidal position encodings (Vaswani et al. 2017, sec. 3.5)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

Array = jax.Array


def sinusoidal_positions(positions: Array, dim: int, max_timescale: float = 10_000.0) -> Array:
    """PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)).

    positions: [...] integer or float positions; dim: d_model (even). Returns [..., dim] float32.
    Raises ValueError if dim is odd or < 2.
    """
    if dim < 2 or dim % 2:
        raise ValueError(f"sinusoidal positions need an even dim >= 2, got {dim}")
    i = jnp.arange(dim // 2, dtype=jnp.float32)
    inv_timescale = max_timescale ** (-2.0 * i / dim)
    angles = jnp.asarray(positions, jnp.float32)[..., None] * inv_timescale
    encoding = jnp.stack([jnp.sin(angles), jnp.cos(angles)], axis=-1)  # interleave sin/cos
    return encoding.reshape(angles.shape[:-1] + (dim,))
