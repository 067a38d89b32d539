"""The sentence pairs of the entailment task: SICK (data/builders/sick.py) or a synthetic check set; tokens,
vocabulary, ids and batches.

Tokenization (one documented rule): lowercase (data.lowercase), then Moses word tokenization for English
(sacremoses; data.tokenizer 'moses') or whitespace splitting ('whitespace'). The vocabulary is built from the
training split's premises and hypotheses (words seen at least data.min_freq times, most frequent first; ids
0-3 are <pad> <s> </s> <unk>; </s> separates the packed pair of the attentive classifier); other words map
to <unk>. Labels are indices into LABELS (SICK's order).

The synthetic set ('synthetic'): premises of random words w0..w{V-1}; an entailed hypothesis is an ordered
subsequence of the premise's words, a contradiction is such a subsequence preceded by "not", a neutral one is
a subsequence with one word replaced by a word absent from the premise. Seeded, for smoke runs and tests.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from attn_research.data.tokenizers import MosesWordTokenizer, WhitespaceTokenizer
from attn_research.data.vocabulary import Vocabulary
from attn_research.validation import check_choice

LABELS = ("entailment", "neutral", "contradiction")  # = data.builders.sick.LABELS, SICK's order
DATA_NAMES = ("sick", "synthetic")
TOKENIZERS = ("moses", "whitespace")
SPLITS = ("train", "validation", "test")
STEP_ARRAYS = ("premise", "premise_mask", "hypothesis", "hypothesis_mask", "label", "example_mask")


@dataclasses.dataclass(frozen=True)
class PairSplit:
    """One split: premise_tokens / hypothesis_tokens [pairs] token lists, premise_ids / hypothesis_ids [pairs]
    int32 arrays (vocabulary ids), labels [pairs] int64 (index into LABELS)."""

    premise_tokens: list[list[str]]
    hypothesis_tokens: list[list[str]]
    premise_ids: list[np.ndarray]
    hypothesis_ids: list[np.ndarray]
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


@dataclasses.dataclass(frozen=True)
class PairData:
    """vocab: the training split's Vocabulary; splits: {"train", "validation", "test": PairSplit};
    labels: the class names (LABELS); fingerprint: of the upstream file the prepared data came from, or None."""

    vocab: Vocabulary
    splits: dict[str, PairSplit]
    labels: tuple[str, ...] = LABELS
    fingerprint: str | None = None


def default_data_config() -> dict[str, Any]:
    """config.data of the entailment task, with defaults."""
    return {
        "name": "sick",
        "manual_dir": "",  # "": $ATTN_RESEARCH_DATA_DIR/sick, else the public URL
        "tfds_dir": "",  # "": ~/.cache/attn_research/tfds
        "tokenizer": "moses",
        "lowercase": True,
        "min_freq": 1,
        "pad_multiple": 8,  # training batches are padded to a multiple of this length (fewer compiled shapes)
        "synthetic_vocab_size": 12,
        "num_train": 2000,
        "num_validation": 200,
        "num_test": 200,
    }


def check_data_config(data: Mapping[str, Any]) -> None:
    """Raises ValueError (one line) for an unknown data.name or data.tokenizer, or a count below its minimum."""
    check_choice("entailment data set (data.name)", data["name"], DATA_NAMES)
    check_choice("tokenizer (data.tokenizer)", data["tokenizer"], TOKENIZERS)
    for key, low in (("min_freq", 1), ("pad_multiple", 1), ("synthetic_vocab_size", 4)):
        if data[key] < low:
            raise ValueError(f"data.{key} must be >= {low}, got {data[key]}")
    if data["name"] == "synthetic":
        for key in ("num_train", "num_validation", "num_test"):
            if data[key] < 1:
                raise ValueError(f"data.{key} must be >= 1, got {data[key]}")


def tokenize(texts: Sequence[str], tokenizer: str, lowercase: bool) -> list[list[str]]:
    """The token lists of `texts`: lowercased if `lowercase`, then Moses (English) or whitespace tokens."""
    splitter = MosesWordTokenizer("en") if tokenizer == "moses" else WhitespaceTokenizer()
    return [splitter.tokenize(text.lower() if lowercase else text) for text in texts]


def synthetic_pairs(num_pairs: int, vocab_size: int, seed: int) -> dict[str, Any]:
    """`num_pairs` synthetic pairs (module docstring), labels uniform: {"premise": [str], "hypothesis": [str],
    "label": int64 [pairs]}. Premises have 4-8 distinct words of w0..w{vocab_size-1}; hypotheses 2-4 words."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(vocab_size)]
    premises, hypotheses, labels = [], [], rng.integers(0, len(LABELS), num_pairs)
    for label in labels:
        premise = list(rng.choice(words, size=int(rng.integers(4, min(8, vocab_size - 1) + 1)), replace=False))
        keep = np.sort(rng.choice(len(premise), size=int(rng.integers(2, 5)), replace=False))
        hypothesis = [premise[i] for i in keep]
        if LABELS[label] == "contradiction":
            hypothesis = ["not", *hypothesis]
        elif LABELS[label] == "neutral":
            absent = [w for w in words if w not in premise]
            hypothesis[int(rng.integers(len(hypothesis)))] = str(rng.choice(absent))
        premises.append(" ".join(premise))
        hypotheses.append(" ".join(hypothesis))
    return {"premise": premises, "hypothesis": hypotheses, "label": np.asarray(labels, np.int64)}


def _raw_splits(data: Mapping[str, Any]) -> tuple[dict[str, dict[str, Any]], str | None]:
    """({split: {"premise", "hypothesis", "label"}}, fingerprint) of config.data."""
    if data["name"] == "synthetic":
        sizes = {"train": data["num_train"], "validation": data["num_validation"], "test": data["num_test"]}
        return {
            s: synthetic_pairs(n, data["synthetic_vocab_size"], seed=i) for i, (s, n) in enumerate(sizes.items())
        }, None
    from attn_research.data import tfds_io  # pylint: disable=import-outside-toplevel  (TFDS: only for SICK)
    from attn_research.data.builders import sick  # pylint: disable=import-outside-toplevel

    tfds_dir = data["tfds_dir"] or None
    raw = sick.load_sick(manual_dir=data["manual_dir"] or None, tfds_dir=tfds_dir)
    return raw, tfds_io.prepared_fingerprint(sick.Sick, None, tfds_dir=tfds_dir)


def load_pair_data(data: Mapping[str, Any]) -> PairData:
    """The pairs of config.data (keys of default_data_config), tokenized and encoded with the training
    split's vocabulary. Raises ValueError for a bad config (check_data_config), and what sick.load_sick
    raises (a malformed SICK.txt: `path:line: ...`; no file and no network: a one-line error)."""
    check_data_config(data)
    raw, fingerprint = _raw_splits(data)
    tokens = {
        split: (
            tokenize(raw[split]["premise"], data["tokenizer"], data["lowercase"]),
            tokenize(raw[split]["hypothesis"], data["tokenizer"], data["lowercase"]),
        )
        for split in SPLITS
    }
    vocab = Vocabulary.build(tokens["train"][0] + tokens["train"][1], min_freq=data["min_freq"])
    splits = {}
    for split in SPLITS:
        premises, hypotheses = tokens[split]
        splits[split] = PairSplit(
            premise_tokens=premises,
            hypothesis_tokens=hypotheses,
            premise_ids=[np.asarray(vocab.encode(t), np.int32) for t in premises],
            hypothesis_ids=[np.asarray(vocab.encode(t), np.int32) for t in hypotheses],
            labels=np.asarray(raw[split]["label"], np.int64),
        )
    return PairData(vocab, splits, LABELS, fingerprint)


def _padded(sequences: Sequence[np.ndarray], length: int) -> tuple[np.ndarray, np.ndarray]:
    ids = np.zeros((len(sequences), length), np.int32)
    mask = np.zeros((len(sequences), length), bool)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)], mask[row, : len(seq)] = seq, True
    return ids, mask


def _round_up(n: int, multiple: int) -> int:
    return max(multiple, -(-n // multiple) * multiple)


def make_pair_batches(
    split: PairSplit,
    batch_size: int,
    *,
    seed: int = 0,
    epoch: int = 0,
    shuffle: bool = True,
    pad_multiple: int = 8,
    fixed_shape: bool = False,
) -> list[dict[str, np.ndarray]]:
    """The batches of one pass over `split`.

    shuffle=True (training): the order is a permutation drawn from (seed, epoch) only; the last incomplete
    batch is dropped; each batch is padded to its longest premise and hypothesis rounded up to a multiple
    of pad_multiple, or with fixed_shape to the split's longest (rounded up), so every batch has one shape.
    shuffle=False (evaluation): split order, every pair once, all batches padded to the split's longest
    (one compiled shape), the last batch completed with padding rows (example_mask False, index -1).
    Each batch: premise [batch, prem_len] int32, premise_mask bool, hypothesis [batch, hyp_len] int32,
    hypothesis_mask bool, label [batch] int32, example_mask [batch] bool (False = a padding row), index
    [batch] int64 (the pair's position in the split; -1 for padding; host only, not a step array).
    Raises ValueError if batch_size < 1 or, when training, the split has fewer pairs than one batch.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    n = len(split)
    if shuffle and n < batch_size:
        raise ValueError(f"the split has {n} pairs, fewer than one batch of {batch_size}")
    order = np.random.default_rng((seed, epoch)).permutation(n) if shuffle else np.arange(n)
    groups = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    if shuffle and len(groups[-1]) < batch_size:
        groups.pop()
    longest_p = max(len(s) for s in split.premise_ids)
    longest_h = max(len(s) for s in split.hypothesis_ids)
    batches = []
    for rows in groups:
        if shuffle and not fixed_shape:
            prem_len = _round_up(max(len(split.premise_ids[i]) for i in rows), pad_multiple)
            hyp_len = _round_up(max(len(split.hypothesis_ids[i]) for i in rows), pad_multiple)
        else:
            prem_len, hyp_len = _round_up(longest_p, pad_multiple), _round_up(longest_h, pad_multiple)
        fill = batch_size - len(rows)
        premise, premise_mask = _padded([split.premise_ids[i] for i in rows] + [np.zeros(0, np.int32)] * fill, prem_len)
        hypothesis, hypothesis_mask = _padded(
            [split.hypothesis_ids[i] for i in rows] + [np.zeros(0, np.int32)] * fill, hyp_len
        )
        batches.append(
            {
                "premise": premise,
                "premise_mask": premise_mask,
                "hypothesis": hypothesis,
                "hypothesis_mask": hypothesis_mask,
                "label": np.concatenate([split.labels[rows], np.zeros(fill, np.int64)]).astype(np.int32),
                "example_mask": np.arange(batch_size) < len(rows),
                "index": np.concatenate([rows, -np.ones(fill, np.int64)]).astype(np.int64),
            }
        )
    return batches


def save_vocabulary(workdir: str, vocab: Vocabulary) -> str:
    """Writes the vocabulary, one token a line in id order, to <workdir>/vocabulary.txt; returns the path."""
    path = os.path.join(workdir, "vocabulary.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(vocab.tokens) + "\n")
    return path
