"""Build any attention from an ml_collections ConfigDict.

  config.family      'factored' (score x window x normalizer) | 'multi_head'
  config.score       dot | scaled_dot | general | multiplicative | additive | concat | location | cosine
  config.window      global | local_m | local_p
  config.normalizer  softmax | sparsemax | hardmax | sigmoid
  config.dim, config.half_width, config.max_len, config.temperature, config.normalize, config.scale
  config.heads, config.qk_dim, config.v_dim, config.causal, config.dropout_rate   (multi_head)
Stateful families (each reads dim and temperature too):
  'location_aware'       Chorowski et al. 2015 (location.py): channels, filter_width (odd),
                         location_source previous | cumulative | previous_2d | recurrent, att_win (previous_2d)
  'coverage'             Tu et al. 2016 / See et al. 2017 (coverage.py): fertility (N; 0 = none)
  'forward'              Zhang et al. 2018 (forward.py): forward_score additive | location_aware,
                         transition_agent (bool), channels, filter_width
  'multi_head_additive'  ESPnet AttMultiHeadAdd (multihead_additive.py): heads, dim per head, out_dim
  'multi_head_location'  ESPnet AttMultiHeadLoc: as multi_head_additive, plus channels, filter_width
  'monotonic'            Raffel et al. 2017 (monotonic.py): score dot | scaled_dot | general | multiplicative |
                         additive | concat (the energy), dim, mode recursive | parallel | hard (training;
                         evaluation is always hard), noise_std (pre-sigmoid noise), energy_bias_init (r),
                         query_chunk
  'mocha'                Chiu & Raffel 2018 (mocha.py): as monotonic, plus chunk_size (w)
  'hard'                 Xu et al. 2015, sec. 4.1 (hard.py): the factored keys for the alignment (window global
                         or local_m), estimator reinforce | gumbel, eval_mode argmax | expectation,
                         gumbel_temperature; the trainer reads entropy_weight (lambda_e) and baseline_decay
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import flax.linen as nn

from attn_research.attention.attention import NORMALIZERS, SCORES, WINDOWS, Attention
from attn_research.attention.coverage import CoverageAttention
from attn_research.attention.forward import FORWARD_SCORES, ForwardAttention
from attn_research.attention.hard import ESTIMATORS, EVAL_MODES, HardAttention
from attn_research.attention.location import LOCATION_SOURCES, LocationAwareAttention
from attn_research.attention.mocha import MonotonicChunkwiseAttention
from attn_research.attention.monotonic import ENERGY_SCORES, MODES, MonotonicAttention
from attn_research.attention.multihead import MultiHeadAttention
from attn_research.attention.multihead_additive import MultiHeadAdditiveAttention
from attn_research.validation import check_choice


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


def _read(config: Mapping[str, Any], defaults: nn.Module, *names: str) -> dict[str, Any]:
    """{name: the config's value (or the module's default when missing), as the default's type} per name."""
    return {name: type(getattr(defaults, name))(_get(config, name, getattr(defaults, name))) for name in names}


def _location_aware(config: Mapping[str, Any]) -> nn.Module:
    check_choice("location_source", _get(config, "location_source", "previous"), LOCATION_SOURCES)
    return LocationAwareAttention(
        **_read(
            config,
            LocationAwareAttention(),
            "dim",
            "channels",
            "filter_width",
            "location_source",
            "att_win",
            "temperature",
        )
    )


def _coverage(config: Mapping[str, Any]) -> nn.Module:
    return CoverageAttention(**_read(config, CoverageAttention(), "dim", "fertility", "temperature"))


def _forward(config: Mapping[str, Any]) -> nn.Module:
    check_choice("forward_score", _get(config, "forward_score", "location_aware"), FORWARD_SCORES)
    return ForwardAttention(
        **_read(
            config,
            ForwardAttention(),
            "dim",
            "channels",
            "filter_width",
            "forward_score",
            "transition_agent",
            "temperature",
        )
    )


def _multi_head_additive(config: Mapping[str, Any], location: bool = False) -> nn.Module:
    fields = _read(config, MultiHeadAdditiveAttention(), "heads", "dim", "channels", "filter_width", "temperature")
    return MultiHeadAdditiveAttention(location=location, out_dim=config.get("out_dim"), **fields)


def _monotonic(config: Mapping[str, Any], chunkwise: bool = False) -> nn.Module:
    check_choice("monotonic energy score", _get(config, "score", "additive"), ENERGY_SCORES)
    check_choice("monotonic attention mode", _get(config, "mode", "parallel"), MODES)
    names = ("score", "mode", "dim", "noise_std", "energy_bias_init", "query_chunk")
    if chunkwise:
        return MonotonicChunkwiseAttention(**_read(config, MonotonicChunkwiseAttention(), *names, "chunk_size"))
    return MonotonicAttention(**_read(config, MonotonicAttention(), *names))


def _hard(config: Mapping[str, Any]) -> nn.Module:
    return HardAttention(
        base=_factored(config),
        estimator=check_choice("hard attention estimator", _get(config, "estimator", "reinforce"), ESTIMATORS),
        eval_mode=check_choice("hard attention eval_mode", _get(config, "eval_mode", "argmax"), EVAL_MODES),
        gumbel_temperature=float(_get(config, "gumbel_temperature", 1.0)),
    )


FAMILIES: dict[str, Callable[[Mapping[str, Any]], nn.Module]] = {
    "factored": _factored,
    "multi_head": _multi_head,
    "location_aware": _location_aware,
    "coverage": _coverage,
    "forward": _forward,
    "multi_head_additive": _multi_head_additive,
    "multi_head_location": lambda config: _multi_head_additive(config, location=True),
    "monotonic": _monotonic,
    "mocha": lambda config: _monotonic(config, chunkwise=True),
    "hard": _hard,
}


def build_attention(config: Mapping[str, Any]) -> nn.Module:
    """An attention module from a config (a ConfigDict or dict; keys in this module's docstring).

    Returns a Flax module with the common interface (query, keys, values, mask, state) -> AttentionOutput
    and an init_state(batch_size, key_len) method. Raises ValueError for an unknown family, score,
    window or normalizer, listing the valid names and suggesting the closest.
    """
    family = check_choice("attention family", _get(config, "family", "factored"), FAMILIES)
    return FAMILIES[family](config)
