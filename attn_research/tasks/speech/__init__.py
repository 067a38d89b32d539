"""Connected spoken digits (FSDD) with attention (issue 19): the utterances and features (data.py), the
acoustic encoder with time reduction (encoder.py) inside the seq2seq model (model.py), decode-time windowing
(decoding.py), digit error rate (metrics.py), pictures (plots.py) and the task registered as "speech" (task.py)."""

from attn_research.tasks.speech.task import SpeechEvaluator, SpeechPlots, SpeechTask, default_eval_config

__all__ = ["SpeechEvaluator", "SpeechPlots", "SpeechTask", "default_eval_config"]
