"""One loader per data set: raw text or generated pairs -> tokens -> vocabularies -> TranslationData.

Each takes the `data_config` and the resolved directories; `load.load_dataset` dispatches here.
"""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np

from attn_research.data import synthetic, tfds_io
from attn_research.data.builders import multi30k as multi30k_builder
from attn_research.data.builders import scan as scan_builder
from attn_research.data.config import setting
from attn_research.data.dataset import TranslationData, encode_split
from attn_research.data.preprocessing import TextPipeline, normalize
from attn_research.data.tokenizers import MosesWordTokenizer, WhitespaceTokenizer, train_sentencepiece
from attn_research.data.vocabulary import SPECIAL_TOKENS, Vocabulary
from attn_research.validation import check_choice

SCAN_SPLITS = tuple(scan_builder.SPLIT_FILES)
MULTI30K_LANGUAGES = multi30k_builder.LANGUAGES
MULTI30K_TOKENIZERS = ("moses", "sentencepiece")
SCAN_VALIDATION_MAX = 1000  # SCAN validation = min(1000, 5% of train) held-out examples
SCAN_VALIDATION_FRACTION = 0.05
SCAN_VALIDATION_SEED = 0


def scan_validation_indices(pairs: list[tuple[str, str]]) -> np.ndarray:
    """Sorted indices of the SCAN training examples held out as validation.

    min(1000, floor(5% of train)) examples, drawn with a fixed seed among the examples whose line
    occurs exactly once in the training file: the add-primitive splits repeat the isolated
    primitive ("jump" -> I_JUMP, 1,467 copies), and drawing only unique lines keeps every copy in
    train and every validation example unseen in training.
    """
    count = min(SCAN_VALIDATION_MAX, int(SCAN_VALIDATION_FRACTION * len(pairs)))
    seen = collections.Counter(pairs)
    candidates = np.array([i for i, p in enumerate(pairs) if seen[p] == 1], dtype=np.int64)
    rng = np.random.default_rng(SCAN_VALIDATION_SEED)
    return np.sort(rng.choice(candidates, size=min(count, len(candidates)), replace=False))


def _whitespace_data(name: str, text: dict[str, list[tuple[str, str]]]) -> TranslationData:
    """Whitespace-tokenized pairs per split (references: the target tokens joined by spaces); one
    vocabulary per side, from the train split."""
    tokenizer = WhitespaceTokenizer()
    pipeline = TextPipeline(tokenizer, tokenizer, references="tokens")
    tokens = {s: pipeline.tokenize([p[0] for p in v], [p[1] for p in v]) for s, v in text.items()}
    source_vocab = Vocabulary.build(tokens["train"][0], tokenizer=tokenizer)
    target_vocab = Vocabulary.build(tokens["train"][1], tokenizer=tokenizer)
    splits = {s: encode_split(s, *t, source_vocab, target_vocab) for s, t in tokens.items()}
    return TranslationData(source_vocab, target_vocab, splits, name=name, text_pipeline=pipeline)


def load_scan(cfg, *, manual_dir: Path | None, tfds_dir: Path, cache_dir: Path) -> TranslationData:
    """SCAN split `cfg.split`; validation is held out of train (see `scan_validation_indices`)."""
    del cache_dir  # unused
    split = check_choice("SCAN split", setting(cfg, "scan", "split"), SCAN_SPLITS)
    pairs = tfds_io.read_text_pairs(scan_builder.Scan, split, tfds_dir=tfds_dir, manual_dir=manual_dir)
    held_out = scan_validation_indices(pairs["train"])
    is_held_out = np.zeros(len(pairs["train"]), bool)
    is_held_out[held_out] = True
    text = {
        "train": [p for p, h in zip(pairs["train"], is_held_out) if not h],
        "validation": [pairs["train"][i] for i in held_out],
        "test": pairs["test"],
    }
    return _whitespace_data(f"scan/{split}", text)


def load_synthetic(cfg, *, manual_dir: Path | None, tfds_dir: Path, cache_dir: Path) -> TranslationData:
    """Synthetic task `cfg.task` (copy | reverse | sort); see `synthetic.py`.

    Train and validation lengths lie in [train_min_len, train_max_len], test lengths in
    [test_min_len, test_max_len]. Both vocabularies hold all `synthetic_vocab_size` symbols (+ 4 specials);
    a missing key takes its default in data/config.py.
    """
    del manual_dir, tfds_dir, cache_dir  # generated locally

    def get(key):
        return setting(cfg, "synthetic", key)

    task = check_choice("synthetic task", get("task"), synthetic.TASKS)
    vocab_size = int(get("synthetic_vocab_size"))  # the symbols (vocab_size is Multi30k's sentencepiece size)
    seed = int(get("seed"))
    train_range = (get("train_min_len"), get("train_max_len"))
    test_range = (get("test_min_len"), get("test_max_len"))
    plan = {  # split: (number of examples, min_len, max_len)
        "train": (get("num_train"), *train_range),
        "validation": (get("num_validation"), *train_range),
        "test": (get("num_test"), *test_range),
    }
    tokenizer = WhitespaceTokenizer()
    vocab = Vocabulary([*SPECIAL_TOKENS, *synthetic.symbols(vocab_size)], tokenizer)
    pipeline = TextPipeline(tokenizer, tokenizer, references="tokens")
    splits = {}
    for number, (split, (num, lo, hi)) in enumerate(plan.items()):
        sources, targets = synthetic.generate(
            task, vocab_size=vocab_size, min_len=int(lo), max_len=int(hi), num_examples=int(num), seed=[seed, number]
        )
        splits[split] = encode_split(split, sources, targets, [" ".join(t) for t in targets], vocab, vocab)
    return TranslationData(vocab, vocab, splits, name=f"synthetic/{task}", text_pipeline=pipeline)


def load_multi30k(cfg, *, manual_dir: Path | None, tfds_dir: Path, cache_dir: Path) -> TranslationData:
    """Multi30k task 1, `cfg.source_lang` -> `cfg.target_lang`, lowercased (unless lowercase=False).

    tokenizer 'moses': sacremoses words, vocabularies of the train tokens seen >= min_freq times.
    tokenizer 'sentencepiece': one unigram model per language trained on its train side
    (`vocab_size` pieces, soft limit), saved under `cache_dir/multi30k/`.
    Text goes through `preprocessing.TextPipeline` (strip, lowercase, tokenize); references are the
    (lowercased) raw target sentences. Raises ValueError for an unknown
    language or tokenizer, or source_lang == target_lang.
    """
    src = check_choice("Multi30k source language", setting(cfg, "multi30k", "source_lang"), MULTI30K_LANGUAGES)
    tgt = check_choice("Multi30k target language", setting(cfg, "multi30k", "target_lang"), MULTI30K_LANGUAGES)
    if src == tgt:
        raise ValueError(f"source_lang and target_lang are both {src!r}.")
    kind = check_choice("Multi30k tokenizer", setting(cfg, "multi30k", "tokenizer"), MULTI30K_TOKENIZERS)
    pairs = tfds_io.read_text_pairs(multi30k_builder.Multi30k, f"{src}_{tgt}", tfds_dir=tfds_dir, manual_dir=manual_dir)
    lowercase = bool(setting(cfg, "multi30k", "lowercase"))
    if kind == "moses":
        tokenizers = (MosesWordTokenizer(src), MosesWordTokenizer(tgt))
    else:
        vocab_size = int(setting(cfg, "multi30k", "vocab_size"))
        tokenizers = tuple(
            train_sentencepiece(
                [normalize(p[side], lowercase) for p in pairs["train"]],
                Path(cache_dir) / "multi30k",
                name=f"multi30k_{lang}",
                vocab_size=vocab_size,
            )
            for side, lang in enumerate((src, tgt))
        )
    pipeline = TextPipeline(*tokenizers, lowercase=lowercase, references="text")
    tokens = {s: pipeline.tokenize([p[0] for p in v], [p[1] for p in v]) for s, v in pairs.items()}
    if kind == "moses":
        min_freq = int(setting(cfg, "multi30k", "min_freq"))
        vocabs = [
            Vocabulary.build(tokens["train"][side], min_freq=min_freq, tokenizer=tokenizers[side]) for side in (0, 1)
        ]
    else:
        vocabs = [Vocabulary(tok.pieces(), tok) for tok in tokenizers]
    splits = {s: encode_split(s, *t, *vocabs) for s, t in tokens.items()}
    return TranslationData(vocabs[0], vocabs[1], splits, name=f"multi30k/{src}_{tgt}/{kind}", text_pipeline=pipeline)


LOADERS = {"scan": load_scan, "multi30k": load_multi30k, "synthetic": load_synthetic}
