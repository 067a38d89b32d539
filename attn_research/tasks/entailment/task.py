"""Recognizing textual entailment on sentence pairs (SICK; Marelli et al. 2014) with the models of
Rocktäschel et al. (2016), sec. 2, and an attentive BiLSTM classifier (models.py).

p(y | premise, hypothesis) = softmax(W^s h* + b^s) over LABELS (entailment, neutral, contradiction), trained on
the mean cross-entropy of the pairs of a batch; evaluated by accuracy, per-class precision / recall / F1,
macro F1 and the confusion matrix; the attention weights of the first validation pairs are drawn as
premise x hypothesis matrices (Rocktäschel et al., Fig. 3 style) in <workdir>/attention/ and on W&B.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from attn_research.attention import attention_config, attention_settings, build_attention
from attn_research.logging.attention_plots import attention_figure
from attn_research.tasks.base import TASKS, EvalResult, Evaluator, LossOutput, Task
from attn_research.tasks.entailment import data as pairs
from attn_research.tasks.entailment.metrics import classification_metrics
from attn_research.tasks.entailment.models import ARCHITECTURES, build_pair_model
from attn_research.training.mesh import shard_batch, to_host
from attn_research.training.state import eval_variables
from attn_research.validation import check_choice

Array = jax.Array


def default_model_config() -> ml_collections.ConfigDict:
    """config.model of the entailment task: architecture (models.ARCHITECTURES), embed_dim, hidden (k),
    dropout, shared (one LSTM for both sentences), exact_match (add a learned embedding of "this word occurs in
    the other sentence" to every word embedding: models.exact_match), attention (the catalogue's config;
    additive = eqs. 7-8)."""
    return ml_collections.ConfigDict(
        {
            "architecture": "word_by_word",
            "embed_dim": 100,
            "hidden": 100,
            "dropout": 0.1,
            "shared": False,
            "exact_match": False,
            "attention": attention_config("additive", dim=100),
        }
    )


class PlotExample(NamedTuple):
    """One validation pair's attention to draw: weights [rows, columns] (trimmed to the words), the column
    tokens (premise words; the packed pair for the classifier), the row tokens (hypothesis words, or one
    row name), the gold and predicted class names."""

    weights: np.ndarray
    columns: list[str]
    rows: list[str]
    gold: str
    predicted: str


class EntailmentEvaluator(Evaluator):
    """Evaluates splits of PairData with one model (its prediction function compiled once per batch shape)."""

    def __init__(self, task: EntailmentTask, model, data: pairs.PairData, mesh, *, batch_size: int):
        self.task, self.data, self.mesh, self.batch_size = task, data, mesh, batch_size
        self._predict = jax.jit(
            lambda variables, arrays: model.apply(variables, *task.model_inputs(arrays), train=False)
        )

    def evaluate(self, state, split_name: str, keep_plots: int = 0) -> EvalResult:
        """Metrics over the whole split (loss: mean cross-entropy; accuracy, macro_f1, per-class precision /
        recall / F1, confusion counts: metrics.classification_metrics); plot_data: [PlotExample] of the first
        `keep_plots` pairs (empty for a model without attention)."""
        split = self.data.splits[split_name]
        variables = eval_variables(state)
        predictions = np.zeros(len(split), np.int64)
        nll_sum, plots = 0.0, []
        pad_multiple = self.task.config.data.pad_multiple
        for batch in pairs.make_pair_batches(split, self.batch_size, shuffle=False, pad_multiple=pad_multiple):
            out = to_host(self._predict(variables, shard_batch(self.task.step_arrays(batch), self.mesh)))
            logits = np.asarray(out.logits, np.float64)
            log_probs = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
            for row, index in enumerate(batch["index"]):
                if index < 0:
                    continue
                predictions[index] = int(np.argmax(logits[row]))
                nll_sum -= log_probs[row, split.labels[index]]
                if index < keep_plots and out.attention is not None:
                    plots.append(
                        self._plot_example(split, int(index), np.asarray(out.attention[row]), predictions[index])
                    )
        metrics = {"loss": nll_sum / max(len(split), 1)}
        metrics.update(classification_metrics(split.labels, predictions, self.data.labels))
        return EvalResult(metrics, plots)

    def _plot_example(self, split: pairs.PairSplit, index: int, weights: np.ndarray, predicted: int) -> PlotExample:
        premise, hypothesis = split.premise_tokens[index], split.hypothesis_tokens[index]
        if self.task.config.model.architecture == "attentive_classifier":
            columns, rows = [*premise, self.data.vocab.eos_token, *hypothesis], ["pooling"]
        elif weights.shape[0] == 1:  # the final hypothesis state attends once
            columns, rows = premise, ["h_N"]
        else:
            columns, rows = premise, hypothesis
        labels = self.data.labels
        return PlotExample(
            weights[: len(rows), : len(columns)], columns, rows, labels[split.labels[index]], labels[predicted]
        )


@TASKS.register(
    "entailment",
    equation="p(y | premise, hypothesis) = softmax(W^s h* + b^s); loss -log p(y | pair)",
    source="Rocktäschel et al. 2016, sec. 2; Marelli et al. 2014 (SICK)",
)
class EntailmentTask(Task):
    """Sentence-pair classification. Reads config.data (data.default_data_config), config.model
    (default_model_config), config.eval.batch_size and num_heatmaps.

    Step arrays (data.STEP_ARRAYS): premise [batch, prem_len] int32, premise_mask bool, hypothesis
    [batch, hyp_len] int32, hypothesis_mask bool, label [batch] int32, example_mask [batch] bool (False: a
    padding row, which counts nowhere). Loss metrics (sums over a batch): nll_sum, correct, examples; signals:
    log_likelihood [batch] (log p(y | pair), 0 for padding rows).
    """

    name = "entailment"

    @classmethod
    def default_config(cls) -> ml_collections.ConfigDict:
        """config.data and config.model of this task, with defaults."""
        return ml_collections.ConfigDict({"data": pairs.default_data_config(), "model": default_model_config()})

    @classmethod
    def check_config(cls, config) -> None:
        """Raises ValueError (one line): data (data.check_data_config), model.architecture, sizes >= 1,
        dropout in [0, 1), and the attention config (build_attention: unknown score, normalizer, ...)."""
        pairs.check_data_config(config.data)
        model = config.model
        check_choice("entailment model (model.architecture)", model.architecture, ARCHITECTURES)
        for key in ("embed_dim", "hidden"):
            if model[key] < 1:
                raise ValueError(f"model.{key} must be >= 1, got {model[key]}")
        if not 0.0 <= model.dropout < 1.0:
            raise ValueError(f"model.dropout must be in [0, 1), got {model.dropout}")
        if model.architecture != "conditional":
            build_attention(model.attention)

    def load_data(self) -> pairs.PairData:
        return pairs.load_pair_data(self.config.data)

    def save_artifacts(self, workdir: str, data: pairs.PairData) -> None:
        pairs.save_vocabulary(workdir, data.vocab)

    def build_model(self, data: pairs.PairData):
        return build_pair_model(self.config.model, data.vocab.size, len(data.labels), data.vocab.eos_id)

    def train_batches(self, data, batch_size: int, seed: int, epoch: int, fixed_shape: bool) -> list[dict]:
        return pairs.make_pair_batches(
            data.splits["train"],
            batch_size,
            seed=seed,
            epoch=epoch,
            shuffle=True,
            pad_multiple=self.config.data.pad_multiple,
            fixed_shape=fixed_shape,
        )

    def step_arrays(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        return {name: batch[name] for name in pairs.STEP_ARRAYS}

    def model_inputs(self, arrays: Mapping[str, Array]) -> tuple[Array, ...]:
        return arrays["premise"], arrays["premise_mask"], arrays["hypothesis"], arrays["hypothesis_mask"]

    def _sums(self, output, arrays: Mapping[str, Array]) -> tuple[Array, dict[str, Array]]:
        weight = arrays["example_mask"]
        nll = optax.softmax_cross_entropy_with_integer_labels(output.logits.astype(jnp.float32), arrays["label"])
        nll = jnp.where(weight, nll, 0.0)
        correct = (jnp.argmax(output.logits, axis=-1) == arrays["label"]) & weight
        sums = {
            "nll_sum": jnp.sum(nll),
            "correct": jnp.sum(correct).astype(jnp.float32),
            "examples": jnp.sum(weight).astype(jnp.float32),
        }
        return nll, sums

    def loss(self, output, arrays: Mapping[str, Array]) -> LossOutput:
        """The mean cross-entropy over the batch's pairs (padding rows excluded)."""
        nll, sums = self._sums(output, arrays)
        return LossOutput(sums["nll_sum"] / jnp.maximum(sums["examples"], 1.0), sums, {"log_likelihood": -nll})

    def eval_metrics(self, output, arrays: Mapping[str, Array]) -> dict[str, Array]:
        """{"nll_sum", "correct", "examples"} over the batch (float32)."""
        return self._sums(output, arrays)[1]

    def train_log(self, sums: Mapping[str, float], count: int) -> dict[str, float]:
        """accuracy and nll (mean cross-entropy) over the pairs of the log window."""
        examples = max(sums["examples"], 1.0)
        return {"accuracy": sums["correct"] / examples, "nll": sums["nll_sum"] / examples}

    def evaluator(self, model, data, mesh) -> EntailmentEvaluator:
        batch_size = self.config.eval.get("batch_size", self.config.train.batch_size)
        return EntailmentEvaluator(self, model, data, mesh, batch_size=batch_size)

    def plots(self, workdir: str, step: int, data, result: EvalResult) -> dict[str, str]:
        """The first validation pairs' attention: attention/step_<step>_example_<i>.png, premise words across,
        hypothesis words down (one row, h_N or the pooling query, for the single-query models)."""
        paths = {}
        for i, example in enumerate(result.plot_data or []):
            title = f"pair {i}, step {step}\ngold {example.gold}\npredicted {example.predicted}"
            fig = attention_figure(example.weights, example.columns, example.rows, title)
            ax = fig.axes[0]
            ax.set_xlabel("premise" if example.rows[0] != "pooling" else "premise </s> hypothesis")
            ax.set_ylabel("hypothesis" if len(example.rows) > 1 else "")
            path = os.path.join(workdir, "attention", f"step_{step:07d}_example_{i}.png")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fig.savefig(path, format="png")
            paths[f"attention/example_{i}"] = path
        return paths

    def result_fields(self, data: pairs.PairData) -> dict[str, Any]:
        """labels (the class names in index order), the data's fingerprint (SICK.txt's, when prepared from a
        manual file) and majority_accuracy: {split: the share of the training split's most frequent class}."""
        majority = int(np.argmax(np.bincount(data.splits["train"].labels, minlength=len(data.labels))))
        return {
            "labels": list(data.labels),
            "data_fingerprint": data.fingerprint,
            "majority_accuracy": {s: float(np.mean(split.labels == majority)) for s, split in data.splits.items()},
        }

    def recorded_model_config(self) -> dict[str, Any]:
        """config.model, with attention as attention_settings records it (dropped for conditional encoding) and
        without shared for the attentive classifier (one BiLSTM)."""
        recorded = self.config.model.to_dict()
        if recorded["architecture"] == "conditional":
            recorded.pop("attention", None)
        else:
            recorded["attention"] = dict(attention_settings(self.config.model.attention))
        if recorded["architecture"] == "attentive_classifier":
            recorded.pop("shared", None)
        return recorded
