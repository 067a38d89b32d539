"""Data for attn_research: TFDS builders (no TensorFlow), vocabularies, tokenizers, batching.

Entry points: `load_dataset(data_config) -> TranslationData` and `make_batches(split, ...)`.
"""

from attn_research.data.batching import batch_order, make_batches
from attn_research.data.config import default_data_config
from attn_research.data.dataset import SPLIT_NAMES, Split, TranslationData
from attn_research.data.load import DATA_DIR_ENV, DATASETS, load_dataset
from attn_research.data.tokenizers import MosesWordTokenizer, SentencePieceTokenizer, WhitespaceTokenizer
from attn_research.data.vocabulary import BOS_ID, EOS_ID, PAD_ID, SPECIAL_TOKENS, UNK_ID, Vocabulary

__all__ = [
    "BOS_ID",
    "DATASETS",
    "DATA_DIR_ENV",
    "EOS_ID",
    "MosesWordTokenizer",
    "PAD_ID",
    "SPECIAL_TOKENS",
    "SPLIT_NAMES",
    "SentencePieceTokenizer",
    "Split",
    "TranslationData",
    "UNK_ID",
    "Vocabulary",
    "WhitespaceTokenizer",
    "batch_order",
    "default_data_config",
    "load_dataset",
    "make_batches",
]
