"""Greedy decoding: feed back the most probable token at every step (Sutskever et al. 2014, sec. 3.1,
beam size 1).

    y_0 = BOS; y_t = argmax_y p(y | y_<t, x) for t = 1..max_len.

Works with any model that has the Seq2Seq step interface (`encode`, `init_carry`, `decode_step`; see
attn_research/models/seq2seq.py): one `jax.lax.scan` over max_len, each step a `model.apply(...,
method=model.decode_step)`, so the whole search compiles into one program.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

Array = jax.Array


def _variables(params: Any) -> Any:
    """Accepts the variables dict from model.init ({'params': ...}) or the bare params tree."""
    if hasattr(params, "keys") and "params" in params.keys():
        return params
    return {"params": params}


def start_decoding(model, params: Any, source: Array, source_mask: Array) -> tuple[Any, Any, Any]:
    """What every decoding algorithm starts from: (variables, Encoded, the decoder carry before step 0).

    source [batch, src_len] int32; source_mask [batch, src_len] (cast to bool). params: variables dict or
    bare params. The Encoded and carry pytrees have batch as every leaf's leading axis (models/types.py).
    """
    variables = _variables(params)
    cls = type(model)
    encoded = model.apply(variables, source, source_mask.astype(bool), method=cls.encode)
    carry = model.apply(variables, encoded, method=cls.init_carry)
    return variables, encoded, carry


def greedy_decode(
    model,
    params,
    source: Array,
    source_mask: Array,
    *,
    max_len: int,
    bos_id: int,
    eos_id: int,
    return_logits: bool = False,
):
    """Greedy search for a batch of sources.

    model: a Seq2Seq (unbound). params: the variables from model.init (or their 'params' tree).
    source [batch, src_len] int32; source_mask [batch, src_len] bool (True = real token).
    max_len: number of target tokens produced (static). bos_id: the first decoder input. eos_id: ends a
    sequence.
    Returns (tokens [batch, max_len] int32, alignments [batch, max_len, src_len] float32), plus logits
    [batch, max_len, target_vocab] float32 when return_logits=True (each step's logits, as computed from the
    fed-back tokens). After a sequence's first eos its tokens are eos and its alignments are zero (the step
    that emits eos keeps its alignment); decoders without attention give zero alignments throughout.
    Jit-compilable: jax.jit(greedy_decode, static_argnames=('model', 'max_len', 'bos_id', 'eos_id',
    'return_logits')) (Seq2Seq hashes by its config). Raises ValueError if max_len < 1.
    """
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len}")
    variables, encoded, carry = start_decoding(model, params, source, source_mask)
    cls = type(model)
    batch = source.shape[0]

    def step(state, _):
        carry, token, finished = state
        carry, logits, weights = model.apply(variables, encoded, carry, token, method=cls.decode_step)
        predicted = jnp.argmax(logits, axis=-1).astype(jnp.int32)
        predicted = jnp.where(finished, jnp.int32(eos_id), predicted)
        weights = jnp.where(finished[:, None], 0.0, weights).astype(jnp.float32)
        finished = finished | (predicted == eos_id)
        return (carry, predicted, finished), (predicted, weights, logits.astype(jnp.float32))

    start = (carry, jnp.full((batch,), bos_id, jnp.int32), jnp.zeros((batch,), bool))
    _, (tokens, alignments, logits) = jax.lax.scan(step, start, None, length=max_len)
    tokens = jnp.swapaxes(tokens, 0, 1)
    alignments = jnp.swapaxes(alignments, 0, 1)
    if return_logits:
        return tokens, alignments, jnp.swapaxes(logits, 0, 1)
    return tokens, alignments
