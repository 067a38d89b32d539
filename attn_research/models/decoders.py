"""Recurrent decoders, one target step at a time (config `decoder`).

    bahdanau    Bahdanau et al. (2015), sec. 3.1 and appendix A.2.2: attend with the previous state s_{i-1},
                then s_i = RNN(s_{i-1}, [E y_{i-1}; c_i]); the output layer reads [s_i; c_i; E y_{i-1}].
    luong       Luong et al. (2015), sec. 3 (eqs. 5-6) and 3.3: h_t = RNN(h_{t-1}, E y_{t-1}) (with input
                feeding: [E y_{t-1}; h~_{t-1}]), attend with h_t, h~_t = tanh(W_c [c_t; h_t]),
                p(y_t) = softmax(W_s h~_t).
    none_state  Britz et al. (2017), sec. 4.5 "None-State": no attention; the source reaches the decoder
                only through its initial state (the bridge).
    none_input  Britz et al. (2017), sec. 4.5 "None-Input": no attention; the encoder's last state is
                joined to every decoder input.

Every decoder has the same two methods:
    init_carry(encoded: Encoded) -> carry
    __call__(encoded: Encoded, carry, token [batch] int32, *, train: bool)
        -> (carry, logits [batch, target_vocab] float32, weights [batch, src_len] float32 or None)
and holds any attention from `build_attention` without knowing which one: the attention state from
`init_state` is an opaque pytree that travels in carry["attention"].

carry (a dict; every leaf has batch as its leading axis):
    "rnn":       tuple of one cell carry per layer, bottom first: h [batch, hidden] (GRU) or (c, h) (LSTM)
    "attention": the attention state (attentive decoders only), today {"position": [batch] int32}
    "feed":      h~_{t-1} [batch, hidden] (luong with input_feeding only)

Dropout (rate `dropout`, rng 'dropout', only when train) acts on the non-recurrent connections
(Zaremba et al. 2014, sec. 3): every layer's input and the vector the vocabulary projection reads.
`dtype` (models/precision.py) is the operand dtype of the embedding, cell, W_c, maxout and output matmuls; those
projections accumulate into float32 (logits float32), and the carry (cell states, h~_{t-1}) and the attention
stay float32.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from attn_research.attention import build_attention
from attn_research.models.cells import Carry, hidden_state, make_cell
from attn_research.models.precision import dot_general_f32
from attn_research.models.types import Encoded
from attn_research.validation import check_choice

Array = jax.Array
F32 = jnp.float32


def alignment_row(weights: Array | None) -> Array | None:
    """The alignment of a single query: [batch, 1, src_len] -> [batch, src_len] float32.

    Multi-head weights [batch, heads, 1, src_len] are averaged over the heads.
    """
    if weights is None:
        return None
    if weights.ndim == 4:
        weights = jnp.mean(weights, axis=1)
    return weights[:, 0, :].astype(F32)


class _RecurrentDecoder(nn.Module):
    """Shared parts: target embedding, stacked cells, dropout, vocabulary projection.

    vocab_size: target vocabulary. embed_dim: target embedding size. cell: 'gru' | 'lstm'. layers: stacked
    decoder layers (>= 1). hidden: units per layer. dropout: rate on the non-recurrent connections.
    dtype: the matmul operand dtype (module docstring).
    """

    vocab_size: int
    embed_dim: int
    cell: str = "gru"
    layers: int = 1
    hidden: int = 512
    dropout: float = 0.0
    dtype: Any = F32

    def _dense(self, features: int, **kwargs) -> nn.Dense:
        """A projection with `dtype` operands and a float32 result."""
        return nn.Dense(features, dtype=self.dtype, dot_general=dot_general_f32, **kwargs)

    def _setup_common(self) -> None:
        if self.layers < 1:
            raise ValueError(f"decoder layers must be >= 1, got {self.layers}")
        self.embed = nn.Embed(self.vocab_size, self.embed_dim, dtype=self.dtype)
        self.cells = [make_cell(self.cell, self.hidden, dtype=self.dtype) for _ in range(self.layers)]
        self.drop = nn.Dropout(self.dropout)
        self.output_layer = self._dense(self.vocab_size, name="output")

    def _dropout(self, x: Array, train: bool) -> Array:
        return self.drop(x, deterministic=not train or self.dropout == 0)

    def _stack(self, carries: tuple[Carry, ...], x: Array, train: bool) -> tuple[tuple[Carry, ...], Array]:
        """Runs the stacked cells one step: returns the new carries and the top layer's output."""
        new = []
        for cell, carry in zip(self.cells, carries):
            carry, x = cell(carry, self._dropout(x, train))
            new.append(carry)
        return tuple(new), x

    def _logits(self, features: Array, train: bool) -> Array:
        return self.output_layer(self._dropout(features, train)).astype(F32)


class _AttentiveDecoder(_RecurrentDecoder):
    attention_config: Any = None  # a Mapping for build_attention (a FrozenConfigDict keeps the module hashable)

    def _setup_attention(self) -> None:
        self.attention = build_attention(self.attention_config if self.attention_config is not None else {})

    def _attend(self, query: Array, encoded: Encoded, state: Any, train: bool) -> tuple[Array, Array, Any]:
        """query [batch, query_dim] -> context [batch, enc_dim], weights [batch, src_len], new state."""
        out = self.attention(
            query[:, None, :],
            encoded.annotations,
            encoded.annotations,
            encoded.mask,
            state,
            precomputed=encoded.attention_memory,
            train=train,
        )
        return out.context[:, 0, :], alignment_row(out.weights), out.state

    def precompute(self, annotations: Array) -> Any:
        """The attention's query-independent key features, once per source sentence (Encoded.attention_memory)."""
        return self.attention.precompute(annotations)

    def _attention_state(self, encoded: Encoded) -> Any:
        batch, src_len = encoded.mask.shape
        return self.attention.init_state(batch, src_len)


class BahdanauDecoder(_AttentiveDecoder):
    """Bahdanau et al. (2015), eqs. 4-6 and appendix A.2.2.

    c_i = attention(s_{i-1}, h); s_i = RNN(s_{i-1}, [E y_{i-1}; c_i]) (further layers read the layer
    below); t_i = [s_i; c_i; E y_{i-1}], or with maxout (A.2.2) t_i = max over pairs of U_o t~_i with
    l = max(1, hidden // 2) units (the paper: l = 500 for n = 1000); logits = W_o t_i.
    The query s_{i-1} is the top layer's hidden state. Shapes as in the module docstring.
    """

    maxout: bool = False

    def setup(self) -> None:
        self._setup_common()
        self._setup_attention()
        if self.maxout:
            self.maxout_units = max(1, self.hidden // 2)
            self.maxout_layer = self._dense(2 * self.maxout_units, name="maxout")

    def init_carry(self, encoded: Encoded) -> dict[str, Any]:
        return {"rnn": tuple(encoded.initial_state), "attention": self._attention_state(encoded)}

    def __call__(self, encoded: Encoded, carry: dict[str, Any], token: Array, *, train: bool = False):
        y = self.embed(token)  # [batch, embed_dim]
        s_prev = hidden_state(self.cell, carry["rnn"][-1])
        context, weights, att_state = self._attend(s_prev, encoded, carry["attention"], train)
        rnn, s = self._stack(carry["rnn"], jnp.concatenate([y, context.astype(y.dtype)], -1), train)
        features = jnp.concatenate([s, context.astype(s.dtype), y], -1)
        if self.maxout:
            pre = self.maxout_layer(features)
            features = jnp.max(pre.reshape(pre.shape[:-1] + (self.maxout_units, 2)), axis=-1)
        logits = self._logits(features, train)
        return {"rnn": rnn, "attention": att_state}, logits, weights


class LuongDecoder(_AttentiveDecoder):
    """Luong et al. (2015), eqs. 5-6 (global/local attention) and sec. 3.3 (input feeding).

    h_t = RNN(h_{t-1}, x_t), x_t = E y_{t-1} or, with input_feeding, [E y_{t-1}; h~_{t-1}] (h~_0 = 0);
    c_t = attention(h_t, h) with the top layer's h_t; h~_t = tanh(W_c [c_t; h_t]) (no bias, eq. 5);
    logits = W_s h~_t (eq. 6).
    """

    input_feeding: bool = True

    def setup(self) -> None:
        self._setup_common()
        self._setup_attention()
        self.W_c = self._dense(self.hidden, use_bias=False)

    def init_carry(self, encoded: Encoded) -> dict[str, Any]:
        carry = {"rnn": tuple(encoded.initial_state), "attention": self._attention_state(encoded)}
        if self.input_feeding:
            carry["feed"] = jnp.zeros((encoded.mask.shape[0], self.hidden), F32)
        return carry

    def __call__(self, encoded: Encoded, carry: dict[str, Any], token: Array, *, train: bool = False):
        x = self.embed(token)
        if self.input_feeding:
            x = jnp.concatenate([x, carry["feed"].astype(x.dtype)], -1)
        rnn, h = self._stack(carry["rnn"], x, train)
        context, weights, att_state = self._attend(h, encoded, carry["attention"], train)
        h_tilde = jnp.tanh(self.W_c(jnp.concatenate([context.astype(h.dtype), h], -1)))
        logits = self._logits(h_tilde, train)
        new_carry = {"rnn": rnn, "attention": att_state}
        if self.input_feeding:
            new_carry["feed"] = h_tilde.astype(F32)
        return new_carry, logits, weights


class NoAttentionDecoder(_RecurrentDecoder):
    """Britz et al. (2017), sec. 4.5: the baselines without attention.

    source_in_input=False ('none_state'): h_t = RNN(h_{t-1}, E y_{t-1}); the source arrives only
    through the initial state. source_in_input=True ('none_input'): h_t = RNN(h_{t-1}, [E y_{t-1}; z])
    with z = Encoded.final_state. logits = W_o h_t (top layer). weights is None.
    """

    source_in_input: bool = False

    def setup(self) -> None:
        self._setup_common()

    def init_carry(self, encoded: Encoded) -> dict[str, Any]:
        return {"rnn": tuple(encoded.initial_state)}

    def __call__(self, encoded: Encoded, carry: dict[str, Any], token: Array, *, train: bool = False):
        x = self.embed(token)
        if self.source_in_input:
            x = jnp.concatenate([x, encoded.final_state.astype(x.dtype)], -1)
        rnn, h = self._stack(carry["rnn"], x, train)
        return {"rnn": rnn}, self._logits(h, train), None


DECODERS = ("bahdanau", "luong", "none_state", "none_input")
ATTENTIVE_DECODERS = ("bahdanau", "luong")


def check_decoder(name: str) -> str:
    """Returns name if it is one of DECODERS, else raises ValueError listing the valid choices."""
    return check_choice("decoder", name, DECODERS)


def build_decoder(
    name: str,
    *,
    vocab_size: int,
    embed_dim: int,
    cell: str,
    layers: int,
    hidden: int,
    dropout: float,
    attention_config: Any = None,
    input_feeding: bool = True,
    maxout: bool = False,
    module_name: str | None = "decoder",
    dtype: Any = F32,
) -> nn.Module:
    """A decoder module by name (one of DECODERS). Raises ValueError for an unknown name.

    dtype: the matmul operand dtype (models/precision.py).
    """
    check_decoder(name)
    common = dict(
        vocab_size=vocab_size,
        embed_dim=embed_dim,
        cell=cell,
        layers=layers,
        hidden=hidden,
        dropout=dropout,
        dtype=dtype,
        name=module_name,
    )
    if name == "bahdanau":
        return BahdanauDecoder(attention_config=attention_config, maxout=maxout, **common)
    if name == "luong":
        return LuongDecoder(attention_config=attention_config, input_feeding=input_feeding, **common)
    return NoAttentionDecoder(source_in_input=(name == "none_input"), **common)
