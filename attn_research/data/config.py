"""The data defaults, written once: every key `load_dataset` reads, per data set, with its default.

`default_data_config(name)` is one data set's config; `text_data_config()` is the union of all of them (the
text-to-text task's config.data, base_config().data), where every key keeps the same default. The loaders read
their keys through `setting`, so a config without a key gets the default written here and nowhere else.
The synthetic tasks' symbol count is `synthetic_vocab_size` (Multi30k's `vocab_size` is a sentencepiece size).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ml_collections

from attn_research.validation import check_choice

# Every data set: manual_dir ("": $ATTN_RESEARCH_DATA_DIR/<name> if set, else download), tfds_dir ("":
# ~/.cache/attn_research/tfds), cache_dir ("": <tfds_dir>/vocab, sentencepiece models), max_len (drop training
# pairs with a side longer than this; 0 = keep all), reverse_source (read every source sentence backwards,
# Sutskever et al. 2014 sec. 3.3).
COMMON = dict(manual_dir="", tfds_dir="", cache_dir="", max_len=0, reverse_source=False)

DEFAULTS = {
    "scan": dict(split="simple"),
    "multi30k": dict(
        source_lang="de", target_lang="en", tokenizer="moses", min_freq=2, vocab_size=8000, lowercase=True
    ),
    "synthetic": dict(
        task="reverse",
        synthetic_vocab_size=20,
        train_min_len=3,
        train_max_len=12,
        test_min_len=3,
        test_max_len=12,
        num_train=10000,
        num_validation=500,
        num_test=1000,
        seed=0,
    ),
}


def default_data_config(name: str) -> ml_collections.ConfigDict:
    """All keys for data set `name` ('scan' | 'multi30k' | 'synthetic') with their defaults (COMMON and
    DEFAULTS[name]). Raises ValueError for an unknown name."""
    check_choice("dataset name", name, tuple(DEFAULTS))
    return ml_collections.ConfigDict({"name": name, **COMMON, **DEFAULTS[name]})


def text_data_config(name: str = "synthetic") -> ml_collections.ConfigDict:
    """Every key of every data set with its default, `name` selected: config.data of the text-to-text task,
    so that any data set's key can be set from the command line."""
    check_choice("dataset name", name, tuple(DEFAULTS))
    keys = {"name": name, **COMMON}
    for defaults in DEFAULTS.values():
        keys.update(defaults)
    return ml_collections.ConfigDict(keys)


def setting(data_config: Mapping[str, Any], name: str, key: str) -> Any:
    """data_config[key], or its default for data set `name` when the config lacks the key (or holds None)."""
    value = data_config.get(key)
    if value is None:
        value = {**COMMON, **DEFAULTS[name]}[key]
    return value
