"""Token <-> id mapping with fixed special ids: pad=0, bos=1, eos=2, unk=3."""

from __future__ import annotations

import collections
from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np

PAD, BOS, EOS, UNK = "<pad>", "<s>", "</s>", "<unk>"
SPECIAL_TOKENS = (PAD, BOS, EOS, UNK)
PAD_ID, BOS_ID, EOS_ID, UNK_ID = range(4)


class Detokenizer(Protocol):
    """Anything that turns a token list back into text (see `tokenizers.py`)."""

    def detokenize(self, tokens: Sequence[str]) -> str: ...


class _JoinWithSpaces:
    def detokenize(self, tokens: Sequence[str]) -> str:
        return " ".join(tokens)


class Vocabulary:
    """A fixed list of tokens; token i has id i, ids 0..3 are `<pad> <s> </s> <unk>`.

    `tokenizer` supplies `detokenize` (and usually `tokenize`): Moses for Multi30k word level,
    sentencepiece for subwords, " ".join for SCAN and the synthetic tasks (the default).
    Raises ValueError if `tokens` does not start with the four special tokens or repeats a token.
    """

    def __init__(self, tokens: Sequence[str], tokenizer: Detokenizer | None = None):
        tokens = list(tokens)
        if tuple(tokens[:4]) != SPECIAL_TOKENS:
            raise ValueError(f"A vocabulary must start with {SPECIAL_TOKENS}, got {tokens[:4]}.")
        index = {token: i for i, token in enumerate(tokens)}
        if len(index) != len(tokens):
            duplicates = [t for t, n in collections.Counter(tokens).items() if n > 1]
            raise ValueError(f"Repeated tokens in vocabulary: {duplicates[:10]}.")
        self._tokens = tokens
        self._index = index
        self.tokenizer = tokenizer if tokenizer is not None else _JoinWithSpaces()

    @classmethod
    def build(
        cls, token_lists: Iterable[Sequence[str]], *, min_freq: int = 1, tokenizer: Detokenizer | None = None
    ) -> Vocabulary:
        """Vocabulary of the tokens seen at least `min_freq` times, most frequent first.

        Ties are broken alphabetically, so the result depends only on the counts.
        """
        if min_freq < 1:
            raise ValueError(f"min_freq must be >= 1, got {min_freq}.")
        counts = collections.Counter(t for tokens in token_lists for t in tokens)
        for special in SPECIAL_TOKENS:
            counts.pop(special, None)
        kept = sorted((t for t, n in counts.items() if n >= min_freq), key=lambda t: (-counts[t], t))
        return cls(list(SPECIAL_TOKENS) + kept, tokenizer)

    @property
    def size(self) -> int:
        return len(self._tokens)

    def __len__(self) -> int:
        return len(self._tokens)

    @property
    def tokens(self) -> list[str]:
        """All tokens, in id order (a copy)."""
        return list(self._tokens)

    pad_id, bos_id, eos_id, unk_id = PAD_ID, BOS_ID, EOS_ID, UNK_ID
    pad_token, bos_token, eos_token, unk_token = PAD, BOS, EOS, UNK

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Ids of `tokens`; unknown tokens map to `unk_id`. No bos/eos are added."""
        get = self._index.get
        return [get(t, UNK_ID) for t in tokens]

    def decode(self, ids: Iterable[int] | np.ndarray) -> list[str]:
        """Tokens of `ids` up to (not including) the first eos; pad and bos are skipped.

        Raises ValueError for an id outside [0, size).
        """
        out = []
        for i in np.asarray(ids, dtype=np.int64).reshape(-1).tolist():
            if i == EOS_ID:
                break
            if i in (PAD_ID, BOS_ID):
                continue
            if not 0 <= i < len(self._tokens):
                raise ValueError(f"Token id {i} outside the vocabulary [0, {len(self._tokens)}).")
            out.append(self._tokens[i])
        return out

    def detokenize(self, tokens: Sequence[str]) -> str:
        """Text of `tokens` (the inverse of the vocabulary's tokenizer), used for BLEU."""
        return self.tokenizer.detokenize(list(tokens))

    def __repr__(self) -> str:
        return f"Vocabulary(size={self.size}, tokenizer={type(self.tokenizer).__name__})"
