"""Models: the recurrent encoder, bridges, decoders (bahdanau, luong, none) and the Seq2Seq model."""
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
from attn_research.models.seq2seq import Seq2Seq, default_model_config, validate_model_config
from attn_research.models.types import Encoded, Seq2SeqOutput

__all__ = [
    "ATTENTIVE_DECODERS", "BRIDGES", "BahdanauDecoder", "Bridge", "CELLS", "DECODERS", "Encoded", "Encoder",
    "EncoderOutput", "LuongDecoder", "NoAttentionDecoder", "Seq2Seq", "Seq2SeqOutput", "build_decoder",
    "default_model_config", "validate_model_config",
]
