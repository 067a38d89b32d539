"""The attention catalogue: scores, windows, normalizers, stateful variants, multi-head attention, positions,
registry."""

from attn_research.attention.attention import NORMALIZERS, SCORES, WINDOWS, Attention
from attn_research.attention.config import attention_config
from attn_research.attention.coverage import CoverageAttention
from attn_research.attention.forward import FORWARD_SCORES, ForwardAttention
from attn_research.attention.hard import HardAttention
from attn_research.attention.location import LOCATION_SOURCES, LocationAwareAttention
from attn_research.attention.mocha import MonotonicChunkwiseAttention
from attn_research.attention.monotonic import MonotonicAttention
from attn_research.attention.multihead import MultiHeadAttention
from attn_research.attention.multihead_additive import MultiHeadAdditiveAttention
from attn_research.attention.positions import sinusoidal_positions
from attn_research.attention.registry import FAMILIES, build_attention
from attn_research.attention.types import AttentionOutput

__all__ = [
    "Attention",
    "AttentionOutput",
    "FAMILIES",
    "MultiHeadAttention",
    "NORMALIZERS",
    "SCORES",
    "WINDOWS",
    "attention_config",
    "build_attention",
    "sinusoidal_positions",
    "CoverageAttention",
    "FORWARD_SCORES",
    "ForwardAttention",
    "LOCATION_SOURCES",
    "LocationAwareAttention",
    "MultiHeadAdditiveAttention",
    "HardAttention",
    "MonotonicAttention",
    "MonotonicChunkwiseAttention",
]
