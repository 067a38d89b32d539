"""The task interface: what training/ asks of a task, so that it runs any task without knowing which.

A task (one folder under attn_research/tasks/, registered with @TASKS.register where it is defined) owns:
its default config sections, its data, its model, the batches of an epoch, the arrays a step reads, its loss
and metrics (computed inside the differentiated function), its evaluation (teacher-forced metrics, decoding
or prediction, task metrics such as BLEU), its plots and the extra fields of its results JSON, and which
model config keys its model read. config.task names it (build_task).

The trainer calls, in this order: load_data, save_artifacts, build_model, train_batches(seed, epoch),
step_arrays, model_inputs + loss (train step) / eval_metrics (eval step), evaluator(...).evaluate, plots,
train_log, result_fields, recorded_model_config. A task instance is static in the jitted steps (it sits
in TrainState.task): it hashes and compares by its class and config.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import ml_collections

from attn_research.registry import Registry

TASKS = Registry("task")
DEFAULT_TASK = "seq2seq"

Array = jax.Array


class LossOutput(NamedTuple):
    """A task's loss on one batch, inside the differentiated function.

    loss:    the scalar minimized (e.g. the mean token cross-entropy), float32.
    metrics: float32 scalars, summed by the loop over the steps of a log window (train_log turns the sums into
             the logged values); "loss" and "grad_norm" are the trainer's own names.
    signals: what training terms (training/terms.py) may read, e.g. "log_likelihood" [batch] (log p(y | x) of
             each example, the REINFORCE reward) and "step_mask" [batch, steps] bool (the output steps that
             count).
    """

    loss: Array
    metrics: dict[str, Array]
    signals: dict[str, Array]


class EvalResult(NamedTuple):
    """A split's evaluation: metrics (floats, logged as validation/<name> and recorded in the results JSON)
    and plot_data, whatever the task's plots read (e.g. the first examples' alignments), or None."""

    metrics: dict[str, float]
    plot_data: Any = None


class Evaluator(abc.ABC):
    """Evaluates splits of a task's data with one model (compiles its decoders once)."""

    @abc.abstractmethod
    def evaluate(self, state: Any, split_name: str, keep_plots: int = 0) -> EvalResult:
        """Metrics over the whole split; plot data for the first `keep_plots` examples."""


class Task(abc.ABC):
    """A kind of experiment. config: the whole experiment config (ml_collections), frozen on construction."""

    name: str = ""
    rng_streams: tuple[str, ...] = ("dropout",)  # the rngs the model draws in training, split from one key

    def __init__(self, config: Any):
        self.config = ml_collections.FrozenConfigDict(config)

    def __hash__(self) -> int:
        return hash((type(self), self.config))

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.config == other.config

    # ------------------------------------------------------------------------------------ config and data
    @classmethod
    @abc.abstractmethod
    def default_config(cls) -> ml_collections.ConfigDict:
        """The config sections this task reads that base_config does not (e.g. data, model), with defaults."""

    @classmethod
    def check_config(cls, config: Any) -> None:
        """Raises ValueError (one line) for a mistake in the task's config sections that can be seen before
        any work (config_validation.validate_config calls it). Default: no check."""
        return None

    @abc.abstractmethod
    def load_data(self) -> Any:
        """The data of config.data, with splits 'train', 'validation', 'test' (the task's own type)."""

    def save_artifacts(self, workdir: str, data: Any) -> None:
        """Writes what the run folder needs besides checkpoints (e.g. vocabularies). Default: nothing."""
        return None

    @abc.abstractmethod
    def build_model(self, data: Any) -> Any:
        """The unbound Flax module for config.model and the data (vocabulary sizes, ...)."""

    @abc.abstractmethod
    def train_batches(self, data: Any, batch_size: int, seed: int, epoch: int, fixed_shape: bool) -> list[dict]:
        """The training batches of `epoch`, a function of (seed, epoch) only (so a resumed run reads the same).
        fixed_shape: every batch of one shape (the loop stacks several per jitted call)."""

    # ------------------------------------------------------------------------ inside the jitted steps
    @abc.abstractmethod
    def step_arrays(self, batch: dict) -> dict[str, Any]:
        """The arrays of a batch a step reads, [batch, ...] each (host-only fields dropped)."""

    @abc.abstractmethod
    def model_inputs(self, arrays: Mapping[str, Array]) -> tuple[Array, ...]:
        """The model's positional inputs (model.apply(variables, *inputs, train=...)) from step_arrays."""

    @abc.abstractmethod
    def loss(self, output: Any, arrays: Mapping[str, Array]) -> LossOutput:
        """The training loss, its metrics and the training terms' signals, from the model output (train=True)."""

    @abc.abstractmethod
    def eval_metrics(self, output: Any, arrays: Mapping[str, Array]) -> dict[str, Array]:
        """Teacher-forced evaluation sums over a batch (float32 scalars) from the model output (train=False)."""

    # --------------------------------------------------------------------------- around the training
    def train_log(self, sums: Mapping[str, float], count: int) -> dict[str, float]:
        """The logged train/<name> values from the metric sums of `count` steps (without "loss", "grad_norm").
        Default: each metric's mean per step."""
        return {key: value / count for key, value in sums.items() if key not in ("loss", "grad_norm")}

    @abc.abstractmethod
    def evaluator(self, model: Any, data: Any, mesh: Any) -> Evaluator:
        """The Evaluator of this task for validation during training and the final splits."""

    def plots(self, workdir: str, step: int, data: Any, result: EvalResult) -> dict[str, str]:
        """Writes the plots of a validation result; returns {name: png path} for the writer. Default: none."""
        return {}

    def result_fields(self, data: Any) -> dict[str, Any]:
        """Extra fields of the results JSON (e.g. a BLEU signature, the data's fingerprint). Default: none."""
        return {}

    def recorded_model_config(self) -> dict[str, Any]:
        """The keys of config.model the model read, as recorded in the results JSON. Default: all of them."""
        return self.config.model.to_dict() if "model" in self.config else {}
