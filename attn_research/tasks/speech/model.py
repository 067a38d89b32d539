"""The speech model: the recurrent attention encoder-decoder of models/seq2seq.py (decoders, bridge, attention
catalogue, teacher forcing and the step interface that greedy and beam search read) with its token encoder
replaced by the acoustic encoder of encoder.py: only the encoder changes between a sentence and an utterance.

Model config: every key of models.seq2seq.default_model_config() (embed_dim is the digit embedding; the
encoder's cell, encoder_layers, encoder_hidden, bidirectional and dropout are read by the acoustic encoder) and
    reduction   ['pyramid'] 'pyramid' (Chan et al. 2016) | 'conv' (strided convolutions), encoder.py
    reductions  [3] 2x time reductions (frames per encoder step: 2^reductions)
"""

from __future__ import annotations

from typing import Any

import ml_collections

from attn_research.models.seq2seq import Seq2Seq, default_model_config, validate_model_config
from attn_research.tasks.speech.encoder import SpeechEncoder

SPEECH_KEYS = ("reduction", "reductions")


def default_speech_model_config() -> ml_collections.ConfigDict:
    """models/seq2seq.py's defaults with the acoustic encoder's keys and a model sized for FSDD on CPUs:
    GRU, 4 encoder layers (the top 3 halve the frame rate), 128 units per direction, a 128-unit Bahdanau
    decoder, digit embeddings of 32, attention dim 64, dropout 0.1."""
    config = default_model_config()
    config.architecture = "speech_rnn"
    config.reduction = "pyramid"
    config.reductions = 3
    config.embed_dim = 32
    config.encoder_layers = 4
    config.encoder_hidden = 128
    config.decoder_hidden = 128
    config.dropout = 0.1
    config.attention.dim = 64
    return config


def check_speech_model(config: Any) -> None:
    """validate_model_config plus the acoustic encoder's checks (one-line ValueErrors)."""
    validate_model_config(config)
    encoder_from_config(config, None).check()


def encoder_from_config(config: Any, dtype) -> SpeechEncoder:
    kwargs = {} if dtype is None else {"dtype": dtype}
    return SpeechEncoder(
        reduction=str(config.reduction),
        reductions=int(config.reductions),
        cell=config.cell,
        layers=int(config.encoder_layers),
        hidden=int(config.encoder_hidden),
        bidirectional=bool(config.bidirectional),
        dropout=float(config.dropout),
        **kwargs,
    )


class SpeechSeq2Seq(Seq2Seq):
    """Seq2Seq over acoustic features: source = features [batch, frames, feature_dim] float32, source_mask
    [batch, frames] bool; encode gives annotations and the mask at the reduced rate (enc_len =
    ceil(frames / 2^reductions)), so alignments are [batch, tgt_len, enc_len]. source_vocab_size is unused
    (pass the feature dimension)."""

    def make_encoder(self, dtype) -> SpeechEncoder:
        return encoder_from_config(self.config, dtype)


def build_speech_model(config: Any, feature_dim: int, target_vocab_size: int) -> SpeechSeq2Seq:
    """The unbound model, its config validated and frozen (hashes by content: a static jit argument)."""
    check_speech_model(config)
    return SpeechSeq2Seq(
        config=ml_collections.FrozenConfigDict(config),
        source_vocab_size=feature_dim,
        target_vocab_size=target_vocab_size,
    )
