"""Beam search with the length and coverage penalties of Wu et al. (2016), sec. 7.

Hypotheses Y are ranked by (Wu et al. 2016, sec. 7, eq. 14)

    s(Y, X) = log P(Y | X) / lp(Y) + cp(X; Y)
    lp(Y)    = ((5 + |Y|) / 6) ** alpha                                    alpha = length_penalty
    cp(X; Y) = beta * sum_i log(min(sum_j a_{j,i}, 1.0))                   beta  = coverage_penalty

where |Y| counts the target tokens (eos included), a_{j,i} is the alignment weight of target step j on
source position i, and the sum over i runs over the real (unmasked) source positions only. With alpha = 0
and beta = 0 the score is the plain log-probability (Sutskever et al. 2014, sec. 3.1).

The search keeps `beam_size` hypotheses per sentence. Every step expands each of them by every target
token and keeps the `beam_size` best of the beam_size * V candidates by s(Y, X) (lp and cp evaluated at
the candidate's current length and coverage). A finished hypothesis (one that has emitted eos) stays in
the beam: it is extended only by eos, at zero cost, without growing in length or coverage, so its score
does not change. At the first step only beam 0 is live (the others start at log-probability -inf), so
the beams hold distinct hypotheses. With beam_size = 1 this is exactly greedy search.

Works with any model that has the Seq2Seq step interface (`encode`, `init_carry`, `decode_step`; see
attn_research/models/seq2seq.py): every leaf of the Encoded pytree and of the decoder carry has batch as
its leading axis, so the beams are tiled with jnp.repeat and reordered by gathering along axis 0. One
`jax.lax.scan` over max_len steps, so the whole search compiles into one program.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from attn_research.decoding.greedy import start_decoding

Array = jax.Array

__all__ = ["BeamResult", "beam_search", "coverage_penalty_term", "length_penalty_term", "max_decode_length"]


class BeamResult(NamedTuple):
    """beam_search's n-best lists, best first.

    tokens:     [batch, n_best, max_len] int32; eos after the first eos (a hypothesis that never emitted
                eos within max_len has no eos).
    scores:     [batch, n_best] float32, the ranking score s(Y, X) (eq. 14 of Wu et al. 2016).
    log_probs:  [batch, n_best] float32, log P(Y | X) = the sum of the token log-probabilities, eos included.
    lengths:    [batch, n_best] int32, |Y|: the tokens up to and including eos (max_len if no eos).
    alignments: [batch, n_best, max_len, src_len] float32, the alignment weights of each produced token
                (zero after eos; the step that emits eos keeps its alignment).
    """

    tokens: Array
    scores: Array
    log_probs: Array
    lengths: Array
    alignments: Array


def max_decode_length(source_lengths, a: float = 1.5, b: float = 10.0):
    """The maximum target length a * |x| + b for a source of |x| tokens, rounded up to an integer.

    A common heuristic bound for the decoding length (e.g. OpenNMT's and fairseq's max_len_a / max_len_b).
    source_lengths: an int, or an array of any shape [...] of source lengths |x| (tokens, without padding).
    Returns an int for an int input, else an int32 NumPy array [...]. beam_search and sample need one static
    max_len, so pass e.g. int(max_decode_length(lengths, a, b).max()).
    Raises ValueError if a < 0 or a result is < 1.
    """
    if a < 0:
        raise ValueError(f"a must be >= 0, got {a}")
    lengths = np.asarray(source_lengths)
    out = np.ceil(a * lengths.astype(np.float64) + b).astype(np.int32)
    if np.any(out < 1):
        raise ValueError(f"max_decode_length must be >= 1, got {out.min()} (a={a}, b={b})")
    return int(out) if out.ndim == 0 else out


def length_penalty_term(lengths: Array, alpha) -> Array:
    """lp(Y) = ((5 + |Y|) / 6) ** alpha (Wu et al. 2016, eq. 14). lengths: [...] int; returns [...] float32."""
    return ((5.0 + lengths.astype(jnp.float32)) / 6.0) ** jnp.asarray(alpha, jnp.float32)


def coverage_penalty_term(coverage: Array, source_mask: Array, beta) -> Array:
    """cp(X; Y) = beta * sum_i log(min(sum_j a_{j,i}, 1.0)) (Wu et al. 2016, eq. 14).

    coverage: [..., src_len], the alignment weights summed over target steps j; source_mask: broadcastable
    to coverage, True = real source position (padding is left out of the sum). Returns [...] float32.
    The coverage is floored at float32's smallest normal number before the log, so a position with no
    attention at all costs beta * log(1.2e-38) ~ -87.3 beta rather than -inf (and beta = 0 gives 0, not NaN).
    """
    clipped = jnp.clip(coverage.astype(jnp.float32), jnp.finfo(jnp.float32).tiny, 1.0)
    per_position = jnp.where(source_mask, jnp.log(clipped), 0.0)
    return jnp.asarray(beta, jnp.float32) * per_position.sum(-1)


def beam_search(
    model,
    params,
    source: Array,
    source_mask: Array,
    *,
    beam_size: int,
    max_len: int,
    bos_id: int,
    eos_id: int,
    length_penalty=0.0,
    coverage_penalty=0.0,
    n_best: int = 1,
) -> BeamResult:
    """Beam search for a batch of sources, ranking by Wu et al. (2016), sec. 7, eq. 14 (module docstring).

    model: a Seq2Seq (unbound). params: the variables from model.init (or their 'params' tree).
    source [batch, src_len] int32; source_mask [batch, src_len] bool (True = real token).
    beam_size: hypotheses kept per sentence (static). max_len: target tokens produced (static).
    bos_id: the first decoder input. eos_id: ends a hypothesis.
    length_penalty: alpha >= 0 (0 = none); coverage_penalty: beta >= 0 (0 = none). Both may be traced.
    n_best: hypotheses returned per sentence (static), 1 <= n_best <= beam_size.
    Returns BeamResult (tokens [batch, n_best, max_len], scores, log_probs, lengths [batch, n_best],
    alignments [batch, n_best, max_len, src_len]). The n-best list puts finished hypotheses (those that
    emitted eos) first, best score first, then unfinished ones (only when fewer than n_best finished
    hypotheses survive in the beam), then dead ones (score -inf, when the beam is wider than the number
    of possible hypotheses).
    Jit-compilable: jax.jit(beam_search, static_argnames=('model', 'beam_size', 'max_len', 'bos_id',
    'eos_id', 'n_best')). Raises ValueError if beam_size < 1, max_len < 1 or n_best not in [1, beam_size].
    """
    if beam_size < 1:
        raise ValueError(f"beam_size must be >= 1, got {beam_size}")
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len}")
    if not 1 <= n_best <= beam_size:
        raise ValueError(f"n_best must be in [1, beam_size={beam_size}], got {n_best}")
    source_mask = source_mask.astype(bool)
    variables, encoded, carry = start_decoding(model, params, source, source_mask)
    cls = type(model)
    batch, src_len = source.shape
    k = beam_size

    def tile(x):
        return jnp.repeat(x, k, axis=0)

    encoded = jax.tree.map(tile, encoded)
    carry = jax.tree.map(tile, carry)
    mask = source_mask[:, None, :]  # [batch, 1, src_len]
    alpha = jnp.asarray(length_penalty, jnp.float32)
    beta = jnp.asarray(coverage_penalty, jnp.float32)
    rows = jnp.arange(batch)[:, None]  # [batch, 1]

    def score(log_probs, lengths, coverage):
        return log_probs / length_penalty_term(lengths, alpha) + coverage_penalty_term(coverage, mask, beta)

    state = {
        "carry": carry,
        "last": jnp.full((batch, k), bos_id, jnp.int32),
        "log_probs": jnp.broadcast_to(jnp.where(jnp.arange(k) == 0, 0.0, -jnp.inf), (batch, k)).astype(jnp.float32),
        "lengths": jnp.zeros((batch, k), jnp.int32),
        "finished": jnp.zeros((batch, k), bool),
        "coverage": jnp.zeros((batch, k, src_len), jnp.float32),
        "tokens": jnp.full((batch, k, max_len), eos_id, jnp.int32),
        "alignments": jnp.zeros((batch, k, max_len, src_len), jnp.float32),
    }

    def step(state, t):
        carry, logits, weights = model.apply(
            variables, encoded, state["carry"], state["last"].reshape(-1), method=cls.decode_step
        )
        vocab = logits.shape[-1]
        step_log_probs = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1).reshape(batch, k, vocab)
        finished = state["finished"]
        weights = jnp.where(finished[..., None], 0.0, weights.astype(jnp.float32).reshape(batch, k, src_len))
        eos_only = jnp.where(jnp.arange(vocab) == eos_id, 0.0, -jnp.inf)
        step_log_probs = jnp.where(finished[..., None], eos_only, step_log_probs)
        candidate_log_probs = state["log_probs"][..., None] + step_log_probs  # [batch, k, V]
        lengths = state["lengths"] + (~finished).astype(jnp.int32)  # [batch, k]
        coverage = state["coverage"] + weights  # [batch, k, src_len]
        candidate_scores = (
            candidate_log_probs / length_penalty_term(lengths, alpha)[..., None]
            + coverage_penalty_term(coverage, mask, beta)[..., None]
        )
        _, index = jax.lax.top_k(candidate_scores.reshape(batch, k * vocab), k)  # [batch, k]
        origin = index // vocab
        token = (index % vocab).astype(jnp.int32)
        flat_origin = (rows * k + origin).reshape(-1)
        tokens = state["tokens"][rows, origin].at[:, :, t].set(token)
        alignments = state["alignments"][rows, origin].at[:, :, t].set(weights[rows, origin])
        new_state = {
            "carry": jax.tree.map(lambda x: x[flat_origin], carry),
            "last": token,
            "log_probs": jnp.take_along_axis(candidate_log_probs.reshape(batch, k * vocab), index, axis=1),
            "lengths": lengths[rows, origin],
            "finished": finished[rows, origin] | (token == eos_id),
            "coverage": coverage[rows, origin],
            "tokens": tokens,
            "alignments": alignments,
        }
        return new_state, None

    state, _ = jax.lax.scan(step, state, jnp.arange(max_len))
    scores = score(state["log_probs"], state["lengths"], state["coverage"])
    finite = jnp.isfinite(scores)
    group = jnp.where(finite & state["finished"], 0, jnp.where(finite, 1, 2))
    order = jnp.lexsort((-scores, group), axis=-1)[:, :n_best]  # primary key: group; then best score
    return BeamResult(
        tokens=state["tokens"][rows, order],
        scores=scores[rows, order],
        log_probs=state["log_probs"][rows, order],
        lengths=state["lengths"][rows, order],
        alignments=state["alignments"][rows, order],
    )
