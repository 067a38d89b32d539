"""An attentive sentence classifier: a BiLSTM whose states are pooled by attention with a learned query
(Yang et al. 2016, sec. 2.2, eqs. 8-10; Lin et al. 2017, sec. 2, eq. 5 with one hop), for any classification
of token sequences.

With the catalogue's additive score, e_t = v^T tanh(W1 h_t + W2 q) with a learned query q is Yang et al.'s
u_w^T tanh(W_w h_t + b_w) (the learned W2 q plays b_w, v plays the context vector u_w); another score or
normalizer swaps in by config (the query has the size of the BiLSTM states, so dot and cosine work too).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from attn_research.attention import build_attention

Array = jax.Array


class AttentionPooling(nn.Module):
    """s = sum_t alpha_t h_t, alpha = normalize(score(q, h)) over the unpadded positions, q a learned vector.

    attention: the attention config (score, normalizer, dim).
    __call__(states h [batch, length, dim], mask [batch, length] bool, True = a position to pool)
      -> (s [batch, dim], alpha [batch, 1, length] float32, zero at padding, summing to 1 over a row's
         unpadded positions; a row with none gives s = 0).
    Params: query [dim] (initialized N(0, 1)), FactoredAttention_0 (the score's).
    """

    attention: Mapping[str, Any]

    @nn.compact
    def __call__(self, states: Array, mask: Array) -> tuple[Array, Array]:
        query = self.param("query", nn.initializers.normal(1.0), (states.shape[-1],), jnp.float32)
        queries = jnp.broadcast_to(query.astype(states.dtype), (states.shape[0], 1, states.shape[-1]))
        out = build_attention(self.attention)(queries, states, states, mask)
        return out.context[:, 0], out.weights


class AttentiveClassifier(nn.Module):
    """Embeddings -> BiLSTM (hidden units each way) -> AttentionPooling -> dropout -> softmax layer.

    __call__(tokens [batch, length] int32, mask [batch, length] bool (words first, then padding), train,
             features [batch, length] int32 in [0, num_features) or None)
      -> (logits [batch, num_classes] float32, alpha [batch, 1, length] float32).
    dropout: the rate on the embeddings and on the pooled vector (train=True only).
    num_features: > 0: a learned embedding of `features` (one categorical feature per position, e.g. the
    entailment models' exact-match flag) is added to each word embedding; `features` is then required.
    """

    vocab_size: int
    num_classes: int
    embed_dim: int = 100
    hidden: int = 100
    dropout: float = 0.1
    attention: Mapping[str, Any] | None = None
    num_features: int = 0

    @nn.compact
    def __call__(
        self, tokens: Array, mask: Array, *, train: bool = False, features: Array | None = None
    ) -> tuple[Array, Array]:
        drop = nn.Dropout(self.dropout, deterministic=not train)
        embedded = nn.Embed(self.vocab_size, self.embed_dim, name="embed")(tokens)
        if self.num_features:
            if features is None:
                raise ValueError(f"the classifier has num_features={self.num_features}: pass features")
            embedded = embedded + nn.Embed(self.num_features, self.embed_dim, name="features")(features)
        embedded = drop(embedded)
        bilstm = nn.Bidirectional(
            nn.RNN(nn.OptimizedLSTMCell(self.hidden)), nn.RNN(nn.OptimizedLSTMCell(self.hidden)), name="bilstm"
        )
        states = bilstm(embedded, seq_lengths=jnp.sum(mask.astype(jnp.int32), axis=-1))
        pooled, weights = AttentionPooling(self.attention, name="pooling")(states, mask)
        logits = nn.Dense(self.num_classes, name="softmax")(drop(pooled))
        return logits.astype(jnp.float32), weights
