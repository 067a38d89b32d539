"""Decoding: greedy search (beam search and sampling to come)."""
from attn_research.decoding.greedy import greedy_decode

__all__ = ["greedy_decode"]
