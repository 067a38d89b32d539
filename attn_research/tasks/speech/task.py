"""Attention-based recognition of connected spoken digits (FSDD; Chorowski et al. 2015's length question).

p(y | x) = prod_i p(y_i | y_<i, x) over the digits y of an utterance x (log-mel + delta features, data.py),
with the recurrent attention encoder-decoder of models/seq2seq.py whose encoder is the acoustic one
(model.py, encoder.py). Loss: the mean token cross-entropy (tasks/seq2seq/loss.py). Evaluation: the
teacher-forced loss, then greedy decoding (or decoding/beam.py's beam search, eval.beam_size > 1) and, when
eval.median_window, greedy decoding with the attention windowed around the previous alignment's median
(decoding.py; metrics prefixed windowed_): digit error rate and utterance accuracy, overall, at the training
lengths and by number of digits (metrics.py).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from attn_research.attention import attention_settings
from attn_research.decoding.beam import beam_search
from attn_research.decoding.greedy import greedy_decode
from attn_research.models.decoders import ATTENTIVE_DECODERS
from attn_research.tasks.base import TASKS, EvalResult, Evaluator, LossOutput, Task
from attn_research.tasks.seq2seq.evaluation import strip_after_eos
from attn_research.tasks.seq2seq.loss import token_cross_entropy
from attn_research.tasks.speech import data as speech_data
from attn_research.tasks.speech.decoding import windowed_greedy_decode
from attn_research.tasks.speech.metrics import recognition_metrics
from attn_research.tasks.speech.model import build_speech_model, check_speech_model, default_speech_model_config
from attn_research.tasks.speech.plots import plot_alignment_over_spectrogram
from attn_research.training.mesh import shard_batch, to_host
from attn_research.training.steps import eval_step

Array = jax.Array
STEP_ARRAYS = ("features", "feature_mask", "target_input", "target_output", "target_mask")
EVAL_FRAME_MULTIPLE = 4  # evaluation batches: frames padded to 4 x data.frame_multiple (fewer decoder compiles)


def default_eval_config() -> dict[str, Any]:
    """The task's keys of config.eval: beam_size (1 = greedy), median_window (also decode with the window),
    window_left and window_right (w_l, w_r in encoder steps)."""
    return {"beam_size": 1, "median_window": True, "window_left": 3, "window_right": 12}


class SpeechPlots(NamedTuple):
    """EvalResult.plot_data: a few utterances of a split (index: their positions), their normalized
    features [frames, dim], decoded digits and greedy alignments [outputs, enc_len]."""

    index: list[int]
    features: list[np.ndarray]
    hypotheses: list[list[int]]
    alignments: list[np.ndarray]


@TASKS.register(
    "speech",
    equation="p(y | x) = prod_i p(y_i | y_<i, x), x = log-mel + deltas, encoder with time reduction",
    source="Chorowski et al. 2015; Chan et al. 2016",
)
class SpeechTask(Task):
    """Reads config.data (data.py), config.model (model.py), config.train.label_smoothing, config.eval
    (batch_size, num_heatmaps and default_eval_config's keys).

    Step arrays: features [batch, frames, 3 mel_bands] float32, feature_mask bool, target_input [batch, steps]
    int32 (BOS, d_1..d_N), target_output (d_1..d_N, EOS), target_mask bool. Loss metrics (sums): nll_sum,
    tokens; signals: log_likelihood [batch], step_mask (so the hard attention's REINFORCE term applies).
    """

    name = "speech"
    rng_streams = ("dropout", "teacher_forcing", "sampling")

    @classmethod
    def default_config(cls) -> ml_collections.ConfigDict:
        return ml_collections.ConfigDict(
            {"data": speech_data.default_data_config(), "model": default_speech_model_config()}
        )

    @classmethod
    def check_config(cls, config) -> None:
        """data (data.check_data_config), the model (validate_model_config + the encoder's checks), the
        attention (build_attention) and the eval window (one-line ValueErrors)."""
        from attn_research.attention import build_attention  # pylint: disable=import-outside-toplevel

        speech_data.check_data_config(config.data)
        check_speech_model(config.model)
        if config.model.decoder in ATTENTIVE_DECODERS:
            build_attention(config.model.attention)
        evaluation = {**default_eval_config(), **config.get("eval", {})}
        if (
            int(evaluation["beam_size"]) < 1
            or int(evaluation["window_left"]) < 0
            or int(evaluation["window_right"]) < 0
        ):
            raise ValueError(
                f"eval.beam_size must be >= 1 and eval.window_left / window_right >= 0, got "
                f"{evaluation['beam_size']}, {evaluation['window_left']}, {evaluation['window_right']}"
            )

    def load_data(self) -> speech_data.SpeechData:
        return speech_data.load_speech_data(self.config.data)

    def build_model(self, data: speech_data.SpeechData):
        return build_speech_model(self.config.model, data.feature_dim, speech_data.VOCAB_SIZE)

    def train_batches(self, data, batch_size: int, seed: int, epoch: int, fixed_shape: bool) -> list[dict]:
        return speech_data.train_batches(
            data, batch_size, seed, epoch, fixed_shape, int(self.config.data.frame_multiple)
        )

    def step_arrays(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        return {name: batch[name] for name in STEP_ARRAYS}

    def model_inputs(self, arrays: Mapping[str, Array]) -> tuple[Array, ...]:
        return arrays["features"], arrays["feature_mask"], arrays["target_input"]

    def loss(self, output, arrays: Mapping[str, Array]) -> LossOutput:
        """The mean token cross-entropy (label smoothing train.label_smoothing) over the digits and EOS."""
        mask = arrays["target_mask"]
        tokens = jnp.maximum(jnp.sum(mask), 1).astype(jnp.float32)
        smoothing = float(self.config.train.get("label_smoothing", 0.0))
        loss, nll = token_cross_entropy(output.logits, arrays["target_output"], mask, smoothing)
        metrics = {"nll_sum": jnp.sum(nll), "tokens": tokens}
        return LossOutput(jnp.sum(loss) / tokens, metrics, {"log_likelihood": -jnp.sum(nll, -1), "step_mask": mask})

    def eval_metrics(self, output, arrays: Mapping[str, Array]) -> dict[str, Array]:
        _, nll = token_cross_entropy(output.logits, arrays["target_output"], arrays["target_mask"])
        return {"nll_sum": jnp.sum(nll), "tokens": jnp.sum(arrays["target_mask"]).astype(jnp.float32)}

    def train_log(self, sums: Mapping[str, float], count: int) -> dict[str, float]:
        """ppl = exp(nll per token) over the log window; other metrics as means per step."""
        logged = {"ppl": float(math.exp(min(sums["nll_sum"] / max(sums["tokens"], 1.0), 50.0)))}
        logged.update({k: v / count for k, v in sums.items() if k not in ("loss", "grad_norm", "nll_sum", "tokens")})
        return logged

    def evaluator(self, model, data, mesh) -> SpeechEvaluator:
        evaluation = {**default_eval_config(), **self.config.eval}
        return SpeechEvaluator(self, model, data, mesh, evaluation)

    def plots(self, workdir: str, step: int, data, result: EvalResult) -> dict[str, str]:
        """attention/step_<step>_utterance_<i>.png: the greedy alignment over the log-mel spectrogram of a few
        validation utterances, short and long (spread over the split, which is ordered by length)."""
        plotted: SpeechPlots | None = result.plot_data
        if plotted is None:
            return {}
        frames_per_step = 2 ** int(self.config.model.reductions)
        bands = int(self.config.data.mel_bands)
        split = data.splits["validation"]
        paths = {}
        for k, index in enumerate(plotted.index):
            labels = [str(d) for d in plotted.hypotheses[k]]
            alignment = plotted.alignments[k]
            if alignment.shape[0] > len(labels):
                labels.append("</s>")
            reference = "".join(str(d) for d in split.digits[index])
            title = f"validation utterance {index} ({reference}), step {step}: decoded {''.join(labels[:-1]) or '-'}"
            path = os.path.join(workdir, "attention", f"step_{step:07d}_utterance_{k}.png")
            log_mel = plotted.features[k][:, :bands] * data.std[:bands] + data.mean[:bands]
            paths[f"attention/utterance_{k}"] = plot_alignment_over_spectrogram(
                log_mel, alignment[: len(labels)], frames_per_step, labels, path, title=title
            )
        return paths

    def result_fields(self, data) -> dict[str, Any]:
        """The composed utterances' fingerprint and the utterance count of each split."""
        return {
            "data_fingerprint": data.fingerprint,
            "utterances": {name: len(split) for name, split in data.splits.items()},
        }

    def recorded_model_config(self) -> dict[str, Any]:
        """config.model reduced to the keys the speech model reads (default_speech_model_config's), the
        attention as attention_settings gives it (only with an attentive decoder)."""
        defaults = default_speech_model_config()
        model = self.config.model
        if model.get("decoder", defaults.decoder) not in ATTENTIVE_DECODERS:
            del defaults["attention"]
        recorded = {}
        for key in defaults:
            value = model[key] if key in model else defaults[key]
            recorded[key] = value.to_dict() if isinstance(value, ml_collections.ConfigDict) else value
        if "attention" in recorded:
            recorded["attention"] = attention_settings(model.attention)
        return recorded


class SpeechEvaluator(Evaluator):
    """Teacher-forced loss, then decoding of every utterance of a split (module docstring)."""

    def __init__(self, task: SpeechTask, model, data: speech_data.SpeechData, mesh, evaluation: Mapping[str, Any]):
        self.task, self.model, self.data, self.mesh = task, model, data, mesh
        self.batch_size = int(evaluation.get("batch_size", task.config.train.batch_size))
        self.frame_multiple = EVAL_FRAME_MULTIPLE * int(task.config.data.frame_multiple)
        self.median_window = bool(evaluation["median_window"])
        beam, left, right = (
            int(evaluation["beam_size"]),
            int(evaluation["window_left"]),
            int(evaluation["window_right"]),
        )
        ids = {"bos_id": speech_data.BOS_ID, "eos_id": speech_data.EOS_ID}

        def decode(params, source, mask, max_len):
            if beam > 1:
                result = beam_search(model, params, source, mask, beam_size=beam, max_len=max_len, **ids)
                return result.tokens[:, 0], result.alignments[:, 0]
            return greedy_decode(model, params, source, mask, max_len=max_len, **ids)

        self._decode = jax.jit(decode, static_argnums=3)
        self._windowed = jax.jit(
            lambda params, source, mask, max_len: windowed_greedy_decode(
                model, params, source, mask, max_len=max_len, left=left, right=right, **ids
            ),
            static_argnums=3,
        )

    def evaluate(self, state, split_name: str, keep_plots: int = 0) -> EvalResult:
        """{"loss", "ppl", "der", "utterance_accuracy", "der_train_lengths", "der_<n>", "utterance_accuracy_<n>"}
        (and the same prefixed windowed_ with eval.median_window); plot_data: SpeechPlots of `keep_plots`
        utterances spread over the split (None when 0)."""
        split = self.data.splits[split_name]
        max_len = int(split.num_digits.max()) + 2
        plotted = (
            set(np.unique(np.linspace(0, len(split) - 1, keep_plots).astype(int)).tolist()) if keep_plots else set()
        )
        hyps: dict[str, list[list[int]]] = {"": [[] for _ in range(len(split))]}
        if self.median_window:
            hyps["windowed_"] = [[] for _ in range(len(split))]
        plots = SpeechPlots([], [], [], [])
        sums = {"nll_sum": 0.0, "tokens": 0.0}
        for batch in speech_data.eval_batches(self.data, split_name, self.batch_size, self.frame_multiple):
            sharded = shard_batch(self.task.step_arrays(batch), self.mesh)
            for key, value in jax.device_get(eval_step(state, sharded)).items():
                sums[key] += float(value)
            decoders = [("", self._decode)] + ([("windowed_", self._windowed)] if self.median_window else [])
            for prefix, decoder in decoders:
                tokens, weights = to_host(decoder(state.params, sharded["features"], sharded["feature_mask"], max_len))
                for row, index in enumerate(batch["index"]):
                    if index < 0:
                        continue
                    ids = strip_after_eos(tokens[row], speech_data.EOS_ID)
                    hyps[prefix][index] = [i - speech_data.DIGIT_OFFSET for i in ids]
                    if prefix == "" and index in plotted:
                        frames = int(batch["feature_mask"][row].sum())
                        steps = -(-frames // 2 ** int(self.task.config.model.reductions))
                        plots.index.append(int(index))
                        plots.features.append(split.features[index])
                        plots.hypotheses.append(hyps[prefix][index])
                        plots.alignments.append(np.asarray(weights[row, : len(ids) + 1, :steps]))
        loss = sums["nll_sum"] / max(sums["tokens"], 1.0)
        metrics = {"loss": loss, "ppl": math.exp(min(loss, 50.0))}
        references = [list(d) for d in split.digits]
        train_lengths = [int(n) for n in self.task.config.data.train_lengths]
        for prefix, hypotheses in hyps.items():
            for key, value in recognition_metrics(hypotheses, references, train_lengths).items():
                metrics[prefix + key] = value
        return EvalResult(metrics, plots if keep_plots else None)
