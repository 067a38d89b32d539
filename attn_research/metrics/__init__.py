"""Evaluation metrics: BLEU, token and sequence accuracy, perplexity, BLEU per source-length bucket,
alignment quality of attention weights."""

from attn_research.metrics.accuracy import perplexity, sequence_accuracy, token_accuracy
from attn_research.metrics.alignment import (
    alignment_accuracy,
    alignment_error_rate,
    attention_entropy,
    gold_alignment,
    hard_alignments,
)
from attn_research.metrics.bleu import bleu_signature, corpus_bleu, token_bleu
from attn_research.metrics.buckets import bleu_by_length, length_bucket_edges

__all__ = [
    "bleu_signature",
    "corpus_bleu",
    "token_bleu",
    "token_accuracy",
    "sequence_accuracy",
    "perplexity",
    "bleu_by_length",
    "length_bucket_edges",
    "alignment_accuracy",
    "alignment_error_rate",
    "attention_entropy",
    "gold_alignment",
    "hard_alignments",
]
