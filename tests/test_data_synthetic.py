"""Synthetic copy / reverse / sort tasks: targets, length ranges, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from attn_research.data import default_data_config, load_dataset, synthetic


def _load(**overrides):
    config = default_data_config("synthetic")
    config.update(
        dict(
            num_train=300,
            num_validation=50,
            num_test=80,
            train_min_len=2,
            train_max_len=6,
            test_min_len=9,
            test_max_len=12,
        ),
        **overrides,
    )
    return load_dataset(config)


@pytest.mark.parametrize("task", synthetic.TASKS)
def test_targets_follow_the_task(task):
    data = _load(task=task, synthetic_vocab_size=12)
    for split in data.splits.values():
        assert len(split) > 0
        for source, target, ids in zip(split.source_tokens, split.target_tokens, split.target_ids):
            if task == "copy":
                assert target == source
            elif task == "reverse":
                assert target == source[::-1]
            else:
                assert target == sorted(source)  # zero-padded symbols: a02 < a10
                assert np.all(np.diff(ids) >= 0)  # and ids follow symbol order
                assert sorted(target) == sorted(source)


def test_lengths_lie_in_the_configured_ranges():
    data = _load()
    for name, (lo, hi) in {"train": (2, 6), "validation": (2, 6), "test": (9, 12)}.items():
        lengths = data[name].source_lengths
        assert lengths.min() >= lo and lengths.max() <= hi, name
        assert np.array_equal(lengths, data[name].target_lengths)
    assert set(data["train"].source_lengths) == {2, 3, 4, 5, 6}  # the range is inclusive
    assert (len(data["train"]), len(data["validation"]), len(data["test"])) == (300, 50, 80)


def test_deterministic_from_seed():
    a, b, c = _load(seed=3), _load(seed=3), _load(seed=4)
    assert a["train"].source_tokens == b["train"].source_tokens
    assert a["test"].target_tokens == b["test"].target_tokens
    assert a["train"].source_tokens != c["train"].source_tokens
    # Each split has its own stream: more training examples leave the test set unchanged.
    d = _load(seed=3, num_train=500)
    assert d["test"].source_tokens == a["test"].source_tokens


def test_vocabulary_covers_all_symbols_and_round_trips():
    data = _load(synthetic_vocab_size=100)
    vocab = data.source_vocab
    assert vocab.size == 104 and vocab.tokens[4] == "a00" and vocab.tokens[-1] == "a99"
    split = data["train"]
    assert vocab.decode(split.source_ids[0]) == split.source_tokens[0]
    assert split.references[0] == vocab.detokenize(split.target_tokens[0])


def test_max_len_filters_training_pairs_only():
    data = _load(max_len=4)
    assert data["train"].source_lengths.max() <= 4
    assert 0 < len(data["train"]) < 300
    assert len(data["validation"]) == 50


@pytest.mark.parametrize(
    "overrides", [dict(train_min_len=0), dict(train_min_len=7, train_max_len=6), dict(synthetic_vocab_size=0)]
)
def test_invalid_settings_raise(overrides):
    with pytest.raises(ValueError):
        _load(**overrides)


def test_the_symbol_count_is_synthetic_vocab_size_and_multi30ks_vocab_size_is_ignored():
    # The text task's data config holds Multi30k's vocab_size=8000 next to this key.
    data = _load(vocab_size=8000, synthetic_vocab_size=20)
    assert data.source_vocab.size == 24


def test_the_defaults_are_written_once():
    from attn_research.config_defaults import base_config
    from attn_research.data.config import COMMON, DEFAULTS, setting

    shared = base_config().data
    for name, defaults in DEFAULTS.items():
        for key, value in {**COMMON, **defaults}.items():
            assert shared[key] == value == default_data_config(name)[key] == setting({}, name, key), (name, key)


def test_reverse_source_reads_every_source_backwards_and_keeps_the_targets():
    plain, reversed_ = _load(task="reverse"), _load(task="reverse", reverse_source=True)
    for name in ("train", "validation", "test"):
        a, b = plain[name], reversed_[name]
        assert b.source_tokens == [t[::-1] for t in a.source_tokens]
        assert all(np.array_equal(x, y[::-1]) for x, y in zip(b.source_ids, a.source_ids))
        assert b.target_tokens == a.target_tokens and b.references == a.references
        assert all(np.array_equal(x, y) for x, y in zip(b.target_ids, a.target_ids))
        assert b.target_tokens == b.source_tokens  # reverse of a reversed source: a copy
