"""The attentive readers of Rocktäschel et al. (2016), sec. 2.3-2.4: from the premise's output vectors Y and the
hypothesis LSTM's outputs to the sentence-pair representation h*.

Both take their score and normalizer from the attention catalogue (attn_research.attention.build_attention of
`attention`, a config such as attention_config("additive", dim=k)). With the additive score,
e = v^T tanh(W1 keys + W2 query), the catalogue's W1 is the paper's W^y, W2 its W^h (word by word: W2 applied
to [h_t; r_{t-1}] is W^h h_t + W^r r_{t-1}) and v its w: the equations below hold exactly. Another score or
normalizer swaps in by config (a score that needs query_dim == key_dim, e.g. dot, raises its ValueError in
word-by-word attention, whose query [h_t; r_{t-1}] has 2k dimensions).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from attn_research.attention import build_attention

Array = jax.Array


def _dense(features: int, name: str) -> nn.Dense:
    """A bias-free projection (the paper's W matrices have no bias)."""
    return nn.Dense(features, use_bias=False, name=name)


class FinalStateAttention(nn.Module):
    """Rocktäschel et al. (2016), sec. 2.3, eqs. 7-10: the last hypothesis output h_N attends over the premise.

        M = tanh(W^y Y + W^h h_N (x) e_L)     (7)      alpha = softmax(w^T M)     (8)
        r = Y alpha^T                          (9)      h* = tanh(W^p r + W^x h_N)  (10)

    attention: the attention config (score, normalizer, dim). hidden: k, the size of h* (W^p, W^x: k x k).
    __call__(premise_outputs Y [batch, prem_len, k], premise_mask [batch, prem_len] bool (True = a word),
             final_hypothesis h_N [batch, k]) -> (h* [batch, hidden], alpha [batch, 1, prem_len] float32).
    Padded premise positions get zero weight; a premise with no word gives r = 0.
    Params: FactoredAttention_0 (the score's), W_p, W_x.
    """

    attention: Mapping[str, Any]
    hidden: int

    @nn.compact
    def __call__(self, premise_outputs: Array, premise_mask: Array, final_hypothesis: Array) -> tuple[Array, Array]:
        attend = build_attention(self.attention)
        out = attend(final_hypothesis[:, None, :], premise_outputs, premise_outputs, premise_mask)
        r = out.context[:, 0]
        h_star = jnp.tanh(_dense(self.hidden, "W_p")(r) + _dense(self.hidden, "W_x")(final_hypothesis))
        return h_star, out.weights


class WordByWordStep(nn.Module):
    """One hypothesis word of Rocktäschel et al. (2016), sec. 2.4, eqs. 11-13 (scanned by WordByWordAttention):

        M_t = tanh(W^y Y + (W^h h_t + W^r r_{t-1}) (x) e_L)     (11)
        alpha_t = softmax(w^T M_t)                              (12)
        r_t = Y alpha_t^T + tanh(W^t r_{t-1})                   (13)

    The score's query is [h_t; r_{t-1}] (so the additive score's W2 = [W^h; W^r]). At a padded hypothesis
    position r_t = r_{t-1} and alpha_t = 0.
    __call__(r_{t-1} [batch, k], (h_t [batch, k], step_mask [batch] bool), Y [batch, prem_len, k],
             premise_mask [batch, prem_len]) -> (r_t, alpha_t [batch, prem_len]).
    """

    attention: Mapping[str, Any]
    hidden: int

    @nn.compact
    def __call__(self, r_previous: Array, inputs: tuple[Array, Array], premise_outputs: Array, premise_mask: Array):
        h_t, step_mask = inputs
        query = jnp.concatenate([h_t, r_previous], axis=-1)[:, None, :]
        out = build_attention(self.attention)(query, premise_outputs, premise_outputs, premise_mask)
        r_t = out.context[:, 0] + jnp.tanh(_dense(self.hidden, "W_t")(r_previous))
        r_t = jnp.where(step_mask[:, None], r_t, r_previous)
        return r_t, jnp.where(step_mask[:, None], out.weights[:, 0], 0.0)


class WordByWordAttention(nn.Module):
    """Rocktäschel et al. (2016), sec. 2.4: every hypothesis word attends over the premise (eqs. 11-13, one
    WordByWordStep per word, r_0 = 0), then h* = tanh(W^p r_N + W^x h_N) (eq. 14).

    __call__(premise_outputs Y [batch, prem_len, k], premise_mask [batch, prem_len] bool,
             hypothesis_outputs [batch, hyp_len, k], hypothesis_mask [batch, hyp_len] bool, final_hypothesis
             h_N [batch, k]) -> (h* [batch, hidden], alpha [batch, hyp_len, prem_len] float32, the word-by-word
             attention matrix; zero rows at padded hypothesis positions, zero columns at padded premise ones).
    r_N is r after the last hypothesis word (padding leaves r unchanged). The premise outputs' size must be
    `hidden` (r_t adds Y alpha_t^T and tanh(W^t r_{t-1})); ValueError otherwise.
    Params: steps/FactoredAttention_0, steps/W_t (shared by every word), W_p, W_x.
    """

    attention: Mapping[str, Any]
    hidden: int

    @nn.compact
    def __call__(self, premise_outputs, premise_mask, hypothesis_outputs, hypothesis_mask, final_hypothesis):
        if premise_outputs.shape[-1] != self.hidden:
            raise ValueError(
                f"word-by-word attention needs premise outputs of size {self.hidden}, got {premise_outputs.shape[-1]}"
            )
        steps = nn.scan(
            WordByWordStep,
            variable_broadcast="params",
            split_rngs={"params": False},
            in_axes=(1, nn.broadcast, nn.broadcast),
            out_axes=1,
        )(attention=self.attention, hidden=self.hidden, name="steps")
        r_0 = jnp.zeros((premise_outputs.shape[0], self.hidden), premise_outputs.dtype)
        r_n, weights = steps(r_0, (hypothesis_outputs, hypothesis_mask.astype(bool)), premise_outputs, premise_mask)
        h_star = jnp.tanh(_dense(self.hidden, "W_p")(r_n) + _dense(self.hidden, "W_x")(final_hypothesis))
        return h_star, weights
