"""Decoding: greedy search, beam search (Wu et al. 2016 penalties), sampling, unknown-word replacement."""

from attn_research.decoding.beam import (
    BeamResult,
    beam_search,
    coverage_penalty_term,
    length_penalty_term,
    max_decode_length,
)
from attn_research.decoding.greedy import greedy_decode
from attn_research.decoding.sampling import filter_logits, sample
from attn_research.decoding.unk_replace import replace_unknown_words

__all__ = [
    "BeamResult",
    "beam_search",
    "coverage_penalty_term",
    "filter_logits",
    "greedy_decode",
    "length_penalty_term",
    "max_decode_length",
    "replace_unknown_words",
    "sample",
]
