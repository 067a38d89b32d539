"""Masked token-level cross-entropy with optional label smoothing (Szegedy et al. 2016, sec. 7) and the
coverage loss of See et al. (2017), eq. 12."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

Array = jax.Array


def token_cross_entropy(
    logits: Array, targets: Array, mask: Array, label_smoothing: float = 0.0
) -> tuple[Array, Array]:
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


def coverage_loss(alignments: Array, target_mask: Array) -> Array:
    """See et al. (2017), eq. 12: covloss_t = sum_i min(a_i^t, c_i^t), with coverage c^t = sum_{t'<t} a^{t'}.

    alignments: [batch, tgt_len, src_len] alignment weights a^t (Seq2SeqOutput.alignments; multi-head models
    report the mean over heads); target_mask: [batch, tgt_len] bool, True = real target step.
    Returns [batch, tgt_len] float32, zero where target_mask is False; padded steps add nothing to c^t.
    Raises ValueError if the shapes do not agree.
    """
    if alignments.ndim != 3 or target_mask.shape != alignments.shape[:2]:
        raise ValueError(
            f"alignments must be [batch, tgt_len, src_len] and target_mask [batch, tgt_len], got "
            f"{alignments.shape} and {target_mask.shape}"
        )
    weights = jnp.where(target_mask[..., None], alignments.astype(jnp.float32), 0.0)
    previous = jnp.cumsum(weights, axis=1)[:, :-1]
    coverage = jnp.concatenate([jnp.zeros_like(weights[:, :1]), previous], axis=1)  # c^t, t' < t only
    return jnp.where(target_mask, jnp.sum(jnp.minimum(weights, coverage), axis=-1), 0.0)
