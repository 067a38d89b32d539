"""The recurrent encoder-decoder with attention (Bahdanau et al. 2015; Luong et al. 2015; Britz et al. 2017).

Model config keys (`default_model_config()` gives the defaults in brackets):
    embed_dim              [256]   source and target embedding size
    cell                   ['gru'] 'gru' | 'lstm', for the encoder and the decoder
    encoder_layers         [1]     stacked encoder layers
    encoder_hidden         [512]   units per direction; enc_dim = 2 * encoder_hidden if bidirectional
    bidirectional          [True]  bidirectional encoder (Bahdanau et al. 2015, sec. 3.2)
    decoder                ['bahdanau'] 'bahdanau' | 'luong' | 'none_state' | 'none_input' (decoders.py)
    decoder_layers         [1]     stacked decoder layers
    decoder_hidden         [512]   decoder units (also the size of Luong's h~_t)
    bridge                 ['bahdanau'] 'bahdanau' | 'last' | 'zeros' | 'learned' (bridge.py); 'none_state'
                                   needs 'bahdanau' or 'last' (with the others the decoder never sees the source)
    input_feeding          [True]  Luong's input feeding (sec. 3.3); ignored by the other decoders
    maxout                 [False] Bahdanau's maxout output layer, pool size 2 (A.2.2); ignored by the others
    dropout                [0.5]   rate on the non-recurrent connections of encoder and decoder (rng 'dropout')
    compute_dtype          ['float32'] 'float32' | 'bfloat16': the mixed-precision policy (models/precision.py)
    teacher_forcing_ratio  [1.0]   probability of feeding the gold token in training; otherwise the argmax of
                                   the previous step's logits is fed (scheduled sampling, Bengio et al. 2015,
                                   sec. 2.4; rng 'teacher_forcing'). Evaluation (train=False) always feeds gold.
    attention              a ConfigDict for `attn_research.attention.build_attention` [its
                           attention_config(): score 'additive', window 'global', normalizer 'softmax',
                           dim 512]; used by the attentive decoders only. Scores that need query_dim == key_dim (dot, scaled_dot,
                           cosine) need decoder_hidden == enc_dim.

Unknown cell, decoder or bridge names raise ValueError listing the valid choices (when the model is
first initialized or applied, or at once with `validate_model_config`).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from attn_research.attention import attention_config
from attn_research.models.bridge import BRIDGES, Bridge, check_bridge
from attn_research.models.cells import CELLS, check_cell
from attn_research.models.decoders import ATTENTIVE_DECODERS, DECODERS, build_decoder, check_decoder
from attn_research.models.encoder import Encoder, top_summary
from attn_research.models.precision import compute_dtype, compute_dtype_name
from attn_research.models.types import Encoded, Seq2SeqOutput
from attn_research.training.terms import TERMS_COLLECTION

Array = jax.Array

__all__ = ["BRIDGES", "CELLS", "DECODERS", "Seq2Seq", "default_model_config", "validate_model_config"]


def default_model_config() -> ml_collections.ConfigDict:
    """The model config with the defaults listed in this module's docstring."""
    config = ml_collections.ConfigDict()
    config.embed_dim = 256
    config.cell = "gru"
    config.encoder_layers = 1
    config.encoder_hidden = 512
    config.bidirectional = True
    config.decoder = "bahdanau"
    config.decoder_layers = 1
    config.decoder_hidden = 512
    config.bridge = "bahdanau"
    config.input_feeding = True
    config.maxout = False
    config.dropout = 0.5
    config.teacher_forcing_ratio = 1.0
    config.compute_dtype = "float32"
    config.attention = attention_config()  # the attention package's defaults (additive, global, softmax, dim 512)
    return config


def validate_model_config(config: Any) -> None:
    """Raises ValueError for an unknown cell / decoder / bridge / compute_dtype (listing the valid choices) or a
    bad value."""
    check_cell(config.cell)
    compute_dtype_name(config)
    check_decoder(config.decoder)
    check_bridge(config.bridge)
    if config.decoder == "none_state" and config.bridge not in ("bahdanau", "last"):
        raise ValueError(
            f"decoder 'none_state' reads the source only through its initial state; bridge "
            f"{config.bridge!r} carries none: use 'bahdanau' or 'last'"
        )
    for key in ("embed_dim", "encoder_layers", "encoder_hidden", "decoder_layers", "decoder_hidden"):
        if int(config[key]) < 1:
            raise ValueError(f"model config {key} must be >= 1, got {config[key]}")
    if not 0.0 <= float(config.dropout) < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {config.dropout}")
    if not 0.0 <= float(config.teacher_forcing_ratio) <= 1.0:
        raise ValueError(f"teacher_forcing_ratio must be in [0, 1], got {config.teacher_forcing_ratio}")
    if config.decoder in ATTENTIVE_DECODERS and config.get("attention") is None:
        raise ValueError(f"decoder {config.decoder!r} needs an attention config")


def _frozen(config: Any) -> ml_collections.FrozenConfigDict | None:
    if config is None:
        return None
    if isinstance(config, ml_collections.FrozenConfigDict):
        return config
    return ml_collections.FrozenConfigDict(config)


class Seq2Seq(nn.Module):
    """Encoder, bridge and a step-wise decoder; teacher-forced training and step-wise decoding.

    config: the model config (keys in the module docstring). source_vocab_size, target_vocab_size: V_s, V_t.

    __call__(source [batch, src_len] int32, source_mask [batch, src_len] bool, target_input
             [batch, tgt_len] int32 (y_0 = BOS, y_1, ..., the gold prefix), *, train)
        -> Seq2SeqOutput(logits [batch, tgt_len, V_t] float32, alignments [batch, tgt_len, src_len] float32,
                         or None without attention).
        What a step's attention sows for a training term (training/terms.py; the hard attention's
        "reinforce") comes out of the scan stacked to [batch, tgt_len] when the collection is mutable.
        Teacher forcing: the decoder step runs under nn.scan over tgt_len. With train=True and
        teacher_forcing_ratio < 1 each step t > 0 feeds, per sequence, the gold y_{t-1} with probability
        ratio and otherwise the argmax of step t-1's logits (rng 'teacher_forcing'). Stochastic attentions
        (hard, monotonic noise) draw from rng 'sampling' when train=True.
    encode(source, source_mask, *, train=False) -> Encoded (models/types.py).
    init_carry(encoded) -> carry: a dict pytree (decoders.py): "rnn" (one cell carry per decoder layer),
        "attention" (the attention state), "feed" (Luong's h~_{t-1}); every leaf [batch, ...].
    decode_step(encoded, carry, token [batch] int32, *, train=False)
        -> (carry, logits [batch, V_t] float32, weights [batch, src_len] float32; zeros without attention).

    Each method works with `model.apply(variables, ..., method=Seq2Seq.encode)`; the scan in __call__ and
    decode_step use the same decoder submodule, so they share parameters and agree step for step.
    Modules hash by their config's content, so a model can be a static argument of jax.jit.
    Raises ValueError for an unknown cell / decoder / bridge (validate_model_config).
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
        validate_model_config(config)
        dtype = compute_dtype(config)
        self.encoder = self.make_encoder(dtype)
        self.bridge = Bridge(
            kind=config.bridge, cell=config.cell, layers=int(config.decoder_layers), hidden=int(config.decoder_hidden)
        )
        attention = config.get("attention") if config.decoder in ATTENTIVE_DECODERS else None
        self.decoder = build_decoder(
            config.decoder,
            vocab_size=self.target_vocab_size,
            embed_dim=int(config.embed_dim),
            cell=config.cell,
            layers=int(config.decoder_layers),
            hidden=int(config.decoder_hidden),
            dropout=float(config.dropout),
            attention_config=_frozen(attention),
            input_feeding=bool(config.input_feeding),
            maxout=bool(config.maxout),
            module_name=None,
            dtype=dtype,
        )

    def make_encoder(self, dtype) -> nn.Module:
        """The encoder submodule (called once, in setup): the token Encoder of models/encoder.py. A subclass
        may return another encoder with the same call, (source, mask, *, train) -> an output with
        `annotations` and `final_states` (EncoderOutput) and, when it shortens the source (a speech
        encoder's time reduction), `mask` [batch, enc_len] bool, which then replaces the source mask."""
        config = self.config
        return Encoder(
            vocab_size=self.source_vocab_size,
            embed_dim=int(config.embed_dim),
            cell=config.cell,
            layers=int(config.encoder_layers),
            hidden=int(config.encoder_hidden),
            bidirectional=bool(config.bidirectional),
            dropout=float(config.dropout),
            dtype=dtype,
        )

    def encode(self, source: Array, source_mask: Array, *, train: bool = False) -> Encoded:
        """Annotations, mask and the decoder's initial states (Encoded) for a right-padded source."""
        source_mask = source_mask.astype(bool)
        out = self.encoder(source, source_mask, train=train)
        source_mask = getattr(out, "mask", source_mask)  # an encoder that reduces time gives its own mask
        initial_state = self.bridge(out.final_states, source.shape[0])
        annotations = out.annotations.astype(jnp.float32)
        memory = self.decoder.precompute(annotations) if self.config.decoder in ATTENTIVE_DECODERS else None
        return Encoded(
            annotations,
            source_mask,
            initial_state,
            top_summary(self.config.cell, out.final_states).astype(jnp.float32),
            memory,
        )

    def init_carry(self, encoded: Encoded) -> dict[str, Any]:
        """The decoder carry before the first target step (decoders.py documents its keys)."""
        return self.decoder.init_carry(encoded)

    def decode_step(
        self, encoded: Encoded, carry: dict[str, Any], token: Array, *, train: bool = False
    ) -> tuple[dict[str, Any], Array, Array]:
        """One decoder step from the previous token y_{t-1} [batch]: (carry, logits [batch, V_t], weights)."""
        carry, logits, weights = self.decoder(encoded, carry, token, train=train)
        if weights is None:
            weights = jnp.zeros(encoded.mask.shape, jnp.float32)
        return carry, logits, weights

    def __call__(self, source: Array, source_mask: Array, target_input: Array, *, train: bool) -> Seq2SeqOutput:
        encoded = self.encode(source, source_mask, train=train)
        carry = self.init_carry(encoded)
        ratio = float(self.config.teacher_forcing_ratio)
        sample = bool(train) and ratio < 1.0

        def step(decoder, state, gold, encoded):
            carry, previous = state  # previous: argmax of the last step's logits, [batch] int32
            token = gold
            if sample:
                use_gold = jax.random.bernoulli(decoder.make_rng("teacher_forcing"), ratio, gold.shape)
                token = jnp.where(use_gold, gold, previous)
            carry, logits, weights = decoder(encoded, carry, token, train=train)
            return (carry, jnp.argmax(logits, -1).astype(gold.dtype)), (logits, weights)

        scan = nn.scan(
            step,
            variable_broadcast="params",
            variable_axes={TERMS_COLLECTION: 1},  # sown per step -> [batch, tgt_len]
            split_rngs={"params": False, "dropout": True, "teacher_forcing": True, "sampling": True},
            in_axes=(1, nn.broadcast),
            out_axes=1,
        )
        # previous starts as y_0 (BOS), so step 0 always reads the gold first token.
        _, (logits, alignments) = scan(self.decoder, (carry, target_input[:, 0]), target_input, encoded)
        return Seq2SeqOutput(logits.astype(jnp.float32), alignments)
