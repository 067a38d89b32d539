"""Models: the recurrent encoder, bridges, decoders (bahdanau, luong, none), Seq2Seq, the Transformer and
build_model, which picks one by config.model.architecture."""

from attn_research.models.bridge import BRIDGES, Bridge
from attn_research.models.cells import CELLS
from attn_research.models.decoders import (
    ATTENTIVE_DECODERS,
    DECODERS,
    BahdanauDecoder,
    LuongDecoder,
    NoAttentionDecoder,
    build_decoder,
)
from attn_research.models.encoder import Encoder, EncoderOutput
from attn_research.models.factory import ARCHITECTURES, build_model
from attn_research.models.seq2seq import Seq2Seq, default_model_config, validate_model_config
from attn_research.models.transformer import (
    Transformer,
    TransformerEncoded,
    default_transformer_config,
    validate_transformer_config,
)
from attn_research.models.types import Encoded, Seq2SeqOutput

__all__ = [
    "ARCHITECTURES",
    "ATTENTIVE_DECODERS",
    "BRIDGES",
    "BahdanauDecoder",
    "Bridge",
    "CELLS",
    "DECODERS",
    "Encoded",
    "Encoder",
    "EncoderOutput",
    "LuongDecoder",
    "NoAttentionDecoder",
    "Seq2Seq",
    "Seq2SeqOutput",
    "Transformer",
    "TransformerEncoded",
    "build_decoder",
    "build_model",
    "default_model_config",
    "default_transformer_config",
    "validate_model_config",
    "validate_transformer_config",
]
