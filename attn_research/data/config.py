"""Default `data_config` for each data set, with every key `load_dataset` reads."""

from __future__ import annotations

import ml_collections

_COMMON = dict(manual_dir=None, tfds_dir=None, cache_dir=None, max_len=0, reverse_source=False)

_DEFAULTS = {
    "scan": dict(split="simple"),
    "multi30k": dict(
        source_lang="de", target_lang="en", tokenizer="moses", min_freq=2, vocab_size=8000, lowercase=True
    ),
    "synthetic": dict(
        task="reverse",
        vocab_size=10,
        train_min_len=1,
        train_max_len=20,
        test_min_len=21,
        test_max_len=40,
        num_train=10000,
        num_validation=500,
        num_test=1000,
        seed=0,
    ),
}


def default_data_config(name: str) -> ml_collections.ConfigDict:
    """All keys for data set `name` ('scan' | 'multi30k' | 'synthetic') with their defaults.

    Common keys: manual_dir (None: $ATTN_RESEARCH_DATA_DIR/<name> if set, else download),
    tfds_dir (None: ~/.cache/attn_research/tfds), cache_dir (None: <tfds_dir>/vocab, for
    sentencepiece models), max_len (drop training pairs with a side longer than this; 0 = keep all),
    reverse_source (read every source sentence backwards, Sutskever et al. 2014 sec. 3.3).
    Raises ValueError for an unknown name.
    """
    from attn_research.validation import check_choice

    check_choice("dataset name", name, tuple(_DEFAULTS))
    return ml_collections.ConfigDict({"name": name, **_COMMON, **_DEFAULTS[name]})
