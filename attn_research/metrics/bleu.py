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


def _check_pairs(hypotheses: Sequence, references: Sequence, name: str) -> None:
    """Raises ValueError unless there is exactly one reference per hypothesis and at least one of each."""
    if len(hypotheses) != len(references):
        raise ValueError(
            f"{len(hypotheses)} hypotheses but {len(references)} references; need exactly one reference per hypothesis"
        )
    if not hypotheses:
        raise ValueError(f"{name} needs at least one sentence")


def token_bleu(hypotheses: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> float:
    """Corpus BLEU (Papineni et al. 2002, sec. 2) of token lists, no tokenization or smoothing of its own:
    n-gram precisions for n = 1..4 clipped by the reference's counts and summed over the corpus, their
    geometric mean with uniform weights, times the corpus brevity penalty min(1, exp(1 - r / c)).

    The BLEU of torchtext's `bleu_score`, which the PyTorch seq2seq notebooks report on Multi30k (on
    lowercased spaCy tokens; their 36.52 for the Transformer is this number): computed here by sacrebleu with
    its tokenizer and smoothing off (tokenize='none', smooth_method='none') on the space-joined tokens, so
    the tokens decide the n-grams. Use it beside corpus_bleu (detokenized text, sacrebleu's 13a tokens).
    hypotheses: [num_sentences] token lists (the decoder's tokens, <unk> included); references:
    [num_sentences] the reference's token lists (before unknown-word mapping). Returns BLEU in [0, 100]
    (0 when some order has no matching n-gram at all).
    Raises ValueError if the lists differ in length or are empty, or a token holds whitespace.
    """
    _check_pairs(hypotheses, references, "token_bleu")
    joined = {}
    for name, sentences in (("hypotheses", hypotheses), ("references", references)):
        if any(isinstance(tokens, str) for tokens in sentences):
            raise ValueError(f"{name} must be token lists, got a string")
        spaced = next((t for tokens in sentences for t in tokens if not t or t != "".join(t.split())), None)
        if spaced is not None:
            raise ValueError(f"{name} hold a token that is empty or has whitespace: {spaced!r}")
        joined[name] = [" ".join(tokens) for tokens in sentences]
    bleu = BLEU(tokenize="none", smooth_method="none")
    return float(bleu.corpus_score(joined["hypotheses"], [joined["references"]]).score)


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
    _check_pairs(hypotheses, references, "corpus_bleu")
    bleu = BLEU(lowercase=lowercase)
    score = float(bleu.corpus_score(list(hypotheses), [list(references)]).score)
    return score, str(bleu.get_signature())
