"""The attention catalogue: scores, windows, normalizers, stateful variants, multi-head attention, positions.

Every module of this package is imported here (pkgutil), so each registers what it defines (registry.py)
before build_attention, attention_config or the catalogue read the registries: a new module needs no line here.
"""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

from attn_research.attention.config import attention_config, attention_settings, build_attention  # noqa: E402
from attn_research.attention.coverage import CoverageAttention  # noqa: E402
from attn_research.attention.factored import FactoredAttention  # noqa: E402
from attn_research.attention.forward import FORWARD_SCORES, ForwardAttention  # noqa: E402
from attn_research.attention.hard import HardAttention  # noqa: E402
from attn_research.attention.location import LOCATION_SOURCES, LocationAwareAttention  # noqa: E402
from attn_research.attention.mocha import MonotonicChunkwiseAttention  # noqa: E402
from attn_research.attention.monotonic import MonotonicAttention  # noqa: E402
from attn_research.attention.multihead import MultiHeadAttention  # noqa: E402
from attn_research.attention.multihead_additive import (  # noqa: E402
    MultiHeadAdditiveAttention,
    MultiHeadLocationAttention,
)
from attn_research.attention.positions import sinusoidal_positions  # noqa: E402
from attn_research.attention.registry import FAMILIES, NORMALIZERS, SCORES, WINDOWS  # noqa: E402
from attn_research.attention.types import AttentionOutput  # noqa: E402

__all__ = [
    "AttentionOutput",
    "CoverageAttention",
    "FAMILIES",
    "FORWARD_SCORES",
    "FactoredAttention",
    "ForwardAttention",
    "HardAttention",
    "LOCATION_SOURCES",
    "LocationAwareAttention",
    "MonotonicAttention",
    "MonotonicChunkwiseAttention",
    "MultiHeadAdditiveAttention",
    "MultiHeadAttention",
    "MultiHeadLocationAttention",
    "NORMALIZERS",
    "SCORES",
    "WINDOWS",
    "attention_config",
    "attention_settings",
    "build_attention",
    "sinusoidal_positions",
]
