"""The attention catalogue: scores, windows, normalizers, multi-head attention, positions, registry."""
from attn_research.attention.attention import NORMALIZERS, SCORES, WINDOWS, Attention
from attn_research.attention.multihead import MultiHeadAttention
from attn_research.attention.positions import sinusoidal_positions
from attn_research.attention.registry import FAMILIES, build_attention, check_choice
from attn_research.attention.types import AttentionOutput

__all__ = [
    "Attention", "AttentionOutput", "FAMILIES", "MultiHeadAttention", "NORMALIZERS", "SCORES", "WINDOWS",
    "build_attention", "check_choice", "sinusoidal_positions",
]
