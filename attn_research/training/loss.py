"""Masked token-level cross-entropy with optional label smoothing (Szegedy et al. 2016, sec. 7)."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

Array = jax.Array


def token_cross_entropy(logits: Array, targets: Array, mask: Array, label_smoothing: float = 0.0) -> tuple[Array, Array]:
    """Per-token losses. logits [batch, tgt_len, vocab]; targets [batch, tgt_len] int; mask [batch, tgt_len] bool.

    Returns (training loss per token, negative log-likelihood per token), both [batch, tgt_len] float32 and
    zero where mask is False. With label_smoothing eps, the training target is (1 - eps) one_hot + eps / vocab;
    the NLL (for perplexity) is always against the one-hot target. Raises ValueError if eps not in [0, 1).
    """
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
    logits = logits.astype(jnp.float32)
    nll = optax.softmax_cross_entropy_with_integer_labels(logits, targets)
    if label_smoothing > 0.0:
        labels = optax.smooth_labels(jax.nn.one_hot(targets, logits.shape[-1]), label_smoothing)
        loss = optax.softmax_cross_entropy(logits, labels)
    else:
        loss = nll
    return jnp.where(mask, loss, 0.0), jnp.where(mask, nll, 0.0)
