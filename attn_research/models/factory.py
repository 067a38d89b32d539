"""The model of an experiment, chosen by config.model.architecture."""

from __future__ import annotations

from typing import Any

import ml_collections

from attn_research.models.seq2seq import Seq2Seq, validate_model_config
from attn_research.models.transformer import Transformer, validate_transformer_config
from attn_research.validation import check_choice

ARCHITECTURES = {
    "rnn": (Seq2Seq, validate_model_config),
    "transformer": (Transformer, validate_transformer_config),
}


def build_model(model_config: Any, source_vocab_size: int, target_vocab_size: int):
    """The unbound model for `model_config` (a ConfigDict or FrozenConfigDict).

    model_config.architecture: 'rnn' (Seq2Seq, the recurrent encoder-decoder; the default when the key is
    missing) | 'transformer' (Transformer, Vaswani et al. 2017). Both have the Seq2Seq interface
    (__call__, encode, init_carry, decode_step). The config is validated at once and frozen, so the model
    hashes by its content (a static jax.jit argument).
    Raises ValueError for an unknown architecture (listing the valid choices) or a bad model config.
    """
    architecture = check_choice("model architecture", model_config.get("architecture", "rnn"), ARCHITECTURES)
    model_class, validate = ARCHITECTURES[architecture]
    validate(model_config)
    return model_class(
        config=ml_collections.FrozenConfigDict(model_config),
        source_vocab_size=source_vocab_size,
        target_vocab_size=target_vocab_size,
    )
