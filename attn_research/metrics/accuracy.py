"""Token and sequence accuracies and perplexity, in NumPy (JAX arrays are accepted and copied to host).

Counts are returned, not ratios, so that they can be summed over batches and hosts before dividing.
"""

from __future__ import annotations

import math

import numpy as np


def _check(predictions, targets, mask) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    predictions, targets, mask = np.asarray(predictions), np.asarray(targets), np.asarray(mask)
    if not predictions.shape == targets.shape == mask.shape:
        raise ValueError(
            f"predictions {predictions.shape}, targets {targets.shape} and mask "
            f"{mask.shape} must share one shape [batch, tgt_len]"
        )
    if predictions.ndim != 2:
        raise ValueError(f"expected [batch, tgt_len] arrays, got shape {predictions.shape}")
    return predictions, targets, mask.astype(bool)


def token_accuracy(predictions, targets, mask) -> tuple[int, int]:
    """Counts the correctly predicted target tokens among the unmasked ones.

    predictions, targets: [batch, tgt_len] int token ids; mask: [batch, tgt_len] bool, True = real token.
    Returns (correct_count, total_count), total_count = number of True mask entries.
    Raises ValueError if the three shapes differ or are not 2-D.
    """
    predictions, targets, mask = _check(predictions, targets, mask)
    return int(np.sum((predictions == targets) & mask)), int(np.sum(mask))


def sequence_accuracy(predictions, targets, mask) -> tuple[int, int]:
    """Counts the sequences whose every unmasked token is predicted correctly (exact match).

    predictions, targets: [batch, tgt_len] int token ids; mask: [batch, tgt_len] bool, True = real token.
    Rows whose mask is all False (batch padding) are ignored: they count neither as exact nor in
    num_sequences. Returns (exact_count, num_sequences).
    Raises ValueError if the three shapes differ or are not 2-D.
    """
    predictions, targets, mask = _check(predictions, targets, mask)
    real = mask.any(axis=1)
    exact = np.all((predictions == targets) | ~mask, axis=1) & real
    return int(np.sum(exact)), int(np.sum(real))


def perplexity(total_nll: float, total_tokens: int) -> float:
    """Per-token perplexity exp(total_nll / total_tokens).

    total_nll: negative log-likelihood summed over total_tokens target tokens, in nats (natural log).
    Returns inf when the exponent overflows. Raises ValueError if total_tokens <= 0.
    """
    total_tokens = float(total_tokens)
    if not total_tokens > 0:
        raise ValueError(f"total_tokens must be positive, got {total_tokens}")
    try:
        return math.exp(float(total_nll) / total_tokens)
    except OverflowError:
        return math.inf
