"""Build any attention from an ml_collections ConfigDict.

    config.family      'factored' (score x window x normalizer) | 'multi_head'
    config.score       dot | scaled_dot | general | multiplicative | additive | concat | location | cosine
    config.window      global | local_m | local_p
    config.normalizer  softmax | sparsemax | hardmax | sigmoid
    config.dim, config.half_width, config.max_len, config.temperature, config.normalize, config.scale
    config.heads, config.qk_dim, config.v_dim, config.causal, config.dropout_rate   (multi_head)
"""
from __future__ import annotations

import difflib
from typing import Any, Callable, Mapping

import flax.linen as nn

from attn_research.attention.attention import NORMALIZERS, SCORES, WINDOWS, Attention
from attn_research.attention.multihead import MultiHeadAttention


def check_choice(kind: str, name: str, valid) -> str:
    """Returns name if it is in valid, else raises ValueError naming the valid choices and the closest one."""
    if name in valid:
        return name
    choices = sorted(valid)
    close = difflib.get_close_matches(str(name), choices, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"unknown {kind} {name!r}; valid choices: {', '.join(choices)}.{hint}")


def _get(config: Mapping[str, Any], key: str, default: Any) -> Any:
    value = config.get(key, default)
    return default if value is None else value


def _factored(config: Mapping[str, Any]) -> nn.Module:
    defaults = Attention()
    return Attention(
        score=check_choice("attention score", _get(config, "score", "dot"), SCORES),
        window=check_choice("attention window", _get(config, "window", "global"), WINDOWS),
        normalizer=check_choice("attention normalizer", _get(config, "normalizer", "softmax"), NORMALIZERS),
        dim=int(_get(config, "dim", defaults.dim)),
        half_width=int(_get(config, "half_width", defaults.half_width)),
        max_len=int(_get(config, "max_len", defaults.max_len)),
        temperature=float(_get(config, "temperature", defaults.temperature)),
        normalize=bool(_get(config, "normalize", defaults.normalize)),
        scale=float(_get(config, "scale", defaults.scale)),
        query_chunk=int(_get(config, "query_chunk", defaults.query_chunk)),
    )


def _multi_head(config: Mapping[str, Any]) -> nn.Module:
    score = _get(config, "score", "scaled_dot")
    if score != "scaled_dot":
        raise ValueError(f"multi_head attention uses the 'scaled_dot' score, got {score!r}")
    heads = int(_get(config, "heads", 8))
    qk_dim = int(_get(config, "qk_dim", _get(config, "dim", 512)))
    return MultiHeadAttention(
        heads=heads,
        qk_dim=qk_dim,
        v_dim=int(_get(config, "v_dim", qk_dim)),
        out_dim=config.get("out_dim"),
        causal=bool(_get(config, "causal", False)),
        dropout_rate=float(_get(config, "dropout_rate", 0.0)),
    )


FAMILIES: dict[str, Callable[[Mapping[str, Any]], nn.Module]] = {
    "factored": _factored,
    "multi_head": _multi_head,
}


def build_attention(config: Mapping[str, Any]) -> nn.Module:
    """An attention module from a config (a ConfigDict or dict; keys in this module's docstring).

    Returns a Flax module with the common interface (query, keys, values, mask, state) -> AttentionOutput
    and an init_state(batch_size, key_len) method. Raises ValueError for an unknown family, score,
    window or normalizer, listing the valid names and suggesting the closest.
    """
    family = check_choice("attention family", _get(config, "family", "factored"), FAMILIES)
    return FAMILIES[family](config)
