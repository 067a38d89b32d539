"""BLEU per source-length bucket: Bahdanau et al. (2015), Fig. 2 (BLEU against sentence length)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from attn_research.metrics.bleu import corpus_bleu


def bleu_by_length(
    hypotheses: Sequence[str], references: Sequence[str], source_lengths: Sequence[int], bucket_edges: Sequence[float]
) -> list[dict]:
    """Corpus BLEU of the sentences whose source length falls in each bucket.

    hypotheses, references: [num_sentences] detokenized text; source_lengths: [num_sentences], in
    source tokens (Bahdanau et al. count words). bucket_edges: [num_buckets + 1], strictly
    increasing; bucket i is the half-open range [bucket_edges[i], bucket_edges[i + 1]) (make the last
    edge math.inf for an open-ended bucket); sentences outside every bucket are left out.
    Returns one dict per bucket, in order: {"bucket": (lo, hi), "bleu": corpus BLEU in [0, 100]
    (nan for an empty bucket), "count": number of sentences in the bucket}.
    Raises ValueError if the three lists differ in length, or bucket_edges has fewer than 2 values
    or is not strictly increasing.
    """
    if not len(hypotheses) == len(references) == len(source_lengths):
        raise ValueError(
            f"{len(hypotheses)} hypotheses, {len(references)} references and "
            f"{len(source_lengths)} source lengths must match"
        )
    edges = list(bucket_edges)
    if len(edges) < 2 or any(lo >= hi for lo, hi in zip(edges, edges[1:])):
        raise ValueError(f"bucket_edges must be >= 2 strictly increasing values, got {edges}")
    rows = []
    for lo, hi in zip(edges, edges[1:]):
        picked = [i for i, n in enumerate(source_lengths) if lo <= n < hi]
        bleu = float("nan")
        if picked:
            bleu = corpus_bleu([hypotheses[i] for i in picked], [references[i] for i in picked])
        rows.append({"bucket": (lo, hi), "bleu": bleu, "count": len(picked)})
    return rows


def length_bucket_edges(source_lengths: Sequence[int], width: int = 0, min_count: int = 20) -> list[float]:
    """Bucket edges [0, w, 2w, ..., k w, inf] for bleu_by_length, in source tokens.

    width w: bucket width in tokens; 0 picks it from the data: 10 (Bahdanau et al. 2015, Fig. 2, on WMT) when
    the median source length is at least 20 tokens, else 5 (short-sentence corpora such as Multi30k).
    The last, open-ended bucket [k w, inf) starts at the largest multiple of w that still leaves at least
    min_count sentences at or above it (so the tail is not a handful of sentences); at least [0, inf).
    Raises ValueError for an empty source_lengths or a negative width.
    """
    lengths = sorted(int(n) for n in source_lengths)
    if not lengths:
        raise ValueError("length_bucket_edges needs at least one source length")
    if width < 0:
        raise ValueError(f"width must be >= 0 (0 = automatic), got {width}")
    if width == 0:
        width = 10 if lengths[len(lengths) // 2] >= 20 else 5
    edges: list[float] = [0]
    while sum(n >= edges[-1] + width for n in lengths) >= min_count:
        edges.append(edges[-1] + width)
    return edges + [math.inf]
