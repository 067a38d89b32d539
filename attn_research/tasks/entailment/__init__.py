"""Sentence-pair entailment (SICK): Rocktäschel et al. (2016)'s conditional encoding, attention and word-by-word
attention (two-way variants included) and an attentive BiLSTM classifier; task.py registers the task."""

from attn_research.tasks.entailment.data import LABELS, PairData, PairSplit, load_pair_data, make_pair_batches
from attn_research.tasks.entailment.models import ARCHITECTURES, PairOutput, build_pair_model
from attn_research.tasks.entailment.task import EntailmentEvaluator, EntailmentTask

__all__ = [
    "ARCHITECTURES",
    "LABELS",
    "EntailmentEvaluator",
    "EntailmentTask",
    "PairData",
    "PairOutput",
    "PairSplit",
    "build_pair_model",
    "load_pair_data",
    "make_pair_batches",
]
