"""Digit error rate and utterance accuracy, overall and by number of digits.

    DER = sum_u edit(hyp_u, ref_u) / sum_u len(ref_u)

edit: the Levenshtein distance (substitutions, deletions and insertions of whole digits, cost 1 each) from the
`editdistance` library; utterance accuracy: the fraction of utterances decoded exactly (hyp_u == ref_u).
"""

from __future__ import annotations

from collections.abc import Sequence

import editdistance


def edit_distance(hypothesis: Sequence[int], reference: Sequence[int]) -> int:
    """The Levenshtein distance between two digit sequences (editdistance.eval)."""
    return int(editdistance.eval(list(hypothesis), list(reference)))


def digit_error_rate(hypotheses: Sequence[Sequence[int]], references: Sequence[Sequence[int]]) -> float:
    """sum of edit distances / sum of reference lengths. Raises ValueError for lists of different lengths or
    references with no digit at all."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    total = sum(len(r) for r in references)
    if total == 0:
        raise ValueError("the references hold no digit: the digit error rate is undefined")
    return sum(edit_distance(h, r) for h, r in zip(hypotheses, references)) / total


def recognition_metrics(
    hypotheses: Sequence[Sequence[int]], references: Sequence[Sequence[int]], train_lengths: Sequence[int]
) -> dict[str, float]:
    """{"der", "utterance_accuracy"} over all utterances; "der_train_lengths" (over the utterances whose
    number of digits is in train_lengths); and "der_<n>", "utterance_accuracy_<n>" for each number of digits
    n present."""
    metrics = {
        "der": digit_error_rate(hypotheses, references),
        "utterance_accuracy": sum(list(h) == list(r) for h, r in zip(hypotheses, references)) / len(references),
    }
    trained = [i for i, r in enumerate(references) if len(r) in set(train_lengths)]
    if trained:
        metrics["der_train_lengths"] = digit_error_rate(
            [hypotheses[i] for i in trained], [references[i] for i in trained]
        )
    for n in sorted({len(r) for r in references}):
        rows = [i for i, r in enumerate(references) if len(r) == n]
        hyps, refs = [hypotheses[i] for i in rows], [references[i] for i in rows]
        metrics[f"der_{n}"] = digit_error_rate(hyps, refs)
        metrics[f"utterance_accuracy_{n}"] = sum(list(h) == list(r) for h, r in zip(hyps, refs)) / len(refs)
    return metrics
