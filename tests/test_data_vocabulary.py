"""Vocabulary, tokenizers and the sentencepiece trainer."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from attn_research.data import SPECIAL_TOKENS, MosesWordTokenizer, Vocabulary, WhitespaceTokenizer
from attn_research.data.tokenizers import train_sentencepiece


def test_build_orders_by_frequency_and_applies_min_freq():
    vocab = Vocabulary.build([["b", "a", "c"], ["a", "b", "a"], ["d"]], min_freq=2)
    assert vocab.tokens == [*SPECIAL_TOKENS, "a", "b"]
    assert (vocab.pad_id, vocab.bos_id, vocab.eos_id, vocab.unk_id) == (0, 1, 2, 3)
    assert vocab.size == len(vocab) == 6 and vocab.unk_token == "<unk>"
    assert vocab.encode(["a", "c", "b"]) == [4, 3, 5]


def test_decode_stops_at_eos_and_skips_pad_and_bos():
    vocab = Vocabulary.build([["x", "y"]])
    assert vocab.decode(np.array([1, 4, 0, 5, 2, 4, 4])) == ["x", "y"]
    assert vocab.decode([4, 3]) == ["x", "<unk>"]
    with pytest.raises(ValueError, match="outside"):
        vocab.decode([4, 99])


def test_vocabulary_rejects_bad_token_lists():
    with pytest.raises(ValueError, match="start with"):
        Vocabulary(["a", "b"])
    with pytest.raises(ValueError, match="Repeated"):
        Vocabulary([*SPECIAL_TOKENS, "a", "a"])


def test_whitespace_and_moses_detokenize():
    assert Vocabulary.build([]).detokenize(["a", "b"]) == "a b"
    assert WhitespaceTokenizer().tokenize(" jump  twice ") == ["jump", "twice"]
    moses = MosesWordTokenizer("en")
    text = 'a man\'s dog, running "fast" & far.'
    tokens = moses.tokenize(text)
    assert tokens[:4] == ["a", "man", "'s", "dog"] and "&" in tokens  # escape=False
    assert moses.detokenize(tokens) == text
    clone = pickle.loads(pickle.dumps(moses))
    assert clone.tokenize(text) == tokens


def test_sentencepiece_specials_round_trip_and_cache(tmp_path):
    texts = [
        f"the {c} {a} sat on the {b} mat number {i}."
        for i, (a, b, c) in enumerate(
            zip(["cat", "dog", "bird"] * 40, ["red", "blue"] * 60, ["big", "small", "old", "new"] * 30)
        )
    ]
    tok = train_sentencepiece(texts, tmp_path, name="toy", vocab_size=60)
    pieces = tok.pieces()
    assert tuple(pieces[:4]) == SPECIAL_TOKENS
    vocab = Vocabulary(pieces, tok)
    sentence = "the old bird sat on the blue mat number 7."
    assert vocab.detokenize(vocab.decode(vocab.encode(tok.tokenize(sentence)))) == sentence
    (model,) = tmp_path.glob("toy_sp60_*.model")
    stamp = model.stat().st_mtime_ns
    again = train_sentencepiece(texts, tmp_path, name="toy", vocab_size=60)
    assert again.model_path == str(model) and model.stat().st_mtime_ns == stamp
    assert pickle.loads(pickle.dumps(tok)).tokenize(sentence) == tok.tokenize(sentence)
