"""The sentence-pair models: NumPy references of Rocktäschel et al. (2016), eqs. 7-10 and 11-14, and of the
attention pooling (Yang et al. 2016, eqs. 8-10); padding in either sentence never attended and never read;
pooling weights summing to one over the unpadded positions; jit = eager."""

from __future__ import annotations

import jax
import ml_collections
import numpy as np
import pytest

from attn_research.attention import attention_config
from attn_research.tasks.entailment.classifier import AttentionPooling
from attn_research.tasks.entailment.models import ARCHITECTURES, build_pair_model, exact_match, pack_pair
from attn_research.tasks.entailment.readers import FinalStateAttention, WordByWordAttention
from tests.helpers import fast_jit

K, D = 4, 3  # hidden size k and attention dimension d, different so that a transposed matrix shows
ADDITIVE = ml_collections.FrozenConfigDict(attention_config("additive", dim=D))


def _random(shape, seed):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def _masks(lengths, length):
    return np.arange(length)[None, :] < np.asarray(lengths)[:, None]


def _softmax_over(scores, mask):
    """softmax over the True positions of each row (rows with at least one)."""
    scores = np.where(mask, scores, -np.inf)
    exp = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)


def _additive(params):
    """(W^y [k, d], W^q [query_dim, d], w [d]) of the catalogue's additive score."""
    score = params["FactoredAttention_0"]["AdditiveScore_0"]
    return np.asarray(score["W1"]["kernel"]), np.asarray(score["W2"]["kernel"]), np.asarray(score["v"])


def test_final_state_attention_is_equations_7_to_10():
    y, h_n = _random((2, 5, K), 0), _random((2, K), 1)
    mask = _masks([5, 3], 5)
    module = FinalStateAttention(ADDITIVE, K)
    params = fast_jit(module.init)(jax.random.PRNGKey(0), y, mask, h_n)["params"]
    h_star, alpha = fast_jit(module.apply)({"params": params}, y, mask, h_n)

    w_y, w_h, w = _additive(params)
    m = np.tanh(y @ w_y + (h_n @ w_h)[:, None, :])  # eq. 7, [batch, L, d]
    expected_alpha = _softmax_over(m @ w, mask)  # eq. 8
    r = np.einsum("bl,blk->bk", expected_alpha, y)  # eq. 9
    expected = np.tanh(r @ np.asarray(params["W_p"]["kernel"]) + h_n @ np.asarray(params["W_x"]["kernel"]))  # eq. 10
    np.testing.assert_allclose(np.asarray(alpha)[:, 0], expected_alpha, atol=1e-6)
    np.testing.assert_allclose(np.asarray(h_star), expected, atol=1e-5)
    assert np.all(np.asarray(alpha)[1, 0, 3:] == 0.0)


def test_word_by_word_attention_is_equations_11_to_14():
    y, hyp, h_n = _random((2, 5, K), 2), _random((2, 3, K), 3), _random((2, K), 4)
    premise_mask, hypothesis_mask = _masks([5, 4], 5), _masks([3, 2], 3)
    module = WordByWordAttention(ADDITIVE, K)
    params = fast_jit(module.init)(jax.random.PRNGKey(1), y, premise_mask, hyp, hypothesis_mask, h_n)["params"]
    h_star, alpha = fast_jit(module.apply)({"params": params}, y, premise_mask, hyp, hypothesis_mask, h_n)

    w_y, w_q, w = _additive(params["steps"])
    w_h, w_r = w_q[:K], w_q[K:]  # W2 [h_t; r_{t-1}] = W^h h_t + W^r r_{t-1}
    w_t = np.asarray(params["steps"]["W_t"]["kernel"])
    for b in range(2):
        r = np.zeros(K, np.float32)  # r_0
        for t in range(int(hypothesis_mask[b].sum())):
            m = np.tanh(y[b] @ w_y + (hyp[b, t] @ w_h + r @ w_r))  # eq. 11
            expected_alpha = _softmax_over(m @ w, premise_mask[b])  # eq. 12
            np.testing.assert_allclose(np.asarray(alpha)[b, t], expected_alpha, atol=1e-6)
            r = expected_alpha @ y[b] + np.tanh(r @ w_t)  # eq. 13
        assert np.all(np.asarray(alpha)[b, int(hypothesis_mask[b].sum()) :] == 0.0)  # padded hypothesis words
        expected = np.tanh(r @ np.asarray(params["W_p"]["kernel"]) + h_n[b] @ np.asarray(params["W_x"]["kernel"]))
        np.testing.assert_allclose(np.asarray(h_star)[b], expected, atol=1e-5)  # eq. 14


def test_attention_pooling_is_a_learned_query_over_the_unpadded_states_and_sums_to_one():
    states, mask = _random((3, 6, K), 5), _masks([6, 2, 0], 6)
    module = AttentionPooling(ADDITIVE)
    params = fast_jit(module.init)(jax.random.PRNGKey(2), states, mask)["params"]
    pooled, alpha = fast_jit(module.apply)({"params": params}, states, mask)
    alpha = np.asarray(alpha)[:, 0]

    w_h, w_q, w = _additive(params)
    scores = np.tanh(states @ w_h + np.asarray(params["query"]) @ w_q) @ w  # Yang et al. 2016, eq. 8-9
    np.testing.assert_allclose(alpha[:2], _softmax_over(scores[:2], mask[:2]), atol=1e-6)
    np.testing.assert_allclose(np.asarray(pooled)[:2], np.einsum("bl,blk->bk", alpha, states)[:2], atol=1e-5)
    np.testing.assert_allclose(alpha[:2].sum(axis=-1), 1.0, atol=1e-6)
    assert np.all(alpha[~mask] == 0.0)
    assert np.all(np.asarray(pooled)[2] == 0.0) and np.all(np.isfinite(np.asarray(pooled)))  # nothing to pool


def test_pack_pair_puts_the_hypothesis_after_the_premise_and_a_separator():
    premise = np.array([[5, 6, 7], [8, 0, 0]])
    hypothesis = np.array([[9, 10], [11, 12]])
    tokens, mask = pack_pair(premise, premise != 0, hypothesis, hypothesis != 0, separator_id=2)
    assert np.asarray(tokens).tolist() == [[5, 6, 7, 2, 9, 10], [8, 2, 11, 12, 0, 0]]
    assert np.asarray(mask).tolist() == [[True] * 6, [True] * 4 + [False] * 2]


def test_exact_match_flags_a_word_that_occurs_among_the_other_sentences_words():
    premise, hypothesis = np.array([[5, 6, 7, 0], [8, 9, 0, 0]]), np.array([[7, 5, 11], [12, 0, 0]])
    premise_mask, hypothesis_mask = premise != 0, hypothesis != 0
    p_match, h_match = exact_match(premise, premise_mask, hypothesis, hypothesis_mask)
    expected_p = [
        [w in set(h[hm]) and m for w, m in zip(p, pm)]
        for p, pm, h, hm in zip(premise, premise_mask, hypothesis, hypothesis_mask)
    ]
    expected_h = [
        [w in set(p[pm]) and m for w, m in zip(h, hm)]
        for p, pm, h, hm in zip(premise, premise_mask, hypothesis, hypothesis_mask)
    ]
    assert np.asarray(p_match).tolist() == expected_p == [[True, False, True, False], [False, False, False, False]]
    assert (
        np.asarray(h_match).tolist() == expected_h == [[True, True, False], [False, False, False]]
    )  # pad 0 = pad 0: no


def test_exact_match_changes_the_input_of_every_architecture_only_when_set():
    batch = _pair_batch(2)
    for architecture in ("conditional", "attentive_classifier"):
        plain = jax.eval_shape(_model(architecture).init, jax.random.PRNGKey(0), *batch)["params"]
        flagged = jax.eval_shape(_model(architecture, True).init, jax.random.PRNGKey(0), *batch)["params"]
        extra = {jax.tree_util.keystr(k) for k, _ in jax.tree_util.tree_leaves_with_path(flagged)} - {
            jax.tree_util.keystr(k) for k, _ in jax.tree_util.tree_leaves_with_path(plain)
        }
        assert len(extra) == 1 and "embedding" in extra.pop()  # one [2, embed_dim] flag embedding, nothing else


def _model(architecture, exact_match=False):
    config = ml_collections.ConfigDict(
        {"architecture": architecture, "embed_dim": 6, "hidden": K, "dropout": 0.0, "shared": False}
    )
    config.exact_match = exact_match
    config.attention = attention_config("additive", dim=D)
    return build_pair_model(config, vocab_size=30, num_classes=3, separator_id=2)


def _pair_batch(seed, extra_padding=0, pad_id_seed=None):
    """Two pairs, the second padded in both sentences (premise 2 of 5 words, hypothesis 1 of 4); the same words
    for a seed, then `extra_padding` more padded positions; padding ids 0, or random ones with pad_id_seed."""
    rng = np.random.default_rng(seed)
    premise = np.pad(rng.integers(4, 30, (2, 5)), ((0, 0), (0, extra_padding)))
    hypothesis = np.pad(rng.integers(4, 30, (2, 4)), ((0, 0), (0, extra_padding)))
    premise_mask, hypothesis_mask = _masks([5, 2], premise.shape[1]), _masks([4, 1], hypothesis.shape[1])
    noise = np.random.default_rng(pad_id_seed) if pad_id_seed is not None else None
    pad_p = noise.integers(4, 30, premise.shape) if noise is not None else 0
    pad_h = noise.integers(4, 30, hypothesis.shape) if noise is not None else 0
    premise, hypothesis = np.where(premise_mask, premise, pad_p), np.where(hypothesis_mask, hypothesis, pad_h)
    return premise.astype(np.int32), premise_mask, hypothesis.astype(np.int32), hypothesis_mask


@pytest.mark.parametrize(
    "architecture",
    [
        "word_by_word_two_way",  # conditional encoding, word-by-word attention, both directions
        "attentive_classifier",
        pytest.param("conditional", marks=pytest.mark.slow),
        pytest.param("attention", marks=pytest.mark.slow),
        pytest.param("word_by_word", marks=pytest.mark.slow),
        pytest.param("attention_two_way", marks=pytest.mark.slow),
    ],
)
def test_padding_in_either_sentence_is_never_attended_nor_read(architecture):
    model = _model(architecture, exact_match=True)  # the recipe's input: padding must not match either
    batch = _pair_batch(0)
    params = fast_jit(model.init)(jax.random.PRNGKey(0), *batch)
    apply = fast_jit(model.apply)
    out = apply(params, *batch)
    other_ids = apply(params, *_pair_batch(0, pad_id_seed=1))  # other ids at the padded positions
    longer = apply(params, *_pair_batch(0, extra_padding=3))  # more padding
    np.testing.assert_allclose(np.asarray(other_ids.logits), np.asarray(out.logits), atol=1e-5)
    np.testing.assert_allclose(np.asarray(longer.logits), np.asarray(out.logits), atol=1e-5)
    assert np.all(np.isfinite(np.asarray(out.logits)))
    premise_mask, hypothesis_mask = batch[1], batch[3]
    if architecture == "attentive_classifier":
        _, packed_mask = pack_pair(*batch, separator_id=2)
        weights = np.asarray(out.attention)[:, 0]
        np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-6)
        assert np.all(weights[~np.asarray(packed_mask)] == 0.0)
        return
    if architecture == "conditional":
        assert out.attention is None
        return
    forward = np.asarray(out.attention)  # [batch, queries, prem_len]
    assert np.all(forward.transpose(0, 2, 1)[~premise_mask] == 0.0)
    np.testing.assert_allclose(forward[:, 0].sum(-1), 1.0, atol=1e-6)
    if architecture.endswith("two_way"):
        reverse = np.asarray(out.reverse_attention)  # the hypothesis read as the premise
        assert np.all(reverse.transpose(0, 2, 1)[~hypothesis_mask] == 0.0)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_every_architecture_builds_from_config_with_the_documented_shapes(architecture):
    model = _model(architecture)
    out, _ = jax.eval_shape(model.init_with_output, jax.random.PRNGKey(0), *_pair_batch(3))  # traced, not compiled
    assert out.logits.shape == (2, 3)
    expected = {
        "conditional": None,
        "attention": (2, 1, 5),
        "attention_two_way": (2, 1, 5),
        "word_by_word": (2, 4, 5),
        "word_by_word_two_way": (2, 4, 5),
        "attentive_classifier": (2, 1, 5 + 1 + 4),
    }[architecture]
    assert (out.attention is None) if expected is None else out.attention.shape == expected
    assert (out.reverse_attention is not None) == architecture.endswith("two_way")


@pytest.mark.slow
def test_jit_equals_eager():
    y, h_n, mask = _random((2, 5, K), 6), _random((2, K), 7), _masks([5, 2], 5)
    module = FinalStateAttention(ADDITIVE, K)
    params = module.init(jax.random.PRNGKey(0), y, mask, h_n)
    eager, jitted = module.apply(params, y, mask, h_n), fast_jit(module.apply)(params, y, mask, h_n)
    for a, b in zip(eager, jitted):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)


def test_the_two_way_model_reads_both_directions_with_one_reader():
    batch = _pair_batch(5)
    one_way = jax.eval_shape(_model("word_by_word").init, jax.random.PRNGKey(0), *batch)["params"]
    two_way = jax.eval_shape(_model("word_by_word_two_way").init, jax.random.PRNGKey(0), *batch)["params"]
    assert jax.tree.map(np.shape, one_way["reader"]) == jax.tree.map(np.shape, two_way["reader"])
    assert two_way["softmax"]["kernel"].shape == (2 * K, 3)  # [h*; h*_reverse]


def test_an_unknown_architecture_or_score_is_a_one_line_error():
    with pytest.raises(ValueError, match="unknown entailment model"):
        _model("word_by_wrod")
    config = ml_collections.ConfigDict({"architecture": "attention", "embed_dim": 6, "hidden": K, "dropout": 0.0})
    config.attention = attention_config("additiv", dim=D)
    model = build_pair_model(config, 30, 3, 2)
    with pytest.raises(ValueError, match="additive"):
        jax.eval_shape(model.init, jax.random.PRNGKey(0), *_pair_batch(0))
