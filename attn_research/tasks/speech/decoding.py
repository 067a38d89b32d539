"""Decode-time windowing of the attention around the previous alignment's median (Chorowski et al. 2015,
sec. 2.3): at output step i only the encoder steps j with p_{i-1} - w_l <= j <= p_{i-1} + w_r are attended,

    p_{i-1} = min { j : sum_{k <= j} alpha_{i-1, k} >= 1/2 }     (the median of the previous alignment; p_0 = 0)

It works with any attention of the catalogue and changes no module: each step reads the model's Encoded with
its mask narrowed to the window (the attention never sees the other steps), through the same `decode_step`
greedy and beam search call (decoding/greedy.py's start_decoding gives the encoding and the first carry).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from attn_research.decoding.greedy import start_decoding

Array = jax.Array


def alignment_median(weights: Array) -> Array:
    """p = min { j : cumsum(weights)_j >= 1/2 } per row: weights [batch, enc_len] -> [batch] int32 (0 for an
    all-zero row)."""
    reached = jnp.cumsum(weights.astype(jnp.float32), axis=-1) >= 0.5
    return jnp.where(jnp.any(reached, axis=-1), jnp.argmax(reached, axis=-1), 0).astype(jnp.int32)


def median_window(median: Array, mask: Array, left: int, right: int) -> Array:
    """mask & (median - left <= j <= median + right): median [batch] int32, mask [batch, enc_len] bool."""
    j = jnp.arange(mask.shape[-1])[None, :]
    return mask & (j >= median[:, None] - left) & (j <= median[:, None] + right)


def windowed_greedy_decode(
    model, params, source: Array, source_mask: Array, *, max_len: int, bos_id: int, eos_id: int, left: int, right: int
) -> tuple[Array, Array]:
    """Greedy search (as decoding.greedy.greedy_decode) with the attention of step i restricted to the window
    [p_{i-1} - left, p_{i-1} + right] of encoder steps (module docstring). source [batch, frames, dim],
    source_mask [batch, frames]. Returns (tokens [batch, max_len] int32, alignments [batch, max_len, enc_len]
    float32); after a sequence's first eos its tokens are eos and its alignments zero. Raises ValueError if
    max_len < 1 or left, right < 0."""
    if max_len < 1 or left < 0 or right < 0:
        raise ValueError(f"max_len must be >= 1 and the window sides >= 0, got {max_len}, {left}, {right}")
    variables, encoded, carry = start_decoding(model, params, source, source_mask)
    cls = type(model)
    batch = source.shape[0]

    def step(state, _):
        carry, token, finished, median = state
        narrowed = encoded._replace(mask=median_window(median, encoded.mask, left, right))
        carry, logits, weights = model.apply(variables, narrowed, carry, token, method=cls.decode_step)
        predicted = jnp.where(finished, jnp.int32(eos_id), jnp.argmax(logits, axis=-1).astype(jnp.int32))
        weights = jnp.where(finished[:, None], 0.0, weights).astype(jnp.float32)
        median = jnp.where(finished, median, alignment_median(weights))
        return (carry, predicted, finished | (predicted == eos_id), median), (predicted, weights)

    zeros = jnp.zeros((batch,), jnp.int32)
    start = (carry, jnp.full((batch,), bos_id, jnp.int32), jnp.zeros((batch,), bool), zeros)
    _, (tokens, alignments) = jax.lax.scan(step, start, None, length=max_len)
    return jnp.swapaxes(tokens, 0, 1), jnp.swapaxes(alignments, 0, 1)
