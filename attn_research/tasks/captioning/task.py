"""Image captioning with visual attention on Fashion-MNIST canvases: Show, Attend and Tell (Xu et al. 2015).

p(y | image) = prod_t p(y_t | y_<t, a) with the CNN annotations a (model.py), trained by teacher forcing on
    L_d = (sum_t -log p(y_t | ..) + lambda sum_i (1 - sum_t alpha_ti)^2) / tokens     (eq. 14, per batch)
(the doubly stochastic term only for context 'attention'; lambda = model.doubly_stochastic_weight); hard attention
adds the REINFORCE term (attention/hard.py, found through what it sows; reward log p(y | s, a)) or trains by
Gumbel straight-through. Evaluated by teacher-forced loss, perplexity and token accuracy, and by greedy decoding
(hard attention: the argmax region): exact match, BLEU-1..4 (sacrebleu), attention localization (metrics.py);
the test split also reports the same metrics on test_long (longer captions), suffixed "_long".
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

from attn_research.data import tfds_io
from attn_research.data.builders.fashion_mnist import FashionMnist
from attn_research.decoding.greedy import greedy_decode
from attn_research.tasks.base import TASKS, EvalResult, Evaluator, LossOutput, Task
from attn_research.tasks.captioning import data as canvases
from attn_research.tasks.captioning.metrics import (
    bleu_scores,
    bleu_signature,
    doubly_stochastic_penalty,
    localization_sums,
)
from attn_research.tasks.captioning.model import (
    CaptionModel,
    check_model_config,
    default_model_config,
    grid_shape,
    recorded_keys,
)
from attn_research.tasks.captioning.plots import plot_caption_attention
from attn_research.tasks.seq2seq.loss import token_cross_entropy
from attn_research.training.mesh import shard_batch, to_host
from attn_research.training.steps import eval_step

Array = jax.Array


class PlotExample(NamedTuple):
    """One validation canvas to draw: image uint8 [H, W, 1], weights [words, L] (the greedy steps' maps, EOS
    excluded), words (generated), boxes [items, 4] (gold), gold caption text."""

    image: np.ndarray
    weights: np.ndarray
    words: list[str]
    boxes: np.ndarray
    gold: str


@TASKS.register(
    "captioning",
    equation="p(y | a) = prod_t p(y_t | y_<t, z_t), z_t = beta_t sum_i alpha_ti a_i; "
    "loss sum_t -log p + lambda sum_i (1 - sum_t alpha_ti)^2",
    source="Xu et al. 2015, sec. 3-4, eqs. 1-7, 12, 14",
)
class CaptioningTask(Task):
    """Reads config.data (data.default_data_config), config.model (model.py), config.eval.batch_size and
    num_heatmaps. Step arrays: images uint8 [batch, H, W, 1], target_input, target_output int32 [batch, steps],
    target_mask bool. Training draws rngs dropout and sampling. Loss metrics (sums): nll_sum, tokens,
    doubly_stochastic (per example, with lambda > 0); signals: log_likelihood [batch], step_mask = target_mask."""

    name = "captioning"
    rng_streams = ("dropout", "sampling")

    @classmethod
    def default_config(cls) -> ml_collections.ConfigDict:
        return ml_collections.ConfigDict({"data": canvases.default_data_config(), "model": default_model_config()})

    @classmethod
    def check_config(cls, config) -> None:
        """data (data.check_data_config) and model (model.check_model_config) errors, one line each."""
        canvases.check_data_config(config.data)
        check_model_config(config.model, int(config.data.height), int(config.data.width))

    def load_data(self) -> canvases.CaptionData:
        return canvases.load_caption_data(self.config.data)

    def build_model(self, data) -> CaptionModel:
        return CaptionModel(self.config.model, len(data.words))

    def train_batches(self, data, batch_size: int, seed: int, epoch: int, fixed_shape: bool) -> list[dict]:
        del fixed_shape  # every batch is full and of one shape
        return canvases.train_batches(data, batch_size, seed, epoch)

    def step_arrays(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        return {name: batch[name] for name in canvases.STEP_ARRAYS}

    def model_inputs(self, arrays: Mapping[str, Array]) -> tuple[Array, ...]:
        return arrays["images"], arrays["target_input"]

    def loss(self, output, arrays: Mapping[str, Array]) -> LossOutput:
        """(sum of token NLLs + lambda * sum of the examples' doubly stochastic penalties) / tokens."""
        mask = arrays["target_mask"]
        tokens = jnp.maximum(jnp.sum(mask), 1).astype(jnp.float32)
        _, nll = token_cross_entropy(output.logits, arrays["target_output"], mask)
        total, metrics = jnp.sum(nll), {"nll_sum": jnp.sum(nll), "tokens": tokens}
        weight = float(self.config.model.doubly_stochastic_weight)
        if weight > 0 and self.config.model.context == "attention":
            penalty = jnp.where(jnp.any(mask, axis=-1), doubly_stochastic_penalty(output.alignments, mask), 0.0)
            metrics["doubly_stochastic"] = jnp.sum(penalty) / jnp.maximum(jnp.sum(jnp.any(mask, -1)), 1)
            total = total + weight * jnp.sum(penalty)
        return LossOutput(total / tokens, metrics, {"log_likelihood": -jnp.sum(nll, axis=-1), "step_mask": mask})

    def eval_metrics(self, output, arrays: Mapping[str, Array]) -> dict[str, Array]:
        """{"nll_sum", "tokens", "correct_tokens"} over the batch's counted steps (float32)."""
        mask = arrays["target_mask"]
        _, nll = token_cross_entropy(output.logits, arrays["target_output"], mask)
        correct = (jnp.argmax(output.logits, -1) == arrays["target_output"]) & mask
        return {
            "nll_sum": jnp.sum(nll),
            "tokens": jnp.sum(mask).astype(jnp.float32),
            "correct_tokens": jnp.sum(correct).astype(jnp.float32),
        }

    def train_log(self, sums: Mapping[str, float], count: int) -> dict[str, float]:
        """ppl over the window; the other metrics (doubly_stochastic, mean_reward) as means per step."""
        logged = {"ppl": float(math.exp(min(sums["nll_sum"] / max(sums["tokens"], 1.0), 50.0)))}
        for key, value in sums.items():
            if key not in ("loss", "grad_norm", "nll_sum", "tokens"):
                logged[key] = value / count
        return logged

    def evaluator(self, model, data, mesh) -> CaptionEvaluator:
        return CaptionEvaluator(
            self, model, data, mesh, batch_size=self.config.eval.get("batch_size", self.config.train.batch_size)
        )

    def plots(self, workdir: str, step: int, data, result: EvalResult) -> dict[str, str]:
        """attention/step_<step>_example_<i>.png: the first validation canvases, one panel per generated word."""
        paths = {}
        stages = len(self.config.model.encoder_channels)
        grid = grid_shape(data.height, data.width, stages)
        if self.config.model.context != "attention":
            return paths
        for i, example in enumerate(result.plot_data or []):
            path = os.path.join(workdir, "attention", f"step_{step:07d}_example_{i}.png")
            title = f"validation canvas {i}, step {step}\ngold: {example.gold}"
            paths[f"attention/example_{i}"] = plot_caption_attention(
                example.image, example.weights, example.words, grid, path, boxes=example.boxes, title=title
            )
        return paths

    def result_fields(self, data) -> dict[str, Any]:
        """The sacreBLEU signature of the BLEU scores, the fingerprint of the Fashion-MNIST files the prepared data
        came from (None if downloaded) and the canvases per split."""
        fingerprint = tfds_io.prepared_fingerprint(
            FashionMnist, None, tfds_dir=self.config.data.get("tfds_dir") or None
        )
        return {
            "bleu_signature": bleu_signature(),
            "data_fingerprint": fingerprint,
            "canvases": {name: len(split) for name, split in data.splits.items()},
        }

    def recorded_model_config(self) -> dict[str, Any]:
        return recorded_keys(self.config.model)


class CaptionEvaluator(Evaluator):
    """Teacher-forced metrics (eval_step) and greedy decoding over every canvas of a split; the greedy decoder
    is compiled once per caption length."""

    def __init__(self, task: CaptioningTask, model: CaptionModel, data: canvases.CaptionData, mesh, *, batch_size):
        self.task, self.model, self.data, self.mesh, self.batch_size = task, model, data, mesh, batch_size
        self.grid = grid_shape(data.height, data.width, len(task.config.model.encoder_channels))
        self.attends = task.config.model.context == "attention"
        self._decoders = {}

    def _decoder(self, max_len: int):
        if max_len not in self._decoders:
            model = self.model
            self._decoders[max_len] = jax.jit(
                lambda params, images, mask: greedy_decode(
                    model, params, images, mask, max_len=max_len, bos_id=canvases.BOS_ID, eos_id=canvases.EOS_ID
                )
            )
        return self._decoders[max_len]

    def evaluate(self, state, split_name: str, keep_plots: int = 0) -> EvalResult:
        """metrics of the split (split_metrics); for "test", also test_long's, each name suffixed "_long";
        plot_data: PlotExample of the first `keep_plots` canvases."""
        metrics, plots = self.split_metrics(state, split_name, keep_plots)
        if split_name == "test" and "test_long" in self.data.splits:
            long_metrics, _ = self.split_metrics(state, "test_long", 0)
            metrics.update({f"{key}_long": value for key, value in long_metrics.items()})
        return EvalResult(metrics, plots)

    def split_metrics(self, state, split_name: str, keep_plots: int = 0) -> tuple[dict[str, float], list]:
        """{"loss" (NLL per token), "ppl", "token_accuracy" (teacher-forced), "exact_match" (greedy caption equal to
        the gold one), "bleu1".."bleu4", and with attention "localization_accuracy", "localization_mass"}."""
        split = self.data.splits[split_name]
        steps = split.target_output.shape[1]
        decode = self._decoder(steps + 1)  # room for one word too many
        regions = self.grid[0] * self.grid[1]
        sums = {"nll_sum": 0.0, "tokens": 0.0, "correct_tokens": 0.0}
        local = {"localization_hits": 0.0, "localization_mass": 0.0, "localized_words": 0.0}
        hypotheses, exact, plots, start = [], 0, [], 0
        for batch, count in canvases.eval_batches(split, self.batch_size):
            sharded = shard_batch(self.task.step_arrays(batch), self.mesh)
            for key, value in to_host(eval_step(state, sharded)).items():
                sums[key] += float(value)
            mask = jnp.ones((self.batch_size, regions), bool)
            tokens, weights = to_host(decode(state.params, sharded["images"], mask))
            tokens, weights = np.asarray(tokens[:count]), np.asarray(weights[:count])
            index = np.arange(start, start + count)
            lengths = np.array([_length(row) for row in tokens])
            for row, i in zip(tokens, index):
                text = canvases.caption_text(row)
                hypotheses.append(text)
                gold = split.target_output[i]
                exact += int(np.array_equal(row[: _length(row) + 1], gold[: int(split.num_items[i]) + 1]))
            if self.attends:
                found = localization_sums(
                    weights, split.boxes[index], split.num_items[index], lengths, self.grid, *split.images.shape[1:3]
                )
                for key, value in found.items():
                    local[key] += value
            for row, i in zip(range(count), index):
                if i < keep_plots:
                    words = canvases.caption_text(tokens[row]).split()
                    plots.append(
                        PlotExample(
                            split.images[i],
                            weights[row, : len(words)],
                            words,
                            split.boxes[i, : int(split.num_items[i])],
                            canvases.caption_text(split.target_output[i]),
                        )
                    )
            start += count
        loss = sums["nll_sum"] / max(sums["tokens"], 1.0)
        metrics = {
            "loss": loss,
            "ppl": math.exp(min(loss, 50.0)),
            "token_accuracy": sums["correct_tokens"] / max(sums["tokens"], 1.0),
            "exact_match": exact / max(len(split), 1),
            **bleu_scores(hypotheses, split.references()),
        }
        if self.attends:
            words = max(local["localized_words"], 1.0)
            metrics["localization_accuracy"] = local["localization_hits"] / words
            metrics["localization_mass"] = local["localization_mass"] / words
        return metrics, plots


def _length(tokens: np.ndarray) -> int:
    """The generated words before the first EOS (all of them without one)."""
    hits = np.flatnonzero(np.asarray(tokens) == canvases.EOS_ID)
    return int(hits[0]) if len(hits) else len(tokens)
