"""The in-memory form every data set takes: token ids, tokens and BLEU references per split."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from attn_research.data.vocabulary import Vocabulary

SPLIT_NAMES = ("train", "validation", "test")


@dataclasses.dataclass
class Split:
    """One split, example i in position i of every list.

    source_ids, target_ids: int32 arrays [seq_len] of vocabulary ids, without bos/eos.
    source_tokens, target_tokens: the tokens those ids come from (before unk mapping).
    references: the target text BLEU is computed against (lowercased raw target for Multi30k,
      the space-joined target tokens for SCAN and the synthetic tasks).
    """

    source_ids: list[np.ndarray]
    target_ids: list[np.ndarray]
    source_tokens: list[list[str]]
    target_tokens: list[list[str]]
    references: list[str]
    name: str

    def __post_init__(self):
        n = len(self.source_ids)
        lengths = {len(x) for x in (self.target_ids, self.source_tokens, self.target_tokens, self.references)}
        if lengths != {n}:
            raise ValueError(f"Split {self.name!r}: fields have different numbers of examples.")

    def __len__(self) -> int:
        return len(self.source_ids)

    @property
    def source_lengths(self) -> np.ndarray:
        """int32 [num_examples]: tokens per source sentence (no bos/eos)."""
        return np.fromiter(map(len, self.source_ids), np.int32, len(self.source_ids))

    @property
    def target_lengths(self) -> np.ndarray:
        """int32 [num_examples]: tokens per target sentence (no bos/eos)."""
        return np.fromiter(map(len, self.target_ids), np.int32, len(self.target_ids))

    def select(self, indices: Sequence[int] | np.ndarray, name: str | None = None) -> Split:
        """The examples at `indices`, in that order (renumbered from 0)."""
        indices = [int(i) for i in indices]
        return Split(
            source_ids=[self.source_ids[i] for i in indices],
            target_ids=[self.target_ids[i] for i in indices],
            source_tokens=[self.source_tokens[i] for i in indices],
            target_tokens=[self.target_tokens[i] for i in indices],
            references=[self.references[i] for i in indices],
            name=self.name if name is None else name,
        )


@dataclasses.dataclass
class TranslationData:
    """A sequence-to-sequence data set: vocabularies and the splits 'train', 'validation', 'test'.

    text_pipeline: the preprocessing.TextPipeline (normalization, tokenizers, reference form) the
    loader made the splits with; `preprocessing.preprocessing_of` turns it into the run's pipeline.
    """

    source_vocab: Vocabulary
    target_vocab: Vocabulary
    splits: dict[str, Split]
    name: str = ""
    text_pipeline: Any = None
    fingerprint: str | None = None  # of the upstream files the data was prepared from (load.load_dataset)

    def __getitem__(self, split: str) -> Split:
        return self.splits[split]


def encode_split(
    name: str,
    source_tokens: Sequence[Sequence[str]],
    target_tokens: Sequence[Sequence[str]],
    references: Sequence[str],
    source_vocab: Vocabulary,
    target_vocab: Vocabulary,
) -> Split:
    """Maps tokens to int32 id arrays with the two vocabularies and packs a Split."""
    return Split(
        source_ids=[np.asarray(source_vocab.encode(t), np.int32) for t in source_tokens],
        target_ids=[np.asarray(target_vocab.encode(t), np.int32) for t in target_tokens],
        source_tokens=[list(t) for t in source_tokens],
        target_tokens=[list(t) for t in target_tokens],
        references=list(references),
        name=name,
    )


def reverse_sources(split: Split) -> Split:
    """The split with every source sentence read backwards (ids and tokens), targets unchanged.

    Sutskever, Vinyals & Le (2014), sec. 3.3: reversing the source puts its first words next to the
    target's first words. On the synthetic reverse task it makes the gold alignment monotone (the copy
    task's diagonal), which monotone attentions (monotonic, MoChA, forward) can follow.
    """
    return dataclasses.replace(
        split,
        source_ids=[ids[::-1].copy() for ids in split.source_ids],
        source_tokens=[list(reversed(t)) for t in split.source_tokens],
    )


def filter_by_length(split: Split, max_len: int) -> Split:
    """Keeps the examples whose source and target both have at most `max_len` tokens (0: all)."""
    if max_len <= 0:
        return split
    keep = np.flatnonzero((split.source_lengths <= max_len) & (split.target_lengths <= max_len))
    return split.select(keep)
