"""Alignment quality of attention weights, in NumPy: hard alignments, accuracy against gold positions,
alignment error rate (Och & Ney 2003), per-step entropy, and gold alignments of the synthetic tasks.

Weights are one sentence's alignment matrix [tgt_len, src_len] (row t = the attention of target step t
over the source positions), as returned by greedy_decode / beam_search after trimming padding.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["alignment_accuracy", "alignment_error_rate", "attention_entropy", "gold_alignment", "hard_alignments"]


def _matrix(weights) -> np.ndarray:
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 2:
        raise ValueError(f"weights must be [tgt_len, src_len], got shape {weights.shape}")
    return weights


def hard_alignments(weights) -> set[tuple[int, int]]:
    """The hard alignment {(t, argmax_s weights[t, s])}: one source position per target step.

    weights: [tgt_len, src_len]. Ties go to the first source position. Rows whose weights are all zero
    (steps after eos, padding) are left out. Raises ValueError if weights is not 2-D.
    """
    weights = _matrix(weights)
    return {(t, int(np.argmax(row))) for t, row in enumerate(weights) if row.sum() > 0}


def alignment_accuracy(weights_list: Sequence, gold_positions_list: Sequence) -> float:
    """Fraction of target steps whose most attended source position is the gold one.

    weights_list: [num_sentences] of [tgt_len_i, src_len_i] weights; gold_positions_list:
    [num_sentences] of int [tgt_len_i] gold source positions. Returns a ratio in [0, 1] over all target
    steps of all sentences (micro average; ties go to the first source position).
    Raises ValueError if the lists differ in length, a sentence's weights rows and gold positions differ
    in number, or there is no target step at all.
    """
    if len(weights_list) != len(gold_positions_list):
        raise ValueError(f"{len(weights_list)} weight matrices but {len(gold_positions_list)} gold alignments")
    correct = total = 0
    for i, (weights, gold) in enumerate(zip(weights_list, gold_positions_list)):
        weights, gold = _matrix(weights), np.asarray(gold, dtype=np.int64).reshape(-1)
        if weights.shape[0] != gold.shape[0]:
            raise ValueError(f"sentence {i}: {weights.shape[0]} weight rows but {gold.shape[0]} gold positions")
        correct += int(np.sum(np.argmax(weights, axis=1) == gold)) if len(gold) else 0
        total += len(gold)
    if total == 0:
        raise ValueError("alignment_accuracy needs at least one target step")
    return correct / total


def alignment_error_rate(predicted: set, sure: set, possible: set | None = None) -> float:
    """Alignment error rate, Och & Ney (2003), "A Systematic Comparison of Various Statistical Alignment
    Models", sec. 5, eq. 39:

        AER(S, P; A) = 1 - (|A & S| + |A & P|) / (|A| + |S|),   with S a subset of P.

    predicted (A), sure (S), possible (P): sets of links (t, s) (any hashable items, e.g. (sentence, t, s)
    triples for a whole corpus). possible defaults to sure (then AER = 1 - F1). Returns a ratio in [0, 1]
    (lower is better). Raises ValueError if sure is not a subset of possible, or A and S are both empty.
    """
    predicted, sure = set(predicted), set(sure)
    possible = set(sure) if possible is None else set(possible)
    if not sure <= possible:
        raise ValueError("the sure links must be a subset of the possible links (S within P)")
    if not predicted and not sure:
        raise ValueError("alignment_error_rate needs a non-empty predicted or sure alignment")
    return 1.0 - (len(predicted & sure) + len(predicted & possible)) / (len(predicted) + len(sure))


def attention_entropy(weights) -> np.ndarray:
    """Entropy H_t = -sum_s a_{t,s} log a_{t,s} of each target step's alignment weights, in nats.

    weights: [tgt_len, src_len], rows summing to 1 (0 log 0 = 0). Masked rows (all weights zero: steps
    after eos, padding) are ignored. Returns float64 [num_unmasked_rows], in [0, log src_len]; a uniform
    row over n positions has entropy log n. Raises ValueError if weights is not 2-D or has negative entries.
    """
    weights = _matrix(weights)
    if np.any(weights < 0):
        raise ValueError("attention weights must be non-negative")
    rows = weights[weights.sum(axis=1) > 0]
    logs = np.log(np.where(rows > 0, rows, 1.0))
    return -np.sum(rows * logs, axis=1)


def gold_alignment(task: str, source_len: int, reverse_source: bool = False) -> np.ndarray:
    """The gold source position of each target step of a synthetic task (attn_research.data.synthetic).

    copy: t -> t; reverse: t -> source_len - 1 - t. reverse_source: the model reads the source backwards
    (data key reverse_source), so position s of the input is source_len - 1 - s of the original: copy
    and reverse swap. Returns int64 [source_len] (target length = source length for both tasks).
    Raises ValueError for sort (its alignment depends on the symbols, and ties make it ambiguous), an
    unknown task or source_len < 0.
    """
    if source_len < 0:
        raise ValueError(f"source_len must be >= 0, got {source_len}")
    steps = np.arange(source_len, dtype=np.int64)
    if task in ("copy", "reverse"):
        return source_len - 1 - steps if (task == "reverse") != reverse_source else steps
    if task == "sort":
        raise ValueError("gold alignment is not defined for the 'sort' task")
    raise ValueError(f"unknown synthetic task {task!r}; gold alignments exist for 'copy' and 'reverse'")
