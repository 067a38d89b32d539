"""Text-to-text sequence to sequence: synthetic copy/reverse/sort, SCAN and Multi30k translation, with the
recurrent encoder-decoders (models/seq2seq.py) or the Transformer (models/transformer.py).

p(y | x) = prod_t p(y_t | y_<t, x), trained by teacher forcing on the mean token cross-entropy (label
smoothing, Szegedy et al. 2016, sec. 7; optional coverage loss, See et al. 2017, eq. 13); evaluated by
teacher-forced loss, perplexity and token accuracy, and by greedy decoding: exact match and BLEU.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections

from attn_research.attention import attention_settings
from attn_research.data import load_dataset, make_batches
from attn_research.data.config import text_data_config
from attn_research.data.preprocessing import save_preprocessing
from attn_research.logging import plot_attention
from attn_research.metrics.bleu import bleu_signature
from attn_research.models import build_model
from attn_research.models.decoders import ATTENTIVE_DECODERS
from attn_research.models.seq2seq import default_model_config
from attn_research.models.transformer import default_transformer_config
from attn_research.tasks.base import TASKS, EvalResult, LossOutput, Task
from attn_research.tasks.seq2seq.evaluation import Seq2SeqEvaluator
from attn_research.tasks.seq2seq.loss import coverage_loss, token_cross_entropy

Array = jax.Array

STEP_ARRAYS = ("source", "source_mask", "target_input", "target_output", "target_mask")


def step_arrays(batch: Mapping[str, Any]) -> dict[str, Any]:
    """The arrays of a seq2seq batch the steps read (STEP_ARRAYS; drops host-only fields such as `index`)."""
    return {name: batch[name] for name in STEP_ARRAYS}


@TASKS.register(
    "seq2seq",
    equation="p(y | x) = prod_t p(y_t | y_<t, x); loss -1/T sum_t log p(y_t | y_<t, x)",
    source="Sutskever et al. 2014; Bahdanau et al. 2015; Luong et al. 2015; Vaswani et al. 2017",
)
class Seq2SeqTask(Task):
    """The text-to-text task. Reads config.data (data/load.py), config.model (models/factory.py),
    config.train.label_smoothing and coverage_loss_weight, config.eval.batch_size, max_decode_len and
    num_heatmaps.

    Step arrays: source [batch, src_len] int32, source_mask bool, target_input [batch, tgt_len] int32 (y_0 =
    BOS, ...), target_output, target_mask bool. Training draws rngs dropout, teacher_forcing and sampling.
    Loss metrics (sums): nll_sum, tokens, coverage_loss (when its weight > 0); signals: log_likelihood
    [batch] = -sum_t nll (log p(y | x) of each sequence), step_mask = target_mask.
    """

    name = "seq2seq"
    rng_streams = ("dropout", "teacher_forcing", "sampling")

    @classmethod
    def default_config(cls) -> ml_collections.ConfigDict:
        """config.data (every text data set's keys, data/config.py) and config.model of the recurrent
        encoder-decoder ('rnn', models/seq2seq.py), which base_config uses."""
        model = ml_collections.ConfigDict({"architecture": "rnn"})
        model.update(default_model_config())
        return ml_collections.ConfigDict({"data": text_data_config(), "model": model})

    @classmethod
    def check_config(cls, config) -> None:
        """config_validation.check_seq2seq: data and model names and values."""
        from attn_research.config_validation import check_seq2seq  # pylint: disable=import-outside-toplevel

        check_seq2seq(config)

    def load_data(self):
        return load_dataset(self.config.data)

    def save_artifacts(self, workdir: str, data) -> None:
        save_preprocessing(workdir, data, self.config.data)  # the run folder translates on its own (evaluate)

    def build_model(self, data):
        return build_model(self.config.model, data.source_vocab.size, data.target_vocab.size)

    def train_batches(self, data, batch_size: int, seed: int, epoch: int, fixed_shape: bool) -> list[dict]:
        train = self.config.train
        return make_batches(
            data.splits["train"],
            batch_size,
            seed=seed,
            epoch=epoch,
            shuffle=True,
            fixed_shape=fixed_shape,
            padding=train.get("padding", "multiple"),
            buckets=train.get("buckets", 6),
        )

    def step_arrays(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        return step_arrays(batch)

    def model_inputs(self, arrays: Mapping[str, Array]) -> tuple[Array, ...]:
        return arrays["source"], arrays["source_mask"], arrays["target_input"]

    def loss(self, output, arrays: Mapping[str, Array]) -> LossOutput:
        """Mean token loss (label smoothing train.label_smoothing) + train.coverage_loss_weight lambda times the
        mean coverage loss per target token (See et al. 2017, eq. 13; ValueError for a model without
        alignments)."""
        mask = arrays["target_mask"]
        tokens = jnp.maximum(jnp.sum(mask), 1).astype(jnp.float32)
        smoothing = float(self.config.train.get("label_smoothing", 0.0))
        loss, nll = token_cross_entropy(output.logits, arrays["target_output"], mask, smoothing)
        total, metrics = jnp.sum(loss) / tokens, {"nll_sum": jnp.sum(nll), "tokens": tokens}
        weight = float(self.config.train.get("coverage_loss_weight", 0.0))
        if weight > 0:
            if output.alignments is None:
                raise ValueError("coverage_loss_weight > 0 needs a model with attention alignments")
            metrics["coverage_loss"] = jnp.sum(coverage_loss(output.alignments, mask)) / tokens
            total = total + weight * metrics["coverage_loss"]
        return LossOutput(total, metrics, {"log_likelihood": -jnp.sum(nll, axis=-1), "step_mask": mask})

    def eval_metrics(self, output, arrays: Mapping[str, Array]) -> dict[str, Array]:
        """{"nll_sum", "tokens", "correct_tokens"} summed over the batch (float32)."""
        _, nll = token_cross_entropy(output.logits, arrays["target_output"], arrays["target_mask"])
        correct = (jnp.argmax(output.logits, -1) == arrays["target_output"]) & arrays["target_mask"]
        return {
            "nll_sum": jnp.sum(nll),
            "tokens": jnp.sum(arrays["target_mask"]).astype(jnp.float32),
            "correct_tokens": jnp.sum(correct).astype(jnp.float32),
        }

    def train_log(self, sums: Mapping[str, float], count: int) -> dict[str, float]:
        """ppl = exp(nll per token) over the window; the other metrics (coverage_loss, a training term's
        mean_reward) as means per step."""
        logged = {"ppl": float(math.exp(min(sums["nll_sum"] / sums["tokens"], 50.0)))}
        for key, value in sums.items():
            if key not in ("loss", "grad_norm", "nll_sum", "tokens"):
                logged[key] = value / count
        return logged

    def evaluator(self, model, data, mesh) -> Seq2SeqEvaluator:
        return Seq2SeqEvaluator(
            self,
            model,
            data,
            mesh,
            batch_size=self.config.eval.get("batch_size", self.config.train.batch_size),
            max_decode_len=self.config.eval.max_decode_len,
        )

    def plots(self, workdir: str, step: int, data, result: EvalResult) -> dict[str, str]:
        """The first validation examples' greedy alignment heatmaps: attention/step_<step>_example_<i>.png."""
        split = data.splits["validation"]
        decoded = result.plot_data
        paths = {}
        for i, weights in enumerate(decoded.alignments):
            target_tokens = [data.target_vocab.tokens[t] for t in decoded.hypothesis_ids[i]]
            if weights.shape[0] > len(target_tokens):  # the hypothesis ended with eos within max_decode_len
                target_tokens.append("</s>")
            path = os.path.join(workdir, "attention", f"step_{step:07d}_example_{i}.png")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            title = f"validation example {i}, step {step}"
            plot_attention(weights, list(split.source_tokens[i]), target_tokens, path, title=title)
            paths[f"attention/example_{i}"] = path
        return paths

    def result_fields(self, data) -> dict[str, Any]:
        """The sacreBLEU signature of every bleu in the metrics (Post 2018) and the data's fingerprint (of the
        upstream files for SCAN and Multi30k; None otherwise)."""
        return {"bleu_signature": bleu_signature(), "data_fingerprint": data.fingerprint}

    def recorded_model_config(self) -> dict[str, Any]:
        """config.model reduced to the keys its architecture reads, a missing one with the default the model
        used: the Transformer's (models/transformer.py) or the recurrent model's (models/seq2seq.py), whose
        attention counts only with an attentive decoder and is recorded as attention_settings gives it."""
        model = self.config.model
        architecture = model.get("architecture", "rnn")
        defaults = default_transformer_config() if architecture == "transformer" else default_model_config()
        defaults.architecture = architecture
        if architecture != "transformer" and model.get("decoder", defaults.decoder) not in ATTENTIVE_DECODERS:
            del defaults["attention"]
        recorded = {}
        for key in defaults:  # the config's value, else the default the model read
            value = model[key] if key in model else defaults[key]
            recorded[key] = value.to_dict() if isinstance(value, ml_collections.ConfigDict) else value
        if "attention" in recorded:  # the keys its family read, defaults filled in (attention/config.py)
            recorded["attention"] = attention_settings(model.attention)
        return recorded
