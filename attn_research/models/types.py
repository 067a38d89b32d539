"""The pytrees that travel between the encoder, the decoders and the decoding algorithms."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax

Array = jax.Array


class Encoded(NamedTuple):
    """The encoder's result, everything a decoder step reads besides its carry (Seq2Seq.encode).

    annotations:   [batch, src_len, enc_dim] float32, the keys and values of the attention (Bahdanau's h_j),
                   zero at padding positions.
    mask:          [batch, src_len] bool, True = real source token.
    initial_state: one cell carry per decoder layer, from the bridge: h [batch, decoder_hidden] (GRU) or
                   (c, h) (LSTM).
    final_state:   [batch, enc_dim] float32, the encoder's last state [h->_{T_x}; h<-_1] (top layer), which
                   the 'none_input' decoder joins to every input.
    attention_memory: the attention's `precompute(annotations)` (W1 h_j [batch, src_len, d] for the scores
                   with a key projection), computed once per sentence; None otherwise.
    Every leaf has batch as its leading axis, so beam search can tile it (jnp.repeat along axis 0).
    """

    annotations: Array
    mask: Array
    initial_state: tuple[Any, ...]
    final_state: Array
    attention_memory: Any = None


class Seq2SeqOutput(NamedTuple):
    """Seq2Seq.__call__'s result.

    logits:     [batch, tgt_len, target_vocab] float32, unnormalized log-probabilities of y_t.
    alignments: [batch, tgt_len, src_len] float32 alignment weights a_t(s), or None for the decoders without
                attention ('none_state', 'none_input'). Multi-head attention reports the mean over heads.
    A stochastic attention's training estimator reads what it sows (training/terms.py), not this output.
    """

    logits: Array
    alignments: Array | None
