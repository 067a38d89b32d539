"""Corpus BLEU through sacrebleu, the shared standard for reporting MT results."""
from __future__ import annotations

from collections.abc import Sequence

import sacrebleu


def corpus_bleu(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus-level BLEU (Papineni et al. 2002) of detokenized text, as sacrebleu computes it.

    hypotheses: [num_sentences] detokenized system outputs; references: [num_sentences], one
    detokenized reference per hypothesis. sacrebleu defaults (Post 2018, "A Call for Clarity in
    Reporting BLEU Scores"): 13a tokenization, case-sensitive, n-gram precisions up to n = 4 clipped
    and summed over the corpus, 'exp' smoothing (only acts when some order has no match at all),
    corpus-level brevity penalty.
    Returns BLEU in [0, 100].
    Raises ValueError if the lists differ in length, are empty, or either is a bare string.
    """
    for name, texts in (("hypotheses", hypotheses), ("references", references)):
        if isinstance(texts, str):
            raise ValueError(f"{name} must be a list of sentences, got a single string")
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} references; "
                         "need exactly one reference per hypothesis")
    if not hypotheses:
        raise ValueError("corpus_bleu needs at least one sentence")
    return float(sacrebleu.corpus_bleu(list(hypotheses), [list(references)]).score)
