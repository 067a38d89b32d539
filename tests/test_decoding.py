"""Tests of beam search, sampling and unknown-word replacement (attn_research/decoding).

Tiny models (vocab 6, dims 8, source length 5, max_len <= 5) filled with N(0, 0.5^2) parameters from the
shapes model.init would create (jax.eval_shape), and programs compiled with XLA's optimizations off, as in
test_models.py. Parameters are traced arguments and the penalties/temperature/top_p are traced too, so
different seeds and settings reuse one compiled program.
"""

from __future__ import annotations

import functools
import itertools
import json

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from attn_research.data import Vocabulary
from attn_research.decoding import (
    BeamResult,
    beam_search,
    filter_logits,
    greedy_decode,
    max_decode_length,
    replace_unknown_words,
    sample,
)
from attn_research.models import Seq2Seq, default_model_config
from tests.helpers import fast_jit

VOCAB = 6
BOS, EOS = 1, 2

SOURCE = jnp.array([[3, 4, 5, 4, 3], [5, 3, 0, 0, 0], [4, 4, 3, 5, 0], [3, 0, 0, 0, 0]], jnp.int32)
MASK = SOURCE > 0
BATCH, SRC_LEN = SOURCE.shape

greedy_jit = fast_jit(greedy_decode, static_argnames=("model", "max_len", "bos_id", "eos_id", "return_logits"))
beam_jit = fast_jit(beam_search, static_argnames=("model", "beam_size", "max_len", "bos_id", "eos_id", "n_best"))
sample_jit = fast_jit(sample, static_argnames=("model", "max_len", "bos_id", "eos_id", "top_k"))

MODELS = {"bahdanau-gru": dict(decoder="bahdanau", cell="gru"), "luong-lstm": dict(decoder="luong", cell="lstm")}


def tiny_config(**overrides) -> ml_collections.ConfigDict:
    config = default_model_config()
    config.embed_dim = 8
    config.encoder_hidden = 4  # enc_dim 8 (bidirectional)
    config.decoder_hidden = 8
    config.dropout = 0.0
    config.attention.dim = 8
    for key, value in overrides.items():
        config[key] = value
    return config


@functools.cache
def _model(key: str) -> Seq2Seq:
    return Seq2Seq(ml_collections.ConfigDict(json.loads(key)), VOCAB, VOCAB)


def build(seed: int = 0, eos_bias: float = 0.0, **overrides):
    """(model, variables): random N(0, 0.5^2) parameters of tiny_config(**overrides), drawn with `seed`;
    eos_bias is added to the output layer's bias for eos (to make early stopping likely)."""
    model = _model(tiny_config(**overrides).to_json(sort_keys=True))
    shapes = jax.eval_shape(functools.partial(model.init, train=False), jax.random.key(0), SOURCE, MASK, SOURCE[:, :2])
    leaves, treedef = jax.tree.flatten(shapes)
    rng = np.random.default_rng(seed)
    variables = jax.tree.unflatten(
        treedef, [jnp.asarray(rng.normal(0.0, 0.5, leaf.shape), leaf.dtype) for leaf in leaves]
    )
    bias = variables["params"]["decoder"]["output"]["bias"]
    variables["params"]["decoder"]["output"]["bias"] = bias.at[EOS].add(eos_bias)
    return model, variables


@functools.cache
def apply_jit(model):
    """The teacher-forced model.apply (train=False), compiled once per model."""
    return fast_jit(functools.partial(model.apply, train=False))


def teacher_forced_log_probs(model, variables, source, mask, outputs):
    """log p(y_t | y_<t, x) [n, steps] of outputs [n, steps] (y_1..), from the teacher-forced model."""
    inputs = np.concatenate([np.full((outputs.shape[0], 1), BOS), outputs[:, :-1]], axis=1).astype(np.int32)
    logits = apply_jit(model)(variables, source, mask, inputs).logits
    log_probs = np.asarray(jax.nn.log_softmax(logits, axis=-1), np.float64)
    return np.take_along_axis(log_probs, outputs[..., None].astype(np.int64), axis=-1)[..., 0]


# ------------------------------------------------------------------------------------------- beam search


@pytest.mark.parametrize("name", list(MODELS))
def test_beam_size_one_is_greedy(name):
    stopped_early = False
    for seed in range(4):
        model, variables = build(seed, eos_bias=3.0 * (seed % 2), **MODELS[name])
        tokens, alignments = greedy_jit(model, variables, SOURCE, MASK, max_len=5, bos_id=BOS, eos_id=EOS)
        for alpha in (0.0, 0.8):
            result = beam_jit(
                model, variables, SOURCE, MASK, beam_size=1, max_len=5, bos_id=BOS, eos_id=EOS, length_penalty=alpha
            )
            np.testing.assert_array_equal(result.tokens[:, 0], tokens)
            np.testing.assert_allclose(result.alignments[:, 0], alignments, rtol=1e-6, atol=1e-7)
        stopped_early |= bool(np.any(np.asarray(tokens)[:, :-1] == EOS))
    assert stopped_early  # greedy stops early for some seed, so the eos handling is tested


L_EXH = 4  # max_len of the exhaustive search
# Hypotheses alive or finished at the last step: 5^4 unfinished + (1 + 5 + 25 + 125) finished.
N_FINISHED = sum((VOCAB - 1) ** (n - 1) for n in range(1, L_EXH + 1))
WIDE = (VOCAB - 1) ** L_EXH + N_FINISHED


def exhaustive():
    """Every sequence that ends in its first eos within L_EXH tokens, with its log-probability, per source."""
    model, variables = build(1, **MODELS["bahdanau-gru"])
    sequences = []
    for n in range(1, L_EXH + 1):
        for prefix in itertools.product([v for v in range(VOCAB) if v != EOS], repeat=n - 1):
            sequences.append(list(prefix) + [EOS] * (L_EXH - n + 1))
    sequences = np.array(sequences, np.int32)  # [N, L_EXH], eos-padded
    lengths = np.argmax(sequences == EOS, axis=1) + 1
    count = len(sequences)
    assert count == N_FINISHED
    source = jnp.repeat(SOURCE, count, axis=0)
    step = teacher_forced_log_probs(model, variables, source, source > 0, np.tile(sequences, (BATCH, 1)))
    step = step.reshape(BATCH, count, L_EXH)
    log_probs = np.where(np.arange(L_EXH) < lengths[:, None], step, 0.0).sum(-1)  # [batch, N]
    return model, variables, sequences, lengths, log_probs


@functools.cache
def wide_beam(alpha: float, beta: float = 0.0) -> BeamResult:
    model, variables = build(1, **MODELS["bahdanau-gru"])
    return jax.tree.map(
        np.asarray,
        beam_jit(
            model,
            variables,
            SOURCE,
            MASK,
            beam_size=WIDE,
            max_len=L_EXH,
            bos_id=BOS,
            eos_id=EOS,
            length_penalty=alpha,
            coverage_penalty=beta,
            n_best=N_FINISHED,
        ),
    )


def test_wide_beam_matches_exhaustive_search():
    _, _, sequences, lengths, log_probs = exhaustive()
    result = wide_beam(0.0)
    for b in range(BATCH):
        best = int(np.argmax(log_probs[b]))
        np.testing.assert_array_equal(result.tokens[b, 0], sequences[best])
        assert result.lengths[b, 0] == lengths[best]
        np.testing.assert_allclose(result.log_probs[b, 0], log_probs[b, best], rtol=1e-5)
        # The whole n-best list is every finished sequence, best first, with its exact log-probability.
        np.testing.assert_allclose(result.log_probs[b], np.sort(log_probs[b])[::-1], rtol=1e-5, atol=1e-5)
        index = {tuple(s): i for i, s in enumerate(sequences.tolist())}
        found = [index[tuple(s)] for s in result.tokens[b].tolist()]
        assert sorted(found) == list(range(N_FINISHED))
        np.testing.assert_allclose(result.log_probs[b], log_probs[b, found], rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(result.lengths[b], lengths[found])
        np.testing.assert_array_equal(result.scores[b], result.log_probs[b])  # alpha = beta = 0


@pytest.mark.parametrize("alpha", [0.6, 2.0])
def test_length_penalty_reranks_as_formula(alpha):
    """Wu et al. (2016), eq. 14 with beta = 0: s = log P / ((5 + |Y|) / 6)^alpha, recomputed in NumPy."""
    plain, penalized = wide_beam(0.0), wide_beam(alpha)
    for b in range(BATCH):
        expected = plain.log_probs[b] / ((5.0 + plain.lengths[b]) / 6.0) ** alpha
        order = np.argsort(-expected, kind="stable")
        np.testing.assert_allclose(penalized.scores[b], expected[order], rtol=1e-5)
        np.testing.assert_array_equal(penalized.tokens[b, :20], plain.tokens[b, order[:20]])
        np.testing.assert_allclose(penalized.log_probs[b], plain.log_probs[b, order], rtol=1e-5)
        assert not np.array_equal(order, np.arange(N_FINISHED))  # the penalty did change the ranking
    # Longer hypotheses move up: the best one is at least as long as without the penalty.
    assert np.all(penalized.lengths[:, 0] >= plain.lengths[:, 0])


def test_coverage_penalty_matches_formula():
    beta = 0.4
    result = wide_beam(0.0, beta)
    coverage = np.minimum(result.alignments.sum(2), 1.0)  # [batch, n, src_len]
    mask = np.asarray(MASK)[:, None, :]
    cp = beta * np.where(mask, np.log(np.maximum(coverage, 1e-30)), 0.0).sum(-1)
    np.testing.assert_allclose(result.scores, result.log_probs + cp, rtol=1e-4, atol=1e-5)
    assert np.all(np.diff(result.scores, axis=1) <= 1e-6)  # best first
    assert np.all(cp[0] < -1e-3)  # in play: 5 source tokens cannot all be covered by <= 4 target steps
    # Alignments are zero after eos and on padding.
    after_eos = np.arange(L_EXH)[None, None, :] >= result.lengths[..., None]
    assert np.all(result.alignments[after_eos] == 0.0)
    assert np.all(result.alignments[np.broadcast_to(~mask[:, :, None, :], result.alignments.shape)] == 0.0)


def test_beam_search_jit_agrees_with_eager_and_is_well_formed():
    model, variables = build(2, **MODELS["luong-lstm"])
    kwargs = dict(beam_size=3, max_len=5, bos_id=BOS, eos_id=EOS, length_penalty=0.5, coverage_penalty=0.2, n_best=2)
    eager = beam_search(model, variables, SOURCE, MASK, **kwargs)
    jitted = beam_jit(model, variables, SOURCE, MASK, **kwargs)
    np.testing.assert_array_equal(eager.tokens, jitted.tokens)
    for a, b in zip(eager[1:], jitted[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert eager.tokens.shape == (BATCH, 2, 5) and eager.tokens.dtype == jnp.int32
    assert eager.scores.shape == eager.log_probs.shape == eager.lengths.shape == (BATCH, 2)
    assert eager.alignments.shape == (BATCH, 2, 5, SRC_LEN)
    tokens, lengths = np.asarray(eager.tokens), np.asarray(eager.lengths)
    for b, n in itertools.product(range(BATCH), range(2)):
        eos = np.flatnonzero(tokens[b, n] == EOS)
        assert lengths[b, n] == (eos[0] + 1 if eos.size else 5)
        assert np.all(tokens[b, n, lengths[b, n] :] == EOS)
    # The two hypotheses per sentence differ (distinct beams).
    assert not np.any(np.all(tokens[:, 0] == tokens[:, 1], axis=-1))
    # Their log-probabilities are the teacher-forced ones.
    step = np.stack([teacher_forced_log_probs(model, variables, SOURCE, MASK, tokens[:, n]) for n in range(2)], 1)
    expected = np.where(np.arange(5) < lengths[..., None], step, 0.0).sum(-1)
    np.testing.assert_allclose(eager.log_probs, expected, rtol=1e-5, atol=1e-5)


def test_beam_search_argument_errors_and_max_decode_length():
    model, variables = build(0, **MODELS["bahdanau-gru"])
    for kwargs in (dict(beam_size=0), dict(max_len=0), dict(n_best=3), dict(n_best=0)):
        args = dict(beam_size=2, max_len=3, bos_id=BOS, eos_id=EOS) | kwargs
        with pytest.raises(ValueError):
            beam_search(model, variables, SOURCE, MASK, **args)
    assert max_decode_length(4, 1.5, 10) == 16
    assert max_decode_length(3, 1.5, 0.0) == 5  # 4.5 rounded up
    np.testing.assert_array_equal(max_decode_length(np.array([1, 2, 10]), 2.0, 1), [3, 5, 21])
    with pytest.raises(ValueError):
        max_decode_length(3, -1.0, 10)
    with pytest.raises(ValueError):
        max_decode_length(3, 0.0, 0)


# ---------------------------------------------------------------------------------------------- sampling


def test_sampling_limits_equal_greedy():
    for seed in range(3):
        model, variables = build(seed, **MODELS["bahdanau-gru"])
        tokens, alignments = greedy_jit(model, variables, SOURCE, MASK, max_len=5, bos_id=BOS, eos_id=EOS)
        rng = jax.random.key(seed)
        cases = [
            dict(temperature=0.0),
            dict(temperature=1e-6),
            dict(top_k=1, temperature=1.5),
            dict(top_p=1e-3, temperature=1.0),
        ]
        for kwargs in cases:
            got, got_alignments = sample_jit(
                model, variables, SOURCE, MASK, rng, max_len=5, bos_id=BOS, eos_id=EOS, **kwargs
            )
            np.testing.assert_array_equal(got, tokens, err_msg=str(kwargs))
            np.testing.assert_allclose(got_alignments, alignments, rtol=1e-6, atol=1e-7)


def test_sampling_is_deterministic_per_rng_and_varies_across_rngs():
    model, variables = build(3, **MODELS["bahdanau-gru"])
    draw = functools.partial(
        sample_jit, model, variables, SOURCE, MASK, max_len=5, bos_id=BOS, eos_id=EOS, temperature=2.0
    )
    a = np.asarray(draw(jax.random.key(7))[0])
    np.testing.assert_array_equal(a, draw(jax.random.key(7))[0])
    assert any(not np.array_equal(a, draw(jax.random.key(s))[0]) for s in range(8, 12))
    # After eos, only eos.
    for row in a:
        eos = np.flatnonzero(row == EOS)
        if eos.size:
            assert np.all(row[eos[0] :] == EOS)


@pytest.mark.parametrize("k", [2])
def test_top_k_sampling_draws_only_top_k_tokens(k):
    model, variables = build(4, **MODELS["luong-lstm"])
    seen = set()
    for s in range(6):
        tokens = np.asarray(
            sample_jit(
                model,
                variables,
                SOURCE,
                MASK,
                jax.random.key(s),
                max_len=5,
                bos_id=BOS,
                eos_id=EOS,
                temperature=3.0,
                top_k=k,
            )[0]
        )
        inputs = np.concatenate([np.full((BATCH, 1), BOS), tokens[:, :-1]], axis=1).astype(np.int32)
        logits = np.asarray(apply_jit(model)(variables, SOURCE, MASK, inputs).logits)
        rank = (logits > np.take_along_axis(logits, tokens[..., None], -1)).sum(-1)  # 0 = the argmax
        live = np.concatenate([np.ones((BATCH, 1), bool), tokens[:, :-1] != EOS], axis=1)
        live = np.cumprod(live, axis=1).astype(bool)  # steps up to and including the first eos
        assert np.all(rank[live] < k)
        seen.update(rank[live].tolist())
    assert seen == set(range(k))  # with temperature 3, the second token does get drawn


def test_filter_logits():
    logits = jnp.log(jnp.array([[0.1, 0.4, 0.2, 0.3], [0.25, 0.25, 0.25, 0.25]]))
    kept = lambda x: np.isfinite(np.asarray(x))  # noqa: E731
    np.testing.assert_array_equal(kept(filter_logits(logits, top_k=2))[0], [False, True, False, True])
    np.testing.assert_array_equal(kept(filter_logits(logits, top_p=0.65))[0], [False, True, False, True])
    np.testing.assert_array_equal(kept(filter_logits(logits, top_p=0.75))[0], [False, True, True, True])
    np.testing.assert_array_equal(kept(filter_logits(logits, top_p=1.0))[0], [True] * 4)
    np.testing.assert_array_equal(kept(filter_logits(logits, top_k=3, top_p=0.5))[0], [False, True, False, True])
    with pytest.raises(ValueError):
        filter_logits(logits, top_k=5)


def test_sample_jit_agrees_with_eager():
    model, variables = build(5, **MODELS["bahdanau-gru"])
    kwargs = dict(max_len=5, bos_id=BOS, eos_id=EOS, temperature=0.8, top_p=0.9)
    eager = sample(model, variables, SOURCE, MASK, jax.random.key(3), **kwargs)
    jitted = sample_jit(model, variables, SOURCE, MASK, jax.random.key(3), **kwargs)
    np.testing.assert_array_equal(eager[0], jitted[0])
    np.testing.assert_allclose(eager[1], jitted[1], rtol=1e-5, atol=1e-6)
    assert eager[0].shape == (BATCH, 5) and eager[1].shape == (BATCH, 5, SRC_LEN)


# ---------------------------------------------------------------------------------- unknown-word replacement


def test_replace_unknown_words_copies_the_aligned_source_token():
    vocab = Vocabulary(["<pad>", "<s>", "</s>", "<unk>", "the", "cat"])
    source = ["le", "chat", "Zorglub", "dort"]
    hypothesis = [4, 3, 5, 3, 2, 3]  # the <unk> cat <unk> </s> <unk>
    alignments = np.array(
        [
            [0.7, 0.1, 0.1, 0.1, 0.0],
            [0.1, 0.1, 0.6, 0.2, 0.0],  # first <unk> -> "Zorglub"
            [0.1, 0.8, 0.1, 0.0, 0.0],
            [0.1, 0.1, 0.1, 0.3, 0.9],  # second <unk> -> "dort" (column 4 is padding, ignored)
            [0.25, 0.25, 0.25, 0.25, 0.0],
        ]
    )
    assert replace_unknown_words(hypothesis, alignments, source, vocab) == ["the", "Zorglub", "cat", "dort"]
    # Without <unk>, the tokens themselves (like Vocabulary.decode).
    assert replace_unknown_words([4, 5, 2], alignments, source, vocab) == vocab.decode([4, 5, 2])
    with pytest.raises(ValueError):
        replace_unknown_words(hypothesis, alignments[:, :3], source, vocab)  # fewer columns than source
    with pytest.raises(ValueError):
        replace_unknown_words(hypothesis, alignments[:1], source, vocab)  # no row for the first <unk>
