"""The entailment task: its registration and config (configs/entailment.py), config errors, the loss against a
NumPy cross-entropy, the plots, and (slow) an end-to-end run that learns the synthetic pairs."""

from __future__ import annotations

import importlib.util
import os

import jax.numpy as jnp
import numpy as np
import pytest

from attn_research.config_validation import ConfigError, validate_config
from attn_research.tasks import TASKS, EvalResult, build_task
from attn_research.tasks.entailment import EntailmentTask
from attn_research.tasks.entailment.models import ARCHITECTURES, PairOutput
from attn_research.tasks.entailment.task import PlotExample

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def get_config(arg=""):
    spec = importlib.util.spec_from_file_location("entailment_config", os.path.join(REPO, "configs", "entailment.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config(arg)


def tiny_config(architecture="word_by_word", **train):
    config = get_config(f"model={architecture},data=synthetic")
    config.data.update({"num_train": 1024, "num_validation": 96, "num_test": 96, "synthetic_vocab_size": 8})
    config.model.update({"embed_dim": 32, "hidden": 32, "dropout": 0.0})
    config.model.attention.dim = 32
    config.train.update({"batch_size": 32, "num_steps": 400, "learning_rate": 5e-3, "eval_every_steps": 200})
    config.train.update(train)
    config.eval.batch_size = 96
    config.wandb.mode = "disabled"
    return config


def test_the_task_is_registered_and_every_model_config_validates():
    assert TASKS.get("entailment") is EntailmentTask
    for architecture in ARCHITECTURES:
        config = get_config(f"model={architecture}")
        validate_config(config)
        assert isinstance(build_task(config), EntailmentTask) and config.name == architecture


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("model.architecture", "word_by_wrod", "unknown entailment model"),
        ("model.attention.score", "additiv", "unknown attention score"),
        ("model.dropout", 1.0, r"model.dropout must be in \[0, 1\)"),
        ("model.hidden", 0, "model.hidden must be >= 1"),
        ("data.name", "snli", "unknown entailment data set"),
    ],
)
def test_a_bad_config_is_a_one_line_config_error(key, value, message):
    config = get_config()
    section, name = key.rsplit(".", 1)
    node = config
    for part in section.split("."):
        node = node[part]
    node[name] = value
    with pytest.raises(ConfigError, match=message) as error:
        validate_config(config)
    assert "\n" not in str(error.value)


def test_a_bad_config_argument_names_the_valid_models():
    with pytest.raises(ValueError, match="word_by_word"):
        get_config("model=wbw")


def test_loss_is_the_mean_cross_entropy_of_the_real_pairs():
    task = EntailmentTask(get_config())
    logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3], [9.0, -9.0, 0.0]], np.float32)
    arrays = {"label": np.array([0, 2, 1], np.int32), "example_mask": np.array([True, True, False])}
    result = task.loss(PairOutput(jnp.asarray(logits)), arrays)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    nll = -log_probs[[0, 1], [0, 2]]
    assert float(result.loss) == pytest.approx(nll.mean(), rel=1e-6)
    assert float(result.metrics["correct"]) == 2.0 and float(result.metrics["examples"]) == 2.0
    assert float(result.signals["log_likelihood"][2]) == 0.0  # the padding row
    logged = task.train_log({k: float(v) for k, v in result.metrics.items()}, count=1)
    assert logged["accuracy"] == 1.0 and logged["nll"] == pytest.approx(nll.mean(), rel=1e-6)


def test_plots_draw_the_premise_by_hypothesis_matrix(tmp_path):
    task = EntailmentTask(get_config())
    example = PlotExample(np.full((2, 3), 1 / 3), ["a", "man", "runs"], ["man", "runs"], "entailment", "neutral")
    paths = task.plots(str(tmp_path), 40, None, EvalResult({}, [example]))
    assert paths == {"attention/example_0": str(tmp_path / "attention" / "step_0000040_example_0.png")}
    with open(paths["attention/example_0"], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_word_by_word_attention_learns_the_synthetic_pairs(tmp_path):
    from attn_research.training.loop import train_and_evaluate  # pylint: disable=import-outside-toplevel

    results = train_and_evaluate(tiny_config(), str(tmp_path / "run"))
    majority = max(results["majority_accuracy"].values())  # about 0.35 on these splits
    assert results["metrics"]["validation"]["accuracy"] >= 0.7 and results["metrics"]["test"]["accuracy"] >= 0.6
    assert results["metrics"]["test"]["accuracy"] >= majority + 0.2
    assert os.listdir(tmp_path / "run" / "attention")
    assert results["config"]["model"]["attention"]["score"] == "additive"
