"""The Transformer encoder-decoder (Vaswani et al. 2017, "Attention Is All You Need", sec. 3).

Model config keys (config.model, architecture 'transformer'; `default_transformer_config()` gives the
defaults in brackets, the paper's base model except for max_len):
    d_model            [512]    model size; embeddings, every sub-layer output and the attention projections
    heads              [8]      h; d_v = d_model / h (sec. 3.2.2)
    key_dim            [0]      d_k, the query/key size per head; 0: d_model / h (Table 3 row B varies it)
    encoder_layers     [6]      N for the encoder stack
    decoder_layers     [6]      N for the decoder stack
    ff_dim             [2048]   d_ff, the inner size of the feed-forward networks (sec. 3.3)
    dropout            [0.1]    P_drop on every sub-layer output and on embeddings + positions (sec. 5.4)
    attention_dropout  [0.0]    dropout on the attention weights (not in the paper; tensor2tensor's option)
    norm               ['post'] 'post' (sec. 3.1: LayerNorm(x + Sublayer(x))) | 'pre' (x + Sublayer(LayerNorm(x)),
                                with a final LayerNorm after each stack); see transformer_layers.py
    positions          ['sinusoidal'] 'sinusoidal' (sec. 3.5) | 'learned' (a table per stack; Table 3 row E)
    tie_embeddings     [False]  the target embedding matrix is also the pre-softmax projection (sec. 3.4)
    compute_dtype      ['float32'] 'float32' | 'bfloat16': the mixed-precision policy (models/precision.py); the
                                residual stream, layer norms, attention softmax and logits stay float32
    max_len            [256]    positions a stack can see: the learned tables' size, and the length of the
                                decoder's key cache in decode_step (sinusoidal stacks take any length
                                with teacher forcing)

Embeddings are drawn from N(0, 1 / d_model) and multiplied by sqrt(d_model) (sec. 3.4), so the scaled
embeddings have unit variance like the sinusoids; learned position tables start from N(0, 1).
Unknown norm or positions names raise ValueError listing the valid choices (validate_transformer_config,
also called when the model is first initialized or applied).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from attn_research.attention import sinusoidal_positions
from attn_research.models.precision import compute_dtype, compute_dtype_name, dot_general_f32
from attn_research.models.transformer_layers import NORMS, DecoderLayer, EncoderLayer
from attn_research.models.types import Seq2SeqOutput
from attn_research.validation import check_choice

Array = jax.Array

__all__ = [
    "NORMS",
    "POSITIONS",
    "Transformer",
    "TransformerEncoded",
    "default_transformer_config",
    "validate_transformer_config",
]

POSITIONS = ("sinusoidal", "learned")


def default_transformer_config() -> ml_collections.ConfigDict:
    """The Transformer's model config with the defaults listed in this module's docstring."""
    return ml_collections.ConfigDict(
        {
            "architecture": "transformer",
            "d_model": 512,
            "heads": 8,
            "key_dim": 0,
            "encoder_layers": 6,
            "decoder_layers": 6,
            "ff_dim": 2048,
            "dropout": 0.1,
            "attention_dropout": 0.0,
            "norm": "post",
            "positions": "sinusoidal",
            "tie_embeddings": False,
            "max_len": 256,
            "compute_dtype": "float32",
        }
    )


def validate_transformer_config(config: Any) -> None:
    """Raises ValueError for an unknown norm / positions name (listing the valid choices) or a bad size or rate."""
    check_choice("transformer norm", config.norm, NORMS)
    check_choice("transformer positions", config.positions, POSITIONS)
    compute_dtype_name(config)
    for key in ("d_model", "heads", "encoder_layers", "decoder_layers", "ff_dim", "max_len"):
        if int(config[key]) < 1:
            raise ValueError(f"model config {key} must be >= 1, got {config[key]}")
    if int(config.get("key_dim", 0)) < 0:
        raise ValueError(f"key_dim must be >= 0 (0: d_model / heads), got {config.key_dim}")
    if int(config.d_model) % int(config.heads):
        raise ValueError(f"d_model ({config.d_model}) must be divisible by heads ({config.heads})")
    if config.positions == "sinusoidal" and int(config.d_model) % 2:
        raise ValueError(f"sinusoidal positions need an even d_model, got {config.d_model}")
    for key in ("dropout", "attention_dropout"):
        if not 0.0 <= float(config[key]) < 1.0:
            raise ValueError(f"{key} must be in [0, 1), got {config[key]}")


class TransformerEncoded(NamedTuple):
    """Transformer.encode's result, what every decoder step reads besides its carry.

    memory: [batch, src_len, d_model] float32, the encoder stack's output z (zero at padding positions),
            the keys and values of every decoder layer's cross-attention.
    mask:   [batch, src_len] bool, True = real source token.
    Every leaf has batch as its leading axis (beam search tiles it with jnp.repeat along axis 0).
    """

    memory: Array
    mask: Array


class Transformer(nn.Module):
    """Encoder and decoder stacks of multi-head attention and feed-forward layers (Vaswani et al. 2017, sec. 3).

    config: the model config (keys in the module docstring). source_vocab_size, target_vocab_size: V_s, V_t.
    The same interface as Seq2Seq (models/seq2seq.py), so training, greedy and beam search run unchanged:

    __call__(source [batch, src_len] int32, source_mask [batch, src_len] bool, target_input
             [batch, tgt_len] int32 (y_0 = BOS, y_1, ..., the gold prefix), *, train)
        -> Seq2SeqOutput(logits [batch, tgt_len, V_t] float32, alignments [batch, tgt_len, src_len] float32).
        Teacher forcing: the decoder runs on all target positions at once, position t attending to the
        positions <= t (sec. 3.2.3). Alignments: the cross-attention weights of the last decoder layer,
        averaged over the heads.
    encode(source, source_mask, *, train=False) -> TransformerEncoded(memory, mask).
    init_carry(encoded) -> {"cache": one [batch, max_len, d_model] float32 array per decoder layer, the
        inputs of its self-attention at the positions decoded so far (zeros after them), "position":
        [batch] int32, the target position of the next step}.
    decode_step(encoded, carry, token [batch] int32, *, train=False)
        -> (carry, logits [batch, V_t] float32, weights [batch, src_len] float32: the last decoder layer's
        cross-attention weights averaged over the heads). Incremental: each step writes its layer inputs to
        the cache, so step t gives the teacher-forced logits of position t. The cache holds max_len
        positions: a step at position >= max_len returns NaN logits (decode at most max_len tokens).

    Dropout (rng 'dropout') only when train=True. Modules hash by their config's content, so a model can
    be a static argument of jax.jit. Raises ValueError for a bad config (validate_transformer_config)
    and, with learned positions, for a source or target longer than max_len.
    """

    config: ml_collections.ConfigDict
    source_vocab_size: int
    target_vocab_size: int

    def __hash__(self) -> int:
        return hash(
            (
                type(self).__name__,
                ml_collections.FrozenConfigDict(self.config),
                self.source_vocab_size,
                self.target_vocab_size,
            )
        )

    def setup(self) -> None:
        config = self.config
        validate_transformer_config(config)
        d_model = int(config.d_model)
        dtype = compute_dtype(config)
        embedding_init = nn.initializers.normal(stddev=d_model**-0.5)
        self.source_embedding = nn.Embed(self.source_vocab_size, d_model, embedding_init=embedding_init, dtype=dtype)
        self.target_embedding = nn.Embed(self.target_vocab_size, d_model, embedding_init=embedding_init, dtype=dtype)
        if config.positions == "learned":
            table_init = nn.initializers.normal(stddev=1.0)
            self.source_positions = nn.Embed(int(config.max_len), d_model, embedding_init=table_init)
            self.target_positions = nn.Embed(int(config.max_len), d_model, embedding_init=table_init)
        sizes = dict(
            d_model=d_model,
            heads=int(config.heads),
            ff_dim=int(config.ff_dim),
            dropout=float(config.dropout),
            attention_dropout=float(config.attention_dropout),
            norm=config.norm,
            key_dim=int(config.get("key_dim", 0)),
            dtype=dtype,
        )
        self.encoder_layers = [EncoderLayer(**sizes) for _ in range(int(config.encoder_layers))]
        last = int(config.decoder_layers) - 1
        self.decoder_layers = [DecoderLayer(**sizes, return_weights=i == last) for i in range(last + 1)]
        if config.norm == "pre":
            self.encoder_norm = nn.LayerNorm(dtype=jnp.float32)
            self.decoder_norm = nn.LayerNorm(dtype=jnp.float32)
        if not config.tie_embeddings:
            self.output = nn.Dense(self.target_vocab_size, dtype=dtype, dot_general=dot_general_f32)
        self.embedding_dropout = nn.Dropout(float(config.dropout))

    def _check_length(self, length: int, what: str) -> None:
        if self.config.positions == "learned" and length > int(self.config.max_len):
            raise ValueError(
                f"{what} length {length} exceeds the learned position table (max_len = {self.config.max_len})"
            )

    def _embed(self, embedding: nn.Embed, tokens: Array, positions: Array, *, source: bool, train: bool) -> Array:
        """Dropout(Embedding(tokens) * sqrt(d_model) + PE(positions)) (sec. 3.4, 3.5, 5.4): [..., d_model] float32
        (the residual stream stays float32 under any compute_dtype)."""
        d_model = int(self.config.d_model)
        x = embedding(tokens).astype(jnp.float32) * math.sqrt(d_model)
        if self.config.positions == "learned":
            table = self.source_positions if source else self.target_positions
            x = x + table(positions).astype(jnp.float32)
        else:
            x = x + sinusoidal_positions(positions, d_model)
        return self.embedding_dropout(x, deterministic=not train)

    def _logits(self, y: Array) -> Array:
        """The pre-softmax projection of the decoder output y [..., d_model]: [..., V_t] float32."""
        if self.config.norm == "pre":
            y = self.decoder_norm(y)
        logits = self.target_embedding.attend(y) if self.config.tie_embeddings else self.output(y)
        return logits.astype(jnp.float32)

    def encode(self, source: Array, source_mask: Array, *, train: bool = False) -> TransformerEncoded:
        """The encoder stack's output z for a right-padded source (TransformerEncoded)."""
        source_mask = source_mask.astype(bool)
        batch, src_len = source.shape
        self._check_length(src_len, "source")
        positions = jnp.broadcast_to(jnp.arange(src_len), (batch, src_len))
        x = self._embed(self.source_embedding, source, positions, source=True, train=train)
        for layer in self.encoder_layers:
            x = layer(x, source_mask, train=train)
        if self.config.norm == "pre":
            x = self.encoder_norm(x)
        return TransformerEncoded(jnp.where(source_mask[..., None], x, 0.0).astype(jnp.float32), source_mask)

    def init_carry(self, encoded: TransformerEncoded) -> dict[str, Any]:
        """Empty key caches and position 0 (see the class docstring)."""
        batch = encoded.memory.shape[0]
        shape = (batch, int(self.config.max_len), int(self.config.d_model))
        return {
            "cache": tuple(jnp.zeros(shape, jnp.float32) for _ in self.decoder_layers),
            "position": jnp.zeros((batch,), jnp.int32),
        }

    def decode_step(
        self, encoded: TransformerEncoded, carry: dict[str, Any], token: Array, *, train: bool = False
    ) -> tuple[dict[str, Any], Array, Array]:
        """One decoder step from the previous token y_{t-1} [batch]: (carry, logits [batch, V_t], weights)."""
        position = carry["position"]
        x = self._embed(self.target_embedding, token[:, None], position[:, None], source=False, train=train)
        caches = []
        for layer, cache in zip(self.decoder_layers, carry["cache"]):
            x, cache, weights = layer(x, encoded.memory, encoded.mask, cache, position, train=train)
            caches.append(cache)
        logits = self._logits(x[:, 0])
        logits = jnp.where((position < int(self.config.max_len))[:, None], logits, jnp.nan)
        return {"cache": tuple(caches), "position": position + 1}, logits, jnp.mean(weights[:, :, 0], axis=1)

    def __call__(self, source: Array, source_mask: Array, target_input: Array, *, train: bool) -> Seq2SeqOutput:
        encoded = self.encode(source, source_mask, train=train)
        batch, tgt_len = target_input.shape
        self._check_length(tgt_len, "target")
        positions = jnp.broadcast_to(jnp.arange(tgt_len), (batch, tgt_len))
        x = self._embed(self.target_embedding, target_input, positions, source=False, train=train)
        for layer in self.decoder_layers:
            x, _, weights = layer(x, encoded.memory, encoded.mask, train=train)
        return Seq2SeqOutput(self._logits(x), jnp.mean(weights, axis=1))
