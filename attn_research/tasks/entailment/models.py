"""Sentence-pair classifiers: Rocktäschel et al. (2016), sec. 2 (conditional encoding; attention; word-by-word
attention; their two-way variants) and an attentive BiLSTM classifier over the concatenated pair.

Every model maps (premise [batch, prem_len] int32, premise_mask [batch, prem_len] bool, hypothesis
[batch, hyp_len] int32, hypothesis_mask [batch, hyp_len] bool) to a PairOutput. Embeddings are learned (the
paper used fixed word2vec vectors, which are not available offline). Masks are True at words; a row may be
all padding (its logits are finite and its attention weights zero).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from attn_research.tasks.entailment.classifier import AttentiveClassifier
from attn_research.tasks.entailment.readers import FinalStateAttention, WordByWordAttention
from attn_research.validation import check_choice

Array = jax.Array

READERS = ("conditional", "attention", "word_by_word")
ARCHITECTURES = (
    "conditional",
    "attention",
    "word_by_word",
    "attention_two_way",
    "word_by_word_two_way",
    "attentive_classifier",
)


class PairOutput(NamedTuple):
    """logits: [batch, classes] float32.
    attention: the weights to plot, float32: [batch, hyp_len, prem_len] (word by word: the attention matrix of
    hypothesis words over premise words), [batch, 1, prem_len] (attention: h_N over the premise),
    [batch, 1, prem_len + 1 + hyp_len] (attentive classifier: the pooling weights over the packed pair), or
    None (conditional encoding).
    reverse_attention: two-way models, the same for the swapped pair (premise over hypothesis); else None."""

    logits: Array
    attention: Array | None = None
    reverse_attention: Array | None = None


def _lengths(mask: Array) -> Array:
    return jnp.sum(mask.astype(jnp.int32), axis=-1)


class ConditionalReader(nn.Module):
    """Rocktäschel et al. (2016), sec. 2.2 (conditional encoding), with the attention of sec. 2.3 or 2.4 on top.

    An LSTM reads the premise embeddings; a second LSTM reads the hypothesis with its memory cell initialized
    to the premise LSTM's last cell state (its output state starts at zero; no delimiter token). Returns h*:
    the last hypothesis output h_N (reader 'conditional'), tanh(W^p r + W^x h_N) with the final-state
    attention (eqs. 7-10, 'attention') or with word-by-word attention (eqs. 11-14, 'word_by_word').
    shared: one LSTM (the same weights) for both sentences, the paper's "shared" conditional encoding.

    __call__(premise [batch, prem_len, embed], premise_mask, hypothesis [batch, hyp_len, embed],
             hypothesis_mask) -> (h* [batch, hidden], attention weights or None).
    """

    reader: str
    hidden: int
    attention: Mapping[str, Any]
    shared: bool = False

    @nn.compact
    def __call__(self, premise, premise_mask, hypothesis, hypothesis_mask):
        check_choice("reader", self.reader, READERS)
        premise_lstm = nn.RNN(nn.OptimizedLSTMCell(self.hidden), name="premise_lstm")
        hypothesis_lstm = (
            premise_lstm if self.shared else nn.RNN(nn.OptimizedLSTMCell(self.hidden), name="hypothesis_lstm")
        )
        (premise_c, _), premise_outputs = premise_lstm(premise, seq_lengths=_lengths(premise_mask), return_carry=True)
        initial = (premise_c, jnp.zeros_like(premise_c))
        (_, h_n), hypothesis_outputs = hypothesis_lstm(
            hypothesis, initial_carry=initial, seq_lengths=_lengths(hypothesis_mask), return_carry=True
        )
        if self.reader == "conditional":
            return h_n, None
        if self.reader == "attention":
            return FinalStateAttention(self.attention, self.hidden, name="attention")(
                premise_outputs, premise_mask, h_n
            )
        return WordByWordAttention(self.attention, self.hidden, name="word_by_word")(
            premise_outputs, premise_mask, hypothesis_outputs, hypothesis_mask, h_n
        )


class RocktaschelModel(nn.Module):
    """Rocktäschel et al. (2016), sec. 2: embeddings, a ConditionalReader, dropout, softmax layer (sec. 2.5).

    two_way: sec. 2.4, "two-way attention": the same reader (the same weights) also reads the swapped pair
    (hypothesis as premise); the two h* are concatenated before the softmax layer.
    vocab_size, embed_dim, hidden (k), num_classes; dropout: the rate on the embeddings and on h*.
    exact_match: a learned embedding of each word's exact-match flag (exact_match(): the word occurs in the
    other sentence; Chen et al. 2017, sec. 3.1's "enhanced" features, Wang and Jiang 2016) is added to its word
    embedding before dropout; the readers (eqs. 7-14) are unchanged. Not in Rocktäschel et al.
    """

    reader: str
    vocab_size: int
    num_classes: int
    embed_dim: int = 100
    hidden: int = 100
    dropout: float = 0.1
    two_way: bool = False
    shared: bool = False
    attention: Mapping[str, Any] | None = None
    exact_match: bool = False

    @nn.compact
    def __call__(self, premise, premise_mask, hypothesis, hypothesis_mask, *, train: bool = False) -> PairOutput:
        embed = nn.Embed(self.vocab_size, self.embed_dim, name="embed")
        drop = nn.Dropout(self.dropout, deterministic=not train)
        read = ConditionalReader(self.reader, self.hidden, self.attention, self.shared, name="reader")
        p, h = embed(premise), embed(hypothesis)
        if self.exact_match:
            p_match, h_match = exact_match(premise, premise_mask, hypothesis, hypothesis_mask)
            flag = nn.Embed(2, self.embed_dim, name="exact_match")
            p, h = p + flag(p_match.astype(jnp.int32)), h + flag(h_match.astype(jnp.int32))
        p, h = drop(p), drop(h)
        h_star, weights = read(p, premise_mask, h, hypothesis_mask)
        reverse = None
        if self.two_way:
            h_star_reverse, reverse = read(h, hypothesis_mask, p, premise_mask)
            h_star = jnp.concatenate([h_star, h_star_reverse], axis=-1)
        logits = nn.Dense(self.num_classes, name="softmax")(drop(h_star))
        return PairOutput(logits.astype(jnp.float32), weights, reverse)


def exact_match(premise: Array, premise_mask: Array, hypothesis: Array, hypothesis_mask: Array) -> tuple[Array, Array]:
    """(premise_match [batch, prem_len] bool, hypothesis_match [batch, hyp_len] bool): True at a word that also
    occurs among the other sentence's words (the exact-match input feature of Chen et al. 2017, ESIM / Wang and
    Jiang 2016); False at padding."""
    same = (premise[:, :, None] == hypothesis[:, None, :]) & premise_mask[:, :, None] & hypothesis_mask[:, None, :]
    return jnp.any(same, axis=2), jnp.any(same, axis=1)


def pack_pair(premise: Array, premise_mask: Array, hypothesis: Array, hypothesis_mask: Array, separator_id: int):
    """The pair as one sequence: premise words, separator_id, hypothesis words, then padding.

    premise [batch, prem_len], hypothesis [batch, hyp_len] int ids with their bool masks (words first, padding
    after). Returns (tokens [batch, prem_len + 1 + hyp_len] int32, mask bool, True at the words and the
    separator). The positions of a row's premise words are 0..P-1, its separator P, its hypothesis words
    P+1..P+H (P, H: the row's lengths).
    """
    prem_len, hyp_len = premise.shape[1], hypothesis.shape[1]
    p_len, h_len = _lengths(premise_mask)[:, None], _lengths(hypothesis_mask)[:, None]
    position = jnp.arange(prem_len + 1 + hyp_len)[None, :]
    from_premise = jnp.take_along_axis(premise, jnp.clip(position, 0, prem_len - 1).repeat(len(premise), 0), 1)
    hyp_position = jnp.clip(position - p_len - 1, 0, hyp_len - 1)
    from_hypothesis = jnp.take_along_axis(hypothesis, hyp_position, 1)
    tokens = jnp.where(position < p_len, from_premise, jnp.where(position == p_len, separator_id, from_hypothesis))
    mask = position < p_len + 1 + h_len
    return jnp.where(mask, tokens, 0).astype(jnp.int32), mask


class PairClassifier(nn.Module):
    """The attentive classifier (classifier.AttentiveClassifier) over the pair packed by pack_pair:
    "premise <separator> hypothesis", one BiLSTM, attention pooling with a learned query. exact_match: the
    flags of exact_match(), packed like the words (0 at the separator), as the classifier's features."""

    vocab_size: int
    num_classes: int
    separator_id: int
    embed_dim: int = 100
    hidden: int = 100
    dropout: float = 0.1
    attention: Mapping[str, Any] | None = None
    exact_match: bool = False

    @nn.compact
    def __call__(self, premise, premise_mask, hypothesis, hypothesis_mask, *, train: bool = False) -> PairOutput:
        tokens, mask = pack_pair(premise, premise_mask, hypothesis, hypothesis_mask, self.separator_id)
        features = None
        if self.exact_match:  # the flags packed like the words; 0 at the separator and padding
            p_match, h_match = exact_match(premise, premise_mask, hypothesis, hypothesis_mask)
            features, _ = pack_pair(
                p_match.astype(jnp.int32), premise_mask, h_match.astype(jnp.int32), hypothesis_mask, 0
            )
        classifier = AttentiveClassifier(
            self.vocab_size,
            self.num_classes,
            self.embed_dim,
            self.hidden,
            self.dropout,
            self.attention,
            num_features=2 if self.exact_match else 0,
            name="classifier",
        )
        logits, weights = classifier(tokens, mask, train=train, features=features)
        return PairOutput(logits, weights)


def build_pair_model(model: Mapping[str, Any], vocab_size: int, num_classes: int, separator_id: int) -> nn.Module:
    """The module config.model describes (keys: architecture, embed_dim, hidden, dropout, shared, exact_match
    (absent: False), attention).

    architecture: one of ARCHITECTURES. Raises ValueError (one line) for an unknown architecture.
    """
    architecture = check_choice("entailment model (model.architecture)", model["architecture"], ARCHITECTURES)
    attention = model.get("attention")
    attention = None if attention is None else ml_collections.FrozenConfigDict(attention)  # hashes by content
    sizes = {"embed_dim": model["embed_dim"], "hidden": model["hidden"], "dropout": model["dropout"]}
    exact = bool(model.get("exact_match", False))
    if architecture == "attentive_classifier":
        return PairClassifier(vocab_size, num_classes, separator_id, attention=attention, exact_match=exact, **sizes)
    reader = architecture.removesuffix("_two_way")
    return RocktaschelModel(
        reader,
        vocab_size,
        num_classes,
        two_way=architecture.endswith("_two_way"),
        shared=bool(model.get("shared", False)),
        exact_match=exact,
        attention=attention,
        **sizes,
    )
