"""`load_dataset`: the data entry point used by the trainer."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from attn_research.data import loaders, tfds_io
from attn_research.data.builders import Multi30k, Scan
from attn_research.data.dataset import TranslationData, filter_by_length, reverse_sources
from attn_research.validation import check_choice

DATASETS = tuple(loaders.LOADERS)
DATA_DIR_ENV = tfds_io.DATA_DIR_ENV
resolve_manual_dir = tfds_io.resolve_manual_dir
# data set name -> (builder, its config name) for the data sets prepared from files (fingerprinted).
PREPARED = {
    "scan": lambda cfg: (Scan, cfg.get("split", "simple")),
    "multi30k": lambda cfg: (Multi30k, f"{cfg.get('source_lang', 'de')}_{cfg.get('target_lang', 'en')}"),
}


def load_dataset(data_config) -> TranslationData:
    """Loads the data set described by `data_config` (an ml_collections.ConfigDict or a dict).

    Keys (see `config.default_data_config` for all defaults):
      name: 'scan' | 'multi30k' | 'synthetic'.
      scan: split ('simple' | 'length' | 'addprim_jump' | 'addprim_turn_left').
      multi30k: source_lang, target_lang ('en' | 'de' | 'fr' | 'cs'), tokenizer ('moses' |
        'sentencepiece'), min_freq (moses, 2), vocab_size (sentencepiece, 8000), lowercase (True).
      synthetic: task ('copy' | 'reverse' | 'sort'), vocab_size (number of symbols; the key
        synthetic_vocab_size wins if present), train_min_len, train_max_len, test_min_len,
        test_max_len, num_train, num_validation, num_test, seed.
      common: manual_dir, tfds_dir, cache_dir, max_len (drop *training* pairs whose source or
        target has more than max_len tokens; 0 keeps all), reverse_source (False; True reads every
        split's source sentences backwards, Sutskever et al. 2014 sec. 3.3: `dataset.reverse_sources`).
    Returns TranslationData with splits 'train', 'validation', 'test' and `fingerprint`: for SCAN and
    Multi30k, that of the upstream files the prepared data was made from (`tfds_io.manual_fingerprint`;
    None after a download), else None. Data prepared from other files than manual_dir's now is prepared
    again (tfds_io.read_text_pairs). SCAN has no upstream
    validation split: min(1000, 5%) unique training lines are held out as validation.
    Raises ValueError (listing the valid choices, suggesting the closest) for an unknown name,
    split, language, task or tokenizer; FileNotFoundError for a missing manual_dir; ValueError
    naming the file for malformed input files; tfds_io.DataUnavailableError (one line) when a download
    fails.
    """
    name = check_choice("dataset name", data_config.get("name"), DATASETS)
    tfds_dir = Path(data_config.get("tfds_dir") or tfds_io.DEFAULT_TFDS_DIR).expanduser()
    cache_dir = Path(data_config.get("cache_dir") or tfds_dir / "vocab").expanduser()
    start = time.perf_counter()
    data = loaders.LOADERS[name](
        data_config, manual_dir=resolve_manual_dir(data_config, name), tfds_dir=tfds_dir, cache_dir=cache_dir
    )
    if name in PREPARED:
        builder_cls, builder_config = PREPARED[name](data_config)
        data.fingerprint = tfds_io.prepared_fingerprint(builder_cls, builder_config, tfds_dir=tfds_dir)
    data.splits["train"] = filter_by_length(data.splits["train"], int(data_config.get("max_len", 0) or 0))
    if data_config.get("reverse_source", False):
        data.splits = {name: reverse_sources(split) for name, split in data.splits.items()}
    logging.info(
        "Loaded %s in %.1f s: %s; vocab %d -> %d.",
        data.name,
        time.perf_counter() - start,
        ", ".join(f"{k} {len(v)}" for k, v in data.splits.items()),
        data.source_vocab.size,
        data.target_vocab.size,
    )
    return data
