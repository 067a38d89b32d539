"""Tests for attn_research.metrics: BLEU against a hand computation, accuracies, buckets."""

import math
from collections import Counter

import jax.numpy as jnp
import numpy as np
import pytest

from attn_research.metrics import (
    bleu_by_length,
    bleu_signature,
    corpus_bleu,
    length_bucket_edges,
    perplexity,
    sequence_accuracy,
    token_accuracy,
    token_bleu,
)


def _ngrams(words, n):
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def _hand_bleu(hypotheses, references):
    """Papineni et al. (2002): clipped n-gram precisions summed over the corpus, geometric mean
    over n = 1..4, brevity penalty exp(1 - r / c) when c < r. Plain lowercase words only, so that
    whitespace splitting equals sacrebleu's 13a tokenization."""
    matches, totals = np.zeros(4), np.zeros(4)
    hyp_len = ref_len = 0
    for hyp, ref in zip(hypotheses, references):
        h, r = hyp.split(), ref.split()
        hyp_len, ref_len = hyp_len + len(h), ref_len + len(r)
        for n in range(1, 5):
            h_counts, r_counts = _ngrams(h, n), _ngrams(r, n)
            matches[n - 1] += sum(min(c, r_counts[g]) for g, c in h_counts.items())
            totals[n - 1] += max(len(h) - n + 1, 0)
    assert (matches > 0).all(), "choose sentences where no smoothing is needed"
    brevity = 1.0 if hyp_len >= ref_len else math.exp(1 - ref_len / hyp_len)
    return 100 * brevity * math.exp(np.mean(np.log(matches / totals)))


def test_bleu_perfect_is_100():
    sentences = ["the quick brown fox jumps over the lazy dog", "a b c d e f"]
    assert corpus_bleu(sentences, sentences) == pytest.approx(100.0)


def test_bleu_matches_hand_computation_with_brevity_penalty():
    hypotheses = ["the cat sat on the mat in the sun", "there is a dog in the old garden"]
    references = ["the cat sat on a mat in the warm sun today", "there is a dog in the garden"]
    expected = _hand_bleu(hypotheses, references)
    assert 0 < expected < 100
    assert corpus_bleu(hypotheses, references) == pytest.approx(expected, abs=1e-6)


def test_lowercase_bleu_ignores_case_only():
    references = ["A man rides a Horse .", "Two dogs play in the Snow ."]
    hypotheses = ["a man rides a horse .", "two dogs play in snow ."]
    assert corpus_bleu(hypotheses, references) < corpus_bleu(hypotheses, references, lowercase=True)
    expected = _hand_bleu([h.lower() for h in hypotheses], [r.lower() for r in references])
    assert corpus_bleu(hypotheses, references, lowercase=True) == pytest.approx(expected, abs=1e-6)
    assert "case:lc" in bleu_signature(lowercase=True) and "case:mixed" in bleu_signature()


def test_bleu_rejects_bad_input():
    with pytest.raises(ValueError):
        corpus_bleu(["a b c"], ["a b c", "d e f"])
    with pytest.raises(ValueError):
        corpus_bleu([], [])
    with pytest.raises(ValueError):
        corpus_bleu("a b c", "a b c")


def test_token_bleu_is_the_hand_computation_on_the_tokens_as_given():
    # tokens that 13a would split or merge differently ("n't", "<unk>", "a-b", "."): token_bleu keeps them whole
    hypotheses = [
        ["the", "man", "does", "n't", "ride", "a", "<unk>", "horse", "."],
        ["two", "a-b", "dogs", "play", "."],
    ]
    references = [
        ["the", "man", "does", "n't", "ride", "a", "brown", "horse", "today", "."],
        ["two", "a-b", "dogs", "play", "."],
    ]
    expected = _hand_bleu([" ".join(h) for h in hypotheses], [" ".join(r) for r in references])
    assert 0 < expected < 100
    assert token_bleu(hypotheses, references) == pytest.approx(expected, abs=1e-6)
    assert token_bleu(references, references) == pytest.approx(100.0)
    # no 4-gram in common anywhere: no smoothing, so 0 (torchtext's bleu_score gives 0 too)
    assert token_bleu([["a", "b", "c", "d"]], [["a", "b", "c", "x"]]) == 0.0


def test_token_bleu_rejects_bad_input():
    with pytest.raises(ValueError, match="1 hypotheses but 2 references"):
        token_bleu([["a"]], [["a"], ["b"]])
    with pytest.raises(ValueError, match="at least one"):
        token_bleu([], [])
    with pytest.raises(ValueError, match="token lists"):
        token_bleu(["a b"], [["a", "b"]])
    with pytest.raises(ValueError, match="whitespace"):
        token_bleu([["a b"]], [["a", "b"]])


# Row 0: 3 real tokens, 2 right. Row 1: 2 real tokens, both right, a wrong prediction under padding.
# Row 2: batch padding, mask all False (its "predictions" are wrong and must not count).
PREDICTIONS = np.array([[5, 6, 9, 0], [3, 4, 7, 7], [1, 1, 1, 1]])
TARGETS = np.array([[5, 6, 7, 0], [3, 4, 0, 0], [2, 2, 2, 2]])
MASK = np.array([[True, True, True, False], [True, True, False, False], [False] * 4])


def test_token_accuracy_counts_only_unmasked_tokens():
    assert token_accuracy(PREDICTIONS, TARGETS, MASK) == (4, 5)
    assert token_accuracy(jnp.asarray(PREDICTIONS), jnp.asarray(TARGETS), jnp.asarray(MASK)) == (4, 5)


def test_sequence_accuracy_ignores_all_masked_rows():
    assert sequence_accuracy(PREDICTIONS, TARGETS, MASK) == (1, 2)
    fixed = PREDICTIONS.copy()
    fixed[0, 2] = 7
    assert sequence_accuracy(fixed, TARGETS, MASK) == (2, 2)


def test_accuracies_reject_mismatched_shapes():
    with pytest.raises(ValueError):
        token_accuracy(PREDICTIONS[:, :3], TARGETS, MASK)
    with pytest.raises(ValueError):
        sequence_accuracy(PREDICTIONS, TARGETS, MASK[:2])


def test_perplexity():
    assert perplexity(10 * math.log(4.0), 10) == pytest.approx(4.0)
    assert perplexity(0.0, 3) == 1.0
    assert perplexity(1e6, 1) == math.inf
    with pytest.raises(ValueError):
        perplexity(1.0, 0)


def test_bleu_by_length_buckets_and_counts():
    hypotheses = ["a b c d e", "x y z w", "the cat sat on the mat", "p q r s t"]
    references = ["a b c d e", "x y z v", "the cat sat on the mat", "p q r s t"]
    # Buckets are [lo, hi): length 10 belongs to the second one, length 30 to none.
    rows = bleu_by_length(hypotheses, references, [3, 10, 12, 30], [0, 10, 20, 30])
    assert [r["bucket"] for r in rows] == [(0, 10), (10, 20), (20, 30)]
    assert [r["count"] for r in rows] == [1, 2, 0]
    assert rows[0]["bleu"] == pytest.approx(100.0)
    assert rows[1]["bleu"] == pytest.approx(corpus_bleu(hypotheses[1:3], references[1:3]))
    assert rows[1]["bleu"] < 100
    assert math.isnan(rows[2]["bleu"])
    with pytest.raises(ValueError):
        bleu_by_length(hypotheses, references, [1, 2, 3, 4], [10, 10])
    with pytest.raises(ValueError):
        bleu_by_length(hypotheses, references[:3], [1, 2, 3, 4], [0, 10])


def test_length_bucket_edges():
    short = [3] * 30 + [7] * 30 + [12] * 25 + [17] * 5  # median 7 -> width 5
    # >= 5: 60, >= 10: 30, >= 15: 5 < 20, so the open tail starts at 10
    assert length_bucket_edges(short) == [0, 5, 10, math.inf]
    assert length_bucket_edges(short, min_count=5) == [0, 5, 10, 15, math.inf]
    long = [25] * 50 + [45] * 30  # median 25 -> width 10: >= 10, 20: 80; >= 30, 40: 30; >= 50: 0
    assert length_bucket_edges(long) == [0, 10, 20, 30, 40, math.inf]
    assert length_bucket_edges([1], width=3) == [0, math.inf]
    with pytest.raises(ValueError):
        length_bucket_edges([])
    with pytest.raises(ValueError):
        length_bucket_edges([1, 2], width=-1)
