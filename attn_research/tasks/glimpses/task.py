"""Hard visual attention with glimpses: the recurrent attention model (Mnih et al. 2014) on Fashion-MNIST canvases.

A model (model.py: RAM with learned or random glimpse locations; classifiers.py: the fully connected and the
convolutional baselines) classifies one item per canvas (data.py: centered, translated, cluttered). RAM trains on
the hybrid loss of sec. 3.2 (losses.py): cross-entropy, REINFORCE for the Gaussian location policy with reward
1[correct] and a learned baseline, the baseline's squared error; the other models (and RAM with random locations)
on the cross-entropy alone. Evaluated by error (%), accuracy and, for RAM, the share of glimpses on the item; the
glimpse paths of the first validation canvases are drawn in <workdir>/attention/ and on W&B.
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

from attn_research.data import tfds_io
from attn_research.data.builders.fashion_mnist import FashionMnist
from attn_research.tasks.base import TASKS, EvalResult, Evaluator, LossOutput, Task
from attn_research.tasks.glimpses import data as canvases
from attn_research.tasks.glimpses.classifiers import ConvNet, FullyConnected
from attn_research.tasks.glimpses.losses import baseline_loss, reinforce_surrogate
from attn_research.tasks.glimpses.metrics import glimpses_on_item
from attn_research.tasks.glimpses.model import (
    RecurrentAttentionModel,
    check_model_config,
    default_model_config,
    recorded_keys,
)
from attn_research.tasks.glimpses.plots import plot_glimpse_path
from attn_research.training.mesh import shard_batch, to_host
from attn_research.training.state import eval_variables

Array = jax.Array
MODELS = {"ram": RecurrentAttentionModel, "fc": FullyConnected, "conv": ConvNet}


class PlotExample(NamedTuple):
    """One validation canvas to draw: image uint8 [side, side, 1], locations [glimpses, 2], box [4], the gold and
    predicted class names."""

    image: np.ndarray
    locations: np.ndarray
    box: np.ndarray
    gold: str
    predicted: str


@TASKS.register(
    "glimpses",
    equation="x_t = rho(x, l_t); h_t = f_h(h_{t-1}, f_g(x_t, l_t)); l_{t+1} ~ N(f_l(h_t), sigma^2); "
    "loss -log p(y | h_T) - (R - b_t) log pi(l_t) + (R - b_t)^2",
    source="Mnih et al. 2014, sec. 3-4, eq. 2 and sec. 3.2",
)
class GlimpsesTask(Task):
    """Reads config.data (data.default_data_config), config.model (model.default_model_config), config.eval
    batch_size and num_heatmaps. Step arrays: images uint8 [batch, side, side, 1], labels int32 [batch],
    example_mask bool [batch]. Training draws the rng 'sampling'. Loss metrics (sums over a batch): nll_sum,
    correct, examples; with a learned policy also reinforce, baseline_loss, mean_reward (per batch)."""

    name = "glimpses"
    rng_streams = ("sampling",)

    @classmethod
    def default_config(cls) -> ml_collections.ConfigDict:
        return ml_collections.ConfigDict({"data": canvases.default_data_config(), "model": default_model_config()})

    @classmethod
    def check_config(cls, config) -> None:
        """data (data.check_data_config) and model (model.check_model_config) errors, one line each."""
        canvases.check_data_config(config.data)
        check_model_config(config.model, canvases.canvas_size(config.data))

    def load_data(self) -> canvases.GlimpseData:
        return canvases.load_glimpse_data(self.config.data)

    def build_model(self, data):
        return MODELS[self.config.model.architecture](self.config.model, len(data.classes))

    def train_batches(self, data, batch_size: int, seed: int, epoch: int, fixed_shape: bool) -> list[dict]:
        del fixed_shape  # every batch is full and of one shape
        return canvases.train_batches(data, batch_size, seed, epoch)

    def step_arrays(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        return {name: batch[name] for name in canvases.STEP_ARRAYS}

    def model_inputs(self, arrays: Mapping[str, Array]) -> tuple[Array, ...]:
        return (arrays["images"],)

    def loss(self, output, arrays: Mapping[str, Array]) -> LossOutput:
        """The mean cross-entropy, plus (learned locations) reinforce_weight x the REINFORCE surrogate and the
        baseline's squared error (losses.py); reward 1 for a correct classification."""
        mask = arrays["example_mask"]
        examples = jnp.maximum(jnp.sum(mask), 1).astype(jnp.float32)
        nll = optax.softmax_cross_entropy_with_integer_labels(output.logits, arrays["labels"])
        nll = jnp.where(mask, nll, 0.0)
        correct = (jnp.argmax(output.logits, -1) == arrays["labels"]) & mask
        metrics = {
            "nll_sum": jnp.sum(nll),
            "correct": jnp.sum(correct).astype(jnp.float32),
            "examples": jnp.sum(mask).astype(jnp.float32),
        }
        total = jnp.sum(nll) / examples
        if output.log_probs is not None:
            reward = jax.lax.stop_gradient(correct.astype(jnp.float32))
            surrogate = reinforce_surrogate(output.log_probs, reward, output.baselines, mask)
            squared = baseline_loss(output.baselines, reward, mask)
            total = total + float(self.config.model.reinforce_weight) * surrogate + squared
            metrics.update(reinforce=surrogate, baseline_loss=squared, mean_reward=jnp.sum(reward) / examples)
        return LossOutput(total, metrics, {})

    def eval_metrics(self, output, arrays: Mapping[str, Array]) -> dict[str, Array]:
        """{"nll_sum", "correct", "examples"} over the batch's counted rows (float32)."""
        metrics = self.loss(output, arrays).metrics
        return {key: metrics[key] for key in ("nll_sum", "correct", "examples")}

    def train_log(self, sums: Mapping[str, float], count: int) -> dict[str, float]:
        """accuracy and nll over the window's examples; reinforce, baseline_loss, mean_reward as means per step."""
        examples = max(sums["examples"], 1.0)
        logged = {"accuracy": sums["correct"] / examples, "nll": sums["nll_sum"] / examples}
        for key in ("reinforce", "baseline_loss", "mean_reward"):
            if key in sums:
                logged[key] = sums[key] / count
        return logged

    def evaluator(self, model, data, mesh) -> GlimpseEvaluator:
        batch_size = self.config.eval.get("batch_size", self.config.train.batch_size)
        return GlimpseEvaluator(self, model, data, mesh, batch_size=batch_size)

    def plots(self, workdir: str, step: int, data, result: EvalResult) -> dict[str, str]:
        """attention/step_<step>_example_<i>.png: the glimpse paths of the first validation canvases (RAM only)."""
        paths = {}
        model = self.config.model
        for i, example in enumerate(result.plot_data or []):
            path = os.path.join(workdir, "attention", f"step_{step:07d}_example_{i}.png")
            title = f"validation {i}, step {step}\ngold {example.gold}, predicted {example.predicted}"
            paths[f"attention/example_{i}"] = plot_glimpse_path(
                example.image,
                example.locations,
                path,
                glimpse_size=int(model.glimpse_size),
                scales=int(model.scales),
                box=example.box,
                title=title,
            )
        return paths

    def result_fields(self, data) -> dict[str, Any]:
        """The fingerprint of the Fashion-MNIST files (None if downloaded), the canvas side and canvases per split."""
        fingerprint = tfds_io.prepared_fingerprint(
            FashionMnist, None, tfds_dir=self.config.data.get("tfds_dir") or None
        )
        return {
            "data_fingerprint": fingerprint,
            "canvas_side": data.side,
            "canvases": {name: len(split) for name, split in data.splits.items()},
        }

    def recorded_model_config(self) -> dict[str, Any]:
        return recorded_keys(self.config.model)


class GlimpseEvaluator(Evaluator):
    """Predicts every canvas of a split in padded batches (the model compiled once)."""

    def __init__(self, task: GlimpsesTask, model, data: canvases.GlimpseData, mesh, *, batch_size: int):
        self.task, self.data, self.mesh, self.batch_size = task, data, mesh, batch_size
        self._predict = jax.jit(lambda variables, images: model.apply(variables, images, train=False))

    def evaluate(self, state, split_name: str, keep_plots: int = 0) -> EvalResult:
        """{"loss" (mean cross-entropy), "accuracy", "error" (1 - accuracy), for RAM "glimpses_on_item"
        (metrics.glimpses_on_item)}; plot_data: [PlotExample] of the first `keep_plots` canvases (RAM only)."""
        split = self.data.splits[split_name]
        variables = eval_variables(state)
        predictions = np.zeros(len(split), np.int64)
        nll_sum, locations, start = 0.0, [], 0
        for batch, count in canvases.eval_batches(split, self.batch_size):
            images = shard_batch({"images": batch["images"]}, self.mesh)["images"]
            out = to_host(self._predict(variables, images))
            logits = np.asarray(out.logits, np.float64)[:count]
            log_probs = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
            labels = split.labels[start : start + count]
            nll_sum -= float(np.sum(log_probs[np.arange(count), labels]))
            predictions[start : start + count] = np.argmax(logits, -1)
            if out.locations is not None:
                locations.append(np.asarray(out.locations)[:count])
            start += count
        accuracy = float(np.mean(predictions == split.labels)) if len(split) else 0.0
        metrics = {"loss": nll_sum / max(len(split), 1), "accuracy": accuracy, "error": 1.0 - accuracy}
        plots = []
        if locations:
            locations = np.concatenate(locations)
            metrics["glimpses_on_item"] = glimpses_on_item(locations, split.boxes, self.data.side)
            classes = self.data.classes
            for i in range(min(keep_plots, len(split))):
                plots.append(
                    PlotExample(
                        split.images[i],
                        locations[i],
                        split.boxes[i],
                        classes[split.labels[i]],
                        classes[predictions[i]],
                    )
                )
        return EvalResult(metrics, plots)
