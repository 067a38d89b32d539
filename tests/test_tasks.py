"""The task layer: the registry lists the seq2seq task, and a task defined here, in a few lines, trains with the
generic trainer (train_and_evaluate) and learns, so a new task needs no edit in training/.

The toy task: is the sum of a random sequence (variable length, padded) positive? An attention from the
catalogue pools the sequence's annotations with one learned query; a linear layer classifies the context
vector. The mean of the real positions decides the label, so a pooling attention that spreads its weight
over them (and none on padding) solves it; chance is 50%.
"""

from __future__ import annotations

import json
import os

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from attn_research.attention import attention_config, build_attention
from attn_research.attention.hard import ReinforceSettings
from attn_research.config_defaults import base_config
from attn_research.tasks import TASKS, EvalResult, Evaluator, LossOutput, Task, build_task, recorded_config
from attn_research.training.loop import train_and_evaluate
from attn_research.training.mesh import shard_batch
from attn_research.training.state import create_train_state
from attn_research.training.steps import eval_step, train_step

MAX_LEN = 12


class AttentionPooler(nn.Module):
    """x [batch, len] float -> logits [batch, 2]: annotations W x_j, one learned query, the configured
    attention's context vector, a linear classifier."""

    config: ml_collections.FrozenConfigDict  # config.model (its attention: config.model.attention)

    @nn.compact
    def __call__(self, x, mask, *, train: bool):
        annotations = nn.Dense(16, name="annotate")(x[..., None])  # [batch, len, 16]
        query = self.param("query", nn.initializers.normal(1.0), (1, 1, 16))
        query = jnp.broadcast_to(query, (x.shape[0], 1, 16))
        attention = build_attention(self.config.attention)
        out = attention(query, annotations, annotations, mask, train=train)
        return nn.Dense(2, name="classify")(out.context[:, 0])


def _split(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    lengths = rng.integers(2, MAX_LEN + 1, n)
    mask = np.arange(MAX_LEN)[None, :] < lengths[:, None]
    x = np.where(mask, rng.normal(size=(n, MAX_LEN)), 0.0).astype(np.float32)
    return {"x": x, "mask": mask, "label": (x.sum(-1) > 0).astype(np.int32)}


class _Accuracy(Evaluator):
    def __init__(self, task, data, mesh):
        self.task, self.data, self.mesh = task, data, mesh

    def evaluate(self, state, split_name, keep_plots=0):
        split = self.data[split_name]
        sums = {"nll_sum": 0.0, "correct": 0.0, "count": 0.0}
        for start in range(0, len(split["label"]), 64):
            arrays = {name: array[start : start + 64] for name, array in split.items()}
            for key, value in jax.device_get(eval_step(state, shard_batch(arrays, self.mesh))).items():
                sums[key] += float(value)
        return EvalResult({"loss": sums["nll_sum"] / sums["count"], "accuracy": sums["correct"] / sums["count"]})


@TASKS.register("test_sum_sign", equation="y = [sum_j x_j > 0]", source="tests/test_tasks.py")
class SumSignTask(Task):
    name = "test_sum_sign"
    rng_streams = ("dropout", "sampling")  # sampling: a stochastic (hard) attention's draws

    @classmethod
    def default_config(cls):
        return ml_collections.ConfigDict({"data": {"num_train": 4096}})

    def load_data(self):
        rng = np.random.default_rng(0)
        return {
            "train": _split(rng, self.config.data.num_train),
            "validation": _split(rng, 256),
            "test": _split(rng, 512),
        }

    def build_model(self, data):
        return AttentionPooler(self.config.model)

    def train_batches(self, data, batch_size, seed, epoch, fixed_shape):
        order = np.random.default_rng([seed, epoch]).permutation(len(data["train"]["label"]))
        starts = range(0, len(order) - batch_size + 1, batch_size)
        return [{name: array[order[s : s + batch_size]] for name, array in data["train"].items()} for s in starts]

    def step_arrays(self, batch):
        return dict(batch)

    def model_inputs(self, arrays):
        return arrays["x"], arrays["mask"]

    def loss(self, output, arrays):
        nll = optax.softmax_cross_entropy_with_integer_labels(output, arrays["label"])
        correct = jnp.sum(jnp.argmax(output, -1) == arrays["label"]).astype(jnp.float32)
        signals = {"log_likelihood": -nll, "step_mask": jnp.ones((nll.shape[0], 1), bool)}
        return LossOutput(jnp.mean(nll), {"correct": correct, "count": jnp.float32(nll.shape[0])}, signals)

    def eval_metrics(self, output, arrays):
        nll = optax.softmax_cross_entropy_with_integer_labels(output, arrays["label"])
        correct = jnp.sum(jnp.argmax(output, -1) == arrays["label"]).astype(jnp.float32)
        return {"nll_sum": jnp.sum(nll), "correct": correct, "count": jnp.float32(nll.shape[0])}

    def train_log(self, sums, count):
        return {"accuracy": sums["correct"] / sums["count"]}

    def evaluator(self, model, data, mesh):
        return _Accuracy(self, data, mesh)


def _toy_config(tmp_path, **attention):
    config = base_config()
    config.task = "test_sum_sign"
    config.experiment, config.name = "test", "sum_sign"
    config.data = SumSignTask.default_config().data
    config.model = ml_collections.ConfigDict({"attention": attention_config(dim=16, **attention)})
    config.train.update(dict(batch_size=32, num_steps=160, learning_rate=1e-2, log_every_steps=40, eval_every_steps=80))
    config.wandb.update(dict(mode="disabled", dir=str(tmp_path)))
    return config


def test_the_registry_lists_the_seq2seq_task_and_names_the_valid_ones():
    assert "seq2seq" in TASKS.names()
    assert type(build_task(base_config())).__name__ == "Seq2SeqTask"  # config.task's default
    config = base_config()
    config.task = "seq2seqq"
    with pytest.raises(ValueError, match="unknown task 'seq2seqq'; valid choices: .*seq2seq"):
        build_task(config)


@pytest.mark.parametrize("score", ["additive"])
def test_a_task_defined_in_a_test_trains_with_the_generic_trainer_and_learns(tmp_path, score):
    config = _toy_config(tmp_path, score=score)
    results = train_and_evaluate(config, str(tmp_path / "work"))
    assert results["metrics"]["test"]["accuracy"] >= 0.85, results["metrics"]  # chance: about 0.5
    assert results["config"]["task"] == "test_sum_sign" and results["best_step"] in (80, 160)
    lines = [json.loads(line) for line in open(os.path.join(tmp_path, "work", "metrics.jsonl"))]
    logged = [line for line in lines if "train/accuracy" in line]
    assert len(logged) == 4 and all(np.isfinite(line["train/loss"]) for line in logged)
    assert logged[-1]["train/accuracy"] > logged[0]["train/accuracy"]


def test_results_record_only_the_model_keys_the_model_read():
    config = base_config()
    rnn = recorded_config(config)["model"]
    assert rnn["decoder"] == "bahdanau" and rnn["attention"]["score"] == "additive"
    assert "d_model" not in rnn and "heads" not in rnn["attention"]  # factored attention reads no heads
    config.model.architecture = "transformer"
    transformer = recorded_config(config)["model"]
    assert "decoder" not in transformer and "attention" not in transformer and "bridge" not in transformer
    assert transformer["d_model"] == 512 and transformer["norm"] == "post"  # defaults the Transformer read
    config.model.architecture, config.model.decoder = "rnn", "none_state"
    assert "attention" not in recorded_config(config)["model"]  # no attention read without an attentive decoder


def test_a_training_term_reaches_a_new_task_through_what_its_attention_sows(tmp_path):
    """The hard attention's REINFORCE term (Xu et al. 2015, eq. 12) joins the toy task's loss with no line
    about it in the task or the trainer: the reward is the task's log_likelihood, the baseline moves."""
    config = _toy_config(tmp_path, family="hard", estimator="reinforce", entropy_weight=0.01)
    task = build_task(config)
    data = task.load_data()
    batch = task.train_batches(data, 32, seed=0, epoch=0, fixed_shape=False)[0]
    state = create_train_state(task, task.build_model(data), optax.sgd(0.1), batch, seed=0)
    assert state.terms == (("reinforce", ReinforceSettings(0.01, 0.9)),)
    state, metrics = train_step(state, task.step_arrays(batch))
    # the loss stays the task's mean NLL (the surrogate adds its gradient only); reward = mean log p(y | x)
    np.testing.assert_allclose(metrics["mean_reward"], -metrics["loss"], rtol=1e-5)
    np.testing.assert_allclose(state.term_state["reinforce"]["baseline"], 0.1 * metrics["mean_reward"], rtol=1e-5)
