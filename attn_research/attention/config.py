"""From a config to an attention module: attention_config (config.model.attention), build_attention and
attention_settings (what a run records). Every family is read through the FAMILIES registry (registry.py):
this module holds no per-family code, and no module of the package imports it.

  config.family      a name in FAMILIES (default 'factored': score x window x normalizer; the README catalogue
                     lists every family with its equation and source)
  config.score, config.window, config.normalizer, config.dim   (factored, and the families that read them)
  every other key    a field of some family's module (settings.py); None = that family's own default
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import flax.linen as nn
import ml_collections
from ml_collections import config_dict

from attn_research.attention.registry import FAMILIES
from attn_research.attention.settings import config_keys, module_settings
from attn_research.validation import check_choice

DEFAULT_FAMILY = "factored"


def all_config_keys() -> dict[str, type]:
    """Every key any registered family reads -> its type (bool, int, float or str), in registration order.
    Raises ValueError if two families read one key with different types."""
    keys: dict[str, type] = {}
    for entry in FAMILIES.entries():
        for key, kind in config_keys(entry.target).items():
            if keys.setdefault(key, kind) is not kind:
                raise ValueError(f"attention config key {key!r} is read as {keys[key].__name__} and {kind.__name__}")
    return keys


def attention_config(
    score: str = "additive", window: str = "global", normalizer: str = "softmax", dim: int = 512, **extra
) -> ml_collections.ConfigDict:
    """config.model.attention: family 'factored', score, window, normalizer and dim, and a typed placeholder
    (value None = "the family's own default", its module's field default) for every other key a registered
    family reads, so that `--config.model.attention.heads=4` works from the command line. `extra` sets any
    key (family=..., heads=..., ...)."""
    config = ml_collections.ConfigDict(
        {"family": DEFAULT_FAMILY, "score": score, "window": window, "normalizer": normalizer, "dim": dim}
    )
    for key, kind in all_config_keys().items():
        if key not in config:
            config[key] = config_dict.placeholder(kind)
    config.update(extra)
    return config


def _family(config: Mapping[str, Any]) -> type:
    return FAMILIES.get(check_choice(FAMILIES.kind, config.get("family") or DEFAULT_FAMILY, FAMILIES))


def build_attention(config: Mapping[str, Any]) -> nn.Module:
    """The attention module a config describes (a ConfigDict or dict; keys in this module's docstring):
    FAMILIES[config.family].from_config(config) (family default 'factored').

    Returns a Flax module with the common interface (query, keys, values, mask, state) -> AttentionOutput
    and an init_state(batch_size, key_len) method; no parameters are made. Raises ValueError for an unknown
    family, score, window, normalizer or other choice, listing the valid names and suggesting the closest.
    """
    return _family(config).from_config(config)


def attention_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """{"family": name, key: plain Python value, ...} for every key the configured family reads, its defaults
    filled in (derived keys such as multi_head's qk_dim as the module computed them). What a results JSON
    records instead of the whole attention config. Raises ValueError as build_attention does."""
    module = build_attention(config)
    return {"family": config.get("family") or DEFAULT_FAMILY, **module_settings(module, config)}
