"""Ancestral sampling with temperature, top-k and top-p (nucleus) filtering.

    y_0 = BOS; y_t ~ softmax(filter(logits_t / T)) for t = 1..max_len,

where filter keeps the k most probable tokens (top-k; Fan et al. 2018, sec. 5.4) and then the smallest
set of most probable tokens whose probability reaches p (top-p / nucleus sampling; Holtzman et al. 2020,
sec. 3.1, eq. 2), setting the other logits to -inf. Temperature T = 0 is greedy search (argmax), handled
explicitly; T -> 0 approaches it.

Works with any model that has the Seq2Seq step interface (`encode`, `init_carry`, `decode_step`), as
greedy.py: one `jax.lax.scan` over max_len, so the whole sampler compiles into one program.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from attn_research.decoding.greedy import start_decoding

Array = jax.Array

__all__ = ["filter_logits", "sample"]


def filter_logits(logits: Array, *, top_k: int = 0, top_p=1.0) -> Array:
    """Top-k then top-p filtering of logits [..., V]: the removed tokens get -inf.

    top_k: keep the k largest logits (static int; 0 = no top-k). Tokens tied with the k-th largest are kept.
    top_p: keep the most probable tokens up to and including the first one at which the cumulative
    probability (of the distribution left by top-k) reaches top_p; the most probable token is always kept.
    1.0 = no top-p. May be traced. Raises ValueError if top_k < 0 or top_k > V.
    """
    vocab = logits.shape[-1]
    if top_k < 0 or top_k > vocab:
        raise ValueError(f"top_k must be in [0, {vocab}], got {top_k}")
    if top_k > 0:
        kth = jax.lax.top_k(logits, top_k)[0][..., -1:]
        logits = jnp.where(logits < kth, -jnp.inf, logits)
    top_p = jnp.asarray(top_p, jnp.float32)
    sorted_logits = jnp.sort(logits, axis=-1)[..., ::-1]  # descending
    probs = jax.nn.softmax(sorted_logits, axis=-1)
    before = jnp.cumsum(probs, axis=-1) - probs  # probability mass of the more probable tokens
    keep = (before < top_p) | (top_p >= 1.0)
    keep = keep.at[..., 0].set(True)
    threshold = jnp.min(jnp.where(keep, sorted_logits, jnp.inf), axis=-1, keepdims=True)
    return jnp.where(logits < threshold, -jnp.inf, logits)


def sample(
    model,
    params,
    source: Array,
    source_mask: Array,
    rng: Array,
    *,
    max_len: int,
    bos_id: int,
    eos_id: int,
    temperature=1.0,
    top_k: int = 0,
    top_p=1.0,
):
    """Samples one target sequence per source (module docstring).

    model: a Seq2Seq (unbound). params: the variables from model.init (or their 'params' tree).
    source [batch, src_len] int32; source_mask [batch, src_len] bool (True = real token).
    rng: a jax.random key; the same key gives the same samples. max_len: tokens produced (static).
    temperature: T >= 0 (0 = argmax, i.e. greedy_decode); top_k: static int, 0 = off; top_p in (0, 1],
    1 = off. temperature and top_p may be traced.
    Returns (tokens [batch, max_len] int32, alignments [batch, max_len, src_len] float32), with greedy
    decoding's conventions: eos after the first eos, zero alignments after the step that emits eos.
    Jit-compilable: jax.jit(sample, static_argnames=('model', 'max_len', 'bos_id', 'eos_id', 'top_k')).
    Raises ValueError if max_len < 1 or top_k is outside [0, V].
    """
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len}")
    if top_k < 0:
        raise ValueError(f"top_k must be >= 0, got {top_k}")
    variables, encoded, carry = start_decoding(model, params, source, source_mask)
    cls = type(model)
    batch = source.shape[0]
    temperature = jnp.asarray(temperature, jnp.float32)
    greedy = temperature == 0.0

    def step(state, key):
        carry, token, finished = state
        carry, logits, weights = model.apply(variables, encoded, carry, token, method=cls.decode_step)
        logits = logits.astype(jnp.float32)
        scaled = logits / jnp.where(greedy, 1.0, temperature)
        drawn = jax.random.categorical(key, filter_logits(scaled, top_k=top_k, top_p=top_p), axis=-1)
        predicted = jnp.where(greedy, jnp.argmax(logits, axis=-1), drawn).astype(jnp.int32)
        predicted = jnp.where(finished, jnp.int32(eos_id), predicted)
        weights = jnp.where(finished[:, None], 0.0, weights).astype(jnp.float32)
        finished = finished | (predicted == eos_id)
        return (carry, predicted, finished), (predicted, weights)

    start = (carry, jnp.full((batch,), bos_id, jnp.int32), jnp.zeros((batch,), bool))
    _, (tokens, alignments) = jax.lax.scan(step, start, jax.random.split(rng, max_len))
    return jnp.swapaxes(tokens, 0, 1), jnp.swapaxes(alignments, 0, 1)
