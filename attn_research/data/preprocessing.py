"""The one preprocessing pipeline of a run: text normalization, tokenization, vocabularies, source order.

Every path that turns text into model input goes through here: the loaders (training, validation and
test splits), `evaluate --split`, `evaluate --source_file/--reference_file` and translation of input
without references. The steps, in order:

  1. normalize: strip the line's surrounding whitespace; lowercase it if the run was trained lowercased
     (Multi30k's `lowercase`, the default).
  2. tokenize with the run's tokenizer (whitespace, Moses words or a sentencepiece model).
  3. map tokens to ids with the run's vocabularies (unknown tokens -> <unk>).
  4. read the source backwards if the data config asks for `reverse_source` (Sutskever et al. 2014,
     sec. 3.3; `dataset.reverse_sources`).
References for BLEU are made by the same steps: the normalized target line (Multi30k), or the target
tokens joined by spaces (SCAN, synthetic tasks). Output is detokenized with the target tokenizer.

`save_preprocessing(workdir, data, data_config)` writes <workdir>/preprocessing/: pipeline.json (the
settings), source_vocab.json and target_vocab.json (tokens in id order), and for sentencepiece a copy of
each model file (source.model, target.model), so that a run folder translates without the data set.
`load_preprocessing(workdir)` reads it back (None for a run trained before this folder existed).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from attn_research.data.dataset import Split, encode_split, reverse_sources
from attn_research.data.tokenizers import tokenizer_from_spec
from attn_research.data.vocabulary import Vocabulary
from attn_research.jsonio import read_json, write_json

FOLDER = "preprocessing"
SETTINGS_FILE = "pipeline.json"
FORMAT = 1
REFERENCE_FORMS = ("text", "tokens")


def normalize(line: str, lowercase: bool) -> str:
    """The line stripped of surrounding whitespace, lowercased if `lowercase` (str.lower)."""
    line = line.strip()
    return line.lower() if lowercase else line


@dataclasses.dataclass
class TextPipeline:
    """Steps 1-2 (normalize, tokenize) for each side, and how a reference is made.

    references: 'text' = the normalized target line; 'tokens' = its tokens joined by single spaces.
    """

    source_tokenizer: object
    target_tokenizer: object
    lowercase: bool = False
    references: str = "text"

    def __post_init__(self):
        if self.references not in REFERENCE_FORMS:
            raise ValueError(f"references must be one of {REFERENCE_FORMS}, got {self.references!r}.")

    def normalize(self, line: str) -> str:
        """Step 1 of a raw line: `normalize(line, self.lowercase)`."""
        return normalize(line, self.lowercase)

    def source_tokens(self, line: str) -> list[str]:
        """Tokens of a raw source line (normalized, then tokenized)."""
        return self.source_tokenizer.tokenize(self.normalize(line))

    def target_tokens(self, line: str) -> list[str]:
        """Tokens of a raw target line (normalized, then tokenized)."""
        return self.target_tokenizer.tokenize(self.normalize(line))

    def reference(self, line: str) -> str:
        """The BLEU reference of a raw target line (see the class docstring)."""
        if self.references == "tokens":
            return " ".join(self.target_tokens(line))
        return self.normalize(line)

    def tokenize(
        self, sources: Sequence[str], targets: Sequence[str] | None
    ) -> tuple[list[list[str]], list[list[str]], list[str]]:
        """(source tokens, target tokens, references) of raw lines (steps 1-2).

        targets None (input without references): empty target token lists and empty references.
        Raises ValueError if sources and targets differ in length.
        """
        if targets is not None and len(targets) != len(sources):
            raise ValueError(f"{len(sources)} source lines but {len(targets)} target lines.")
        source_tokens = [self.source_tokens(line) for line in sources]
        if targets is None:
            return source_tokens, [[] for _ in sources], ["" for _ in sources]
        return source_tokens, [self.target_tokens(line) for line in targets], [self.reference(line) for line in targets]


@dataclasses.dataclass
class Preprocessing:
    """A run's whole pipeline: TextPipeline + vocabularies + source order (module docstring)."""

    text: TextPipeline
    source_vocab: Vocabulary
    target_vocab: Vocabulary
    reverse_source: bool = False
    dataset: str = ""

    @property
    def lowercase(self) -> bool:
        return self.text.lowercase

    def encode(self, name: str, sources: Sequence[str], targets: Sequence[str] | None = None) -> Split:
        """A Split of raw source lines (and raw target lines, None for input without references), processed
        exactly as the run's training data: steps 1-4."""
        split = encode_split(name, *self.text.tokenize(sources, targets), self.source_vocab, self.target_vocab)
        return reverse_sources(split) if self.reverse_source else split

    def detokenize(self, tokens: Sequence[str]) -> str:
        """Output text of target tokens (the target tokenizer's inverse)."""
        return self.target_vocab.detokenize(tokens)

    def settings(self) -> dict:
        """The JSON-able settings (tokenizer specs with their original paths, no vocabularies)."""
        return {
            "dataset": self.dataset,
            "lowercase": self.lowercase,
            "references": self.text.references,
            "reverse_source": self.reverse_source,
            "source_tokenizer": self.text.source_tokenizer.spec(),
            "target_tokenizer": self.text.target_tokenizer.spec(),
        }

    def same_as(self, other: Preprocessing) -> list[str]:
        """What differs from `other` (settings other than file paths, vocabularies); [] if nothing."""
        differ = []
        mine, theirs = self.settings(), other.settings()
        for key in ("lowercase", "references", "reverse_source"):
            if mine[key] != theirs[key]:
                differ.append(f"{key} {theirs[key]} -> {mine[key]}")
        for side in ("source", "target"):
            if mine[f"{side}_tokenizer"]["kind"] != theirs[f"{side}_tokenizer"]["kind"]:
                differ.append(f"{side} tokenizer")
            if getattr(self, f"{side}_vocab").tokens != getattr(other, f"{side}_vocab").tokens:
                differ.append(f"{side} vocabulary")
        return differ


def preprocessing_of(data, data_config) -> Preprocessing:
    """The pipeline that made `data` (a TranslationData from `load_dataset(data_config)`).

    Raises ValueError if `data` carries no TextPipeline (built by something other than the loaders).
    """
    if getattr(data, "text_pipeline", None) is None:
        raise ValueError(f"data set {data.name!r} carries no text pipeline (not built by data.loaders).")
    return Preprocessing(
        data.text_pipeline,
        data.source_vocab,
        data.target_vocab,
        reverse_source=bool(data_config.get("reverse_source", False)),
        dataset=data.name,
    )


def _copy_atomic(source: str | os.PathLike, destination: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".tmp", dir=destination.parent)
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, destination)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def save_preprocessing(workdir: str | os.PathLike, data, data_config) -> Path:
    """Writes the run's pipeline to <workdir>/preprocessing/ (module docstring); returns that folder.

    data: the TranslationData the run trains on; data_config: its config (reverse_source).
    Sentencepiece model files are copied in; every file is written atomically.
    """
    pipeline = preprocessing_of(data, data_config)
    folder = Path(workdir) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    settings = pipeline.settings()
    for side in ("source", "target"):
        spec = dict(settings[f"{side}_tokenizer"])
        if spec["kind"] == "sentencepiece":
            _copy_atomic(spec["model"], folder / f"{side}.model")
            spec["model"] = f"{side}.model"
        settings[f"{side}_tokenizer"] = spec
        settings[f"{side}_vocabulary"] = f"{side}_vocab.json"
        write_json(folder / f"{side}_vocab.json", getattr(pipeline, f"{side}_vocab").tokens, indent=None)
    write_json(folder / SETTINGS_FILE, {"format": FORMAT, **settings})
    return folder


def load_preprocessing(workdir: str | os.PathLike) -> Preprocessing | None:
    """The pipeline saved in <workdir>/preprocessing/, or None if the run has none (trained before it was
    saved: rebuild it with `preprocessing_of(load_dataset(config.data), config.data)`).

    Raises CorruptJSONError / ValueError naming the file for an unreadable or unknown-format file,
    FileNotFoundError for a missing vocabulary or model file.
    """
    folder = Path(workdir) / FOLDER
    path = folder / SETTINGS_FILE
    if not path.is_file():
        return None
    settings = read_json(path)
    if settings.get("format") != FORMAT:
        raise ValueError(f"{path}: unknown format {settings.get('format')!r} (expected {FORMAT}).")
    tokenizers = [tokenizer_from_spec(settings[f"{side}_tokenizer"], folder) for side in ("source", "target")]
    vocabs = [
        Vocabulary(read_json(folder / settings[f"{side}_vocabulary"]), tokenizer)
        for side, tokenizer in zip(("source", "target"), tokenizers)
    ]
    text = TextPipeline(*tokenizers, lowercase=bool(settings["lowercase"]), references=settings["references"])
    return Preprocessing(
        text, *vocabs, reverse_source=bool(settings["reverse_source"]), dataset=settings.get("dataset", "")
    )
