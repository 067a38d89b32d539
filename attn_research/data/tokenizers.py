"""Text <-> token-list conversions: whitespace, Moses words (sacremoses), sentencepiece subwords.

Each tokenizer has `tokenize(text) -> list[str]` and `detokenize(tokens) -> str` and pickles
cheaply (the underlying objects are rebuilt lazily).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from attn_research.data import vocabulary


class WhitespaceTokenizer:
    """Split on whitespace; join with single spaces (SCAN and the synthetic tasks)."""

    def tokenize(self, text: str) -> list[str]:
        return text.split()

    def detokenize(self, tokens: Sequence[str]) -> str:
        return " ".join(tokens)

    def spec(self) -> dict:
        """What `tokenizer_from_spec` rebuilds this tokenizer from."""
        return {"kind": "whitespace"}


class MosesWordTokenizer:
    """Moses (sacremoses) word tokenization for language `lang`, without XML escaping.

    Lower-casing is left to the caller. `detokenize` is MosesDetokenizer(lang).
    """

    def __init__(self, lang: str):
        self.lang = lang
        self._tokenizer = self._detokenizer = None

    def tokenize(self, text: str) -> list[str]:
        if self._tokenizer is None:
            import sacremoses

            self._tokenizer = sacremoses.MosesTokenizer(lang=self.lang)
        return self._tokenizer.tokenize(text, escape=False)

    def detokenize(self, tokens: Sequence[str]) -> str:
        if self._detokenizer is None:
            import sacremoses

            self._detokenizer = sacremoses.MosesDetokenizer(lang=self.lang)
        return self._detokenizer.detokenize(list(tokens))

    def spec(self) -> dict:
        """What `tokenizer_from_spec` rebuilds this tokenizer from."""
        return {"kind": "moses", "lang": self.lang}

    def __getstate__(self):
        return {"lang": self.lang}

    def __setstate__(self, state):
        self.__init__(state["lang"])


class SentencePieceTokenizer:
    """Sentencepiece subwords from the model file `model_path` (pieces as strings)."""

    def __init__(self, model_path: str | os.PathLike):
        self.model_path = str(model_path)
        self._processor = None

    @property
    def processor(self):
        if self._processor is None:
            import sentencepiece

            self._processor = sentencepiece.SentencePieceProcessor(model_file=self.model_path)
        return self._processor

    def tokenize(self, text: str) -> list[str]:
        return self.processor.encode(text, out_type=str)

    def detokenize(self, tokens: Sequence[str]) -> str:
        return self.processor.decode_pieces(list(tokens))

    def pieces(self) -> list[str]:
        """All pieces in id order; ids 0..3 are the vocabulary's special tokens."""
        p = self.processor
        return [p.id_to_piece(i) for i in range(p.get_piece_size())]

    def spec(self) -> dict:
        """What `tokenizer_from_spec` rebuilds this tokenizer from (the model file's path)."""
        return {"kind": "sentencepiece", "model": self.model_path}

    def __getstate__(self):
        return {"model_path": self.model_path}

    def __setstate__(self, state):
        self.__init__(state["model_path"])


TOKENIZER_KINDS = ("whitespace", "moses", "sentencepiece")


def tokenizer_from_spec(spec: dict, folder: str | os.PathLike | None = None):
    """The tokenizer a `spec()` dict describes; a relative sentencepiece model path is read from `folder`.

    Raises ValueError for an unknown kind, FileNotFoundError for a missing sentencepiece model file.
    """
    kind = spec.get("kind")
    if kind == "whitespace":
        return WhitespaceTokenizer()
    if kind == "moses":
        return MosesWordTokenizer(spec["lang"])
    if kind == "sentencepiece":
        path = Path(folder or ".") / spec["model"]
        if not path.is_file():
            raise FileNotFoundError(f"sentencepiece model not found: {path}")
        return SentencePieceTokenizer(path)
    raise ValueError(f"Unknown tokenizer kind {kind!r}. Valid choices: {', '.join(TOKENIZER_KINDS)}.")


def train_sentencepiece(
    texts: Sequence[str], cache_dir: str | os.PathLike, *, name: str, vocab_size: int
) -> SentencePieceTokenizer:
    """Trains (or reuses) a unigram sentencepiece model on `texts`.

    The model file is `cache_dir/{name}_sp{vocab_size}_{hash of texts}.model`, so a changed corpus
    gives a new file; it is written atomically. `vocab_size` is a soft limit
    (`hard_vocab_limit=False`): a small corpus may give fewer pieces. Special ids follow
    `vocabulary`: pad=0, bos=1, eos=2, unk=3.
    """
    import sentencepiece

    digest = hashlib.sha1("\n".join(texts).encode("utf-8")).hexdigest()[:12]
    cache_dir = Path(cache_dir).expanduser()
    model_path = cache_dir / f"{name}_sp{vocab_size}_{digest}.model"
    if not model_path.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
            prefix = os.path.join(tmp, "model")
            sentencepiece.SentencePieceTrainer.train(
                sentence_iterator=iter(texts),
                model_prefix=prefix,
                vocab_size=vocab_size,
                model_type="unigram",
                character_coverage=1.0,
                hard_vocab_limit=False,
                pad_id=vocabulary.PAD_ID,
                bos_id=vocabulary.BOS_ID,
                eos_id=vocabulary.EOS_ID,
                unk_id=vocabulary.UNK_ID,
                pad_piece=vocabulary.PAD,
                bos_piece=vocabulary.BOS,
                eos_piece=vocabulary.EOS,
                unk_piece=vocabulary.UNK,
                num_threads=os.cpu_count() or 1,
                minloglevel=2,
            )
            os.replace(prefix + ".model", model_path)
    return SentencePieceTokenizer(model_path)
