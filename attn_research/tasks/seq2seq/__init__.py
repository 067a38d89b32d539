"""The text-to-text seq2seq task (synthetic, SCAN, Multi30k; recurrent encoder-decoders and the Transformer)."""

from attn_research.tasks.seq2seq.evaluation import Decoded, Seq2SeqEvaluator, strip_after_eos
from attn_research.tasks.seq2seq.task import STEP_ARRAYS, Seq2SeqTask, step_arrays

__all__ = ["STEP_ARRAYS", "Decoded", "Seq2SeqEvaluator", "Seq2SeqTask", "step_arrays", "strip_after_eos"]
