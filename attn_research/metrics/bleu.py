"""Corpus BLEU through sacrebleu, the shared standard for reporting MT results."""

from __future__ import annotations

from collections.abc import Sequence

from sacrebleu.metrics import BLEU


def corpus_bleu(hypotheses: Sequence[str], references: Sequence[str], *, lowercase: bool = False) -> float:
    """Corpus-level BLEU (Papineni et al. 2002) of detokenized text, as sacrebleu computes it.

    hypotheses: [num_sentences] detokenized system outputs; references: [num_sentences], one
    detokenized reference per hypothesis. sacrebleu defaults (Post 2018, "A Call for Clarity in
    Reporting BLEU Scores"): 13a tokenization, case-sensitive, n-gram precisions up to n = 4 clipped
    and summed over the corpus, 'exp' smoothing (only acts when some order has no match at all),
    corpus-level brevity penalty.
    lowercase=True: the same on lowercased text (sacrebleu's `-lc`), the comparable column for figures computed
    on lowercased tokens (e.g. the PyTorch seq2seq notebooks' Multi30k BLEU: torchtext's bleu_score on
    lowercased spaCy tokens; 13a tokenization splits punctuation as spaCy does on this text).
    Returns BLEU in [0, 100].
    Raises ValueError if the lists differ in length, are empty, or either is a bare string.
    """
    return corpus_bleu_with_signature(hypotheses, references, lowercase=lowercase)[0]


def bleu_signature(*, lowercase: bool = False) -> str:
    """sacrebleu's signature of the BLEU that corpus_bleu computes (its settings and sacrebleu's version), e.g.
    'nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0': what every recorded BLEU carries (Post 2018)."""
    bleu = BLEU(lowercase=lowercase)
    bleu.corpus_score(["a"], [["a"]])  # sacrebleu fills the signature's nrefs when it scores: one reference
    return str(bleu.get_signature())


def corpus_bleu_with_signature(
    hypotheses: Sequence[str], references: Sequence[str], *, lowercase: bool = False
) -> tuple[float, str]:
    """(corpus_bleu(hypotheses, references), sacrebleu's signature of that computation), e.g.
    'nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0' (sacrebleu's BLEU.get_signature(); Post
    2018 asks every reported BLEU to carry it). Raises ValueError as corpus_bleu does."""
    for name, texts in (("hypotheses", hypotheses), ("references", references)):
        if isinstance(texts, str):
            raise ValueError(f"{name} must be a list of sentences, got a single string")
    if len(hypotheses) != len(references):
        raise ValueError(
            f"{len(hypotheses)} hypotheses but {len(references)} references; need exactly one reference per hypothesis"
        )
    if not hypotheses:
        raise ValueError("corpus_bleu needs at least one sentence")
    bleu = BLEU(lowercase=lowercase)
    score = float(bleu.corpus_score(list(hypotheses), [list(references)]).score)
    return score, str(bleu.get_signature())
