"""BLEU per source-length bucket: Bahdanau et al. (2015), Fig. 2 (BLEU against sentence length)."""
from __future__ import annotations

from collections.abc import Sequence

from attn_research.metrics.bleu import corpus_bleu


def bleu_by_length(hypotheses: Sequence[str], references: Sequence[str],
                   source_lengths: Sequence[int], bucket_edges: Sequence[float]) -> list[dict]:
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
        raise ValueError(f"{len(hypotheses)} hypotheses, {len(references)} references and "
                         f"{len(source_lengths)} source lengths must match")
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
