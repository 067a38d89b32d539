"""Digit error rate and utterance accuracy, overall and by number of digits.

    DER = sum_u edit(hyp_u, ref_u) / sum_u len(ref_u)

edit: the Levenshtein distance (substitutions, deletions and insertions of whole digits, cost 1 each) from the
`editdistance` library; utterance accuracy: the fraction of utterances decoded exactly (hyp_u == ref_u);
length ratio: sum_u len(hyp_u) / sum_u len(ref_u), below 1 when the decoder stops early (deletions), above 1
when it runs on (insertions) - what separates the two failures of long utterances (Chorowski et al. 2015,
sec. 3.2).
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
    total = _reference_digits(hypotheses, references, "digit error rate")
    return sum(edit_distance(h, r) for h, r in zip(hypotheses, references)) / total


def length_ratio(hypotheses: Sequence[Sequence[int]], references: Sequence[Sequence[int]]) -> float:
    """sum of hypothesis lengths / sum of reference lengths, in digits (module docstring). Raises ValueError
    for lists of different lengths or references with no digit at all."""
    return sum(len(h) for h in hypotheses) / _reference_digits(hypotheses, references, "length ratio")


def _reference_digits(hypotheses: Sequence[Sequence[int]], references: Sequence[Sequence[int]], metric: str) -> int:
    """The number of reference digits, the denominator of `metric`; ValueError (one line) if the lists differ in
    length or the references hold no digit."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    total = sum(len(r) for r in references)
    if total == 0:
        raise ValueError(f"the references hold no digit: the {metric} is undefined")
    return total


def recognition_metrics(
    hypotheses: Sequence[Sequence[int]], references: Sequence[Sequence[int]], train_lengths: Sequence[int]
) -> dict[str, float]:
    """{"der", "utterance_accuracy", "length_ratio"} over all utterances; "der_train_lengths" (over the
    utterances whose number of digits is in train_lengths); and "der_<n>", "utterance_accuracy_<n>",
    "length_ratio_<n>" for each number of digits n present (module docstring)."""
    metrics = {
        "der": digit_error_rate(hypotheses, references),
        "utterance_accuracy": sum(list(h) == list(r) for h, r in zip(hypotheses, references)) / len(references),
        "length_ratio": length_ratio(hypotheses, references),
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
        metrics[f"length_ratio_{n}"] = length_ratio(hyps, refs)
    return metrics
