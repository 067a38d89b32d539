"""The entailment data pipeline (tokens, vocabulary of the training split, batches, the synthetic set) and the
classification metrics (against hand-computed values)."""

from __future__ import annotations

import numpy as np
import pytest

from attn_research.data.builders import sick
from attn_research.tasks.entailment import data as pairs
from attn_research.tasks.entailment.metrics import classification_metrics, confusion_matrix


def _config(**changes):
    config = pairs.default_data_config()
    config.update({"name": "synthetic", "num_train": 64, "num_validation": 10, "num_test": 12, **changes})
    return config


def test_tokenize_lowercases_and_splits_moses_words():
    assert pairs.tokenize(["A man isn't riding a horse."], "moses", True) == [
        ["a", "man", "isn", "'t", "riding", "a", "horse", "."]
    ]
    assert pairs.tokenize(["A man  rides"], "whitespace", False) == [["A", "man", "rides"]]


def test_synthetic_pairs_follow_their_rule():
    raw = pairs.synthetic_pairs(200, vocab_size=12, seed=3)
    assert set(raw["label"].tolist()) == {0, 1, 2}
    for premise, hypothesis, label in zip(raw["premise"], raw["hypothesis"], raw["label"]):
        premise, hypothesis = premise.split(), hypothesis.split()
        name = pairs.LABELS[label]
        if name == "contradiction":
            assert hypothesis[0] == "not"
            hypothesis = hypothesis[1:]
        absent = [w for w in hypothesis if w not in premise]
        assert len(absent) == (1 if name == "neutral" else 0)
        kept = [w for w in hypothesis if w in premise]
        assert kept == [w for w in premise if w in kept]  # in the premise's order


def test_vocabulary_comes_from_the_training_split_and_unknown_words_map_to_unk():
    data = pairs.load_pair_data(_config())
    train_words = {
        w for split in ("premise_tokens", "hypothesis_tokens") for s in getattr(data.splits["train"], split) for w in s
    }
    assert set(data.vocab.tokens[4:]) == train_words
    test = data.splits["test"]
    for tokens, ids in zip(test.premise_tokens, test.premise_ids):
        expected = [data.vocab.tokens.index(w) if w in train_words else data.vocab.unk_id for w in tokens]
        assert ids.tolist() == expected
    assert len(test) == 12 and test.labels.dtype == np.int64


def test_training_batches_depend_on_seed_and_epoch_and_drop_the_incomplete_batch():
    split = pairs.load_pair_data(_config()).splits["train"]
    a = pairs.make_pair_batches(split, 20, seed=1, epoch=0, pad_multiple=4)
    assert len(a) == 3  # 64 pairs: three full batches of 20, the last 4 dropped
    again = pairs.make_pair_batches(split, 20, seed=1, epoch=0, pad_multiple=4)
    other = pairs.make_pair_batches(split, 20, seed=1, epoch=1, pad_multiple=4)
    assert all(np.array_equal(x["index"], y["index"]) for x, y in zip(a, again))
    assert not all(np.array_equal(x["index"], y["index"]) for x, y in zip(a, other))
    for batch in a:
        assert batch["premise"].shape[1] % 4 == 0 and batch["hypothesis"].shape[1] % 4 == 0
        assert batch["example_mask"].all() and len(set(batch["index"].tolist())) == 20
        for row, index in enumerate(batch["index"]):
            words = split.premise_ids[index]
            assert batch["premise"][row, : len(words)].tolist() == words.tolist()
            assert batch["premise_mask"][row].sum() == len(words) and not batch["premise"][row, len(words) :].any()
            assert batch["label"][row] == split.labels[index]
    fixed = pairs.make_pair_batches(split, 20, seed=1, epoch=0, pad_multiple=4, fixed_shape=True)
    assert len({(b["premise"].shape, b["hypothesis"].shape) for b in fixed}) == 1


def test_evaluation_batches_cover_every_pair_once_in_order_with_padding_rows():
    split = pairs.load_pair_data(_config()).splits["test"]
    batches = pairs.make_pair_batches(split, 5, shuffle=False)
    assert len(batches) == 3 and len({b["premise"].shape for b in batches}) == 1
    index = np.concatenate([b["index"] for b in batches])
    assert index.tolist() == list(range(12)) + [-1, -1, -1]
    last = batches[-1]
    assert last["example_mask"].tolist() == [True, True, False, False, False]
    assert not last["premise_mask"][2:].any() and not last["hypothesis_mask"][2:].any()


def test_bad_data_config_is_a_one_line_error():
    with pytest.raises(ValueError, match="unknown entailment data set"):
        pairs.load_pair_data(_config(name="snli"))
    with pytest.raises(ValueError, match="unknown tokenizer"):
        pairs.check_data_config(_config(tokenizer="spaces"))
    with pytest.raises(ValueError, match="data.min_freq must be >= 1"):
        pairs.check_data_config(_config(min_freq=0))
    with pytest.raises(ValueError, match="fewer than one batch"):
        pairs.make_pair_batches(pairs.load_pair_data(_config()).splits["test"], 32)


def test_classification_metrics_by_hand():
    labels = np.array([0, 0, 0, 1, 1, 2])
    predictions = np.array([0, 0, 1, 1, 2, 2])
    matrix = confusion_matrix(labels, predictions, 3)
    assert matrix.tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    m = classification_metrics(labels, predictions, ("e", "n", "c"))
    assert m["accuracy"] == pytest.approx(4 / 6)
    # e: tp 2, predicted 2, gold 3; n: tp 1, predicted 2, gold 2; c: tp 1, predicted 2, gold 1
    assert (m["precision_e"], m["recall_e"]) == (pytest.approx(1.0), pytest.approx(2 / 3))
    assert (m["precision_n"], m["recall_n"]) == (pytest.approx(0.5), pytest.approx(0.5))
    assert (m["precision_c"], m["recall_c"]) == (pytest.approx(0.5), pytest.approx(1.0))
    assert m["f1_e"] == pytest.approx(0.8) and m["f1_c"] == pytest.approx(2 / 3)
    assert m["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert m["confusion_e_as_n"] == 1.0 and m["confusion_n_as_c"] == 1.0 and m["confusion_c_as_e"] == 0.0
    with pytest.raises(ValueError, match="must lie in"):
        confusion_matrix(labels, predictions + 1, 3)


SICK_HEADER = "\t".join(sick.COLUMNS)


def _sick_line(pair_id, premise, hypothesis, label="NEUTRAL", semeval_set="TRAIN"):
    fields = [str(pair_id), premise, hypothesis, label, "3.5", "A_neutral_B", "B_neutral_A", "a", "b", "F", "F"]
    return "\t".join([*fields, semeval_set])


def _write_sick(folder, lines):
    folder.mkdir()
    (folder / "SICK.txt").write_bytes("\r\n".join([SICK_HEADER, *lines]).encode())  # CRLF, as the real file
    return pairs.default_data_config() | {"manual_dir": str(folder), "tfds_dir": str(folder.parent / "tfds")}


def test_sick_pairs_from_a_crlf_file_are_tokenized_with_the_training_vocabulary(tmp_path):
    lines = [
        _sick_line(1, "A man is playing a guitar", "A man is not playing a guitar", "CONTRADICTION"),
        _sick_line(2, "A dog runs", "An animal runs", "ENTAILMENT", "TRIAL"),
        _sick_line(3, "The kids play", "A man sings", "NEUTRAL", "TEST"),
    ]
    data = pairs.load_pair_data(_write_sick(tmp_path / "sick", lines))
    train = data.splits["train"]
    assert train.hypothesis_tokens == [["a", "man", "is", "not", "playing", "a", "guitar"]]
    assert data.vocab.tokens[4:] == ["a", "guitar", "is", "man", "playing", "not"]  # by count (4, 2 x 4, 1), then a-z
    assert [int(data.splits[s].labels[0]) for s in pairs.SPLITS] == [2, 0, 1]
    assert data.splits["test"].premise_ids[0].tolist() == [data.vocab.unk_id] * 3


@pytest.mark.parametrize(
    "line, message",
    [
        (_sick_line(2, "A dog runs", "An animal runs", "MAYBE"), r"SICK\.txt:3: unknown entailment_label 'MAYBE'"),
        ("\t".join(_sick_line(2, "A dog", "An animal").split("\t")[:-2] + ["TRAIN"]), r"SICK\.txt:3: expected 12"),
    ],
)
def test_a_bad_sick_line_is_a_file_and_line_error(tmp_path, line, message):
    config = _write_sick(tmp_path / "sick", [_sick_line(1, "A man", "A person"), line])
    with pytest.raises(ValueError, match=message):
        pairs.load_pair_data(config)
