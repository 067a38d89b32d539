"""Early stopping (train.early_stopping_patience, training/loop.py): the stop rule on hand-made steps, and whole
runs whose validation losses are scripted by step, so that where training must stop is known in advance."""

from __future__ import annotations

import jax
import pytest

from attn_research.config_validation import ConfigError, validate_config
from attn_research.tasks import TASKS, EvalResult, Evaluator
from attn_research.training.loop import patience_spent, train_and_evaluate
from tests.test_tasks import SumSignTask, _toy_config

EVERY = 20  # steps between evaluations
# validation loss at each evaluation's step: best at 40, not bettered at 60 and 80, best at 100, then not again
VALIDATION_LOSS = {20: 3.0, 40: 2.0, 60: 2.5, 80: 2.2, 100: 1.0, 120: 1.5, 140: 1.2, 160: 1.1, 180: 1.3, 200: 1.4}


def test_patience_counts_evaluations_since_the_best():
    assert not patience_spent(80, 40, 0, EVERY)  # 0: never
    assert not patience_spent(80, None, 1, EVERY)  # no best yet
    assert not patience_spent(60, 40, 2, EVERY)  # one evaluation since the best
    assert patience_spent(80, 40, 2, EVERY)
    assert patience_spent(100, 40, 2, EVERY)
    assert patience_spent(60, 40, 1, EVERY)


def test_a_negative_patience_is_a_one_line_error(tmp_path):
    config = _toy_config(tmp_path)
    config.train.early_stopping_patience = -1  # a float or a string: ml_collections refuses it (an int field)
    with pytest.raises(ConfigError, match=r"train.early_stopping_patience must be >= 0, got -1"):
        validate_config(config)


class _ScriptedValidation(Evaluator):
    """The sum-sign task's evaluator with the validation loss replaced by VALIDATION_LOSS[step]."""

    def __init__(self, inner: Evaluator):
        self.inner = inner

    def evaluate(self, state, split_name, keep_plots=0):
        result = self.inner.evaluate(state, split_name, keep_plots)
        if split_name != "validation":
            return result
        return EvalResult({**result.metrics, "loss": VALIDATION_LOSS[int(jax.device_get(state.step))]})


@TASKS.register("test_scripted_validation", equation="y = [sum_j x_j > 0]", source="tests/test_early_stopping.py")
class ScriptedValidationTask(SumSignTask):
    name = "test_scripted_validation"

    def evaluator(self, model, data, mesh):
        return _ScriptedValidation(super().evaluator(model, data, mesh))


def _config(tmp_path, patience: int):
    config = _toy_config(tmp_path, score="dot")
    config.task = "test_scripted_validation"
    config.train.update(dict(num_steps=200, eval_every_steps=EVERY, log_every_steps=EVERY))
    config.train.early_stopping_patience = patience
    return config


@pytest.mark.parametrize("patience, last_step, best_step", [(0, 200, 100), (2, 80, 40), (3, 160, 100)])
def test_training_stops_after_patience_evaluations_without_a_better_one(tmp_path, patience, last_step, best_step):
    results = train_and_evaluate(_config(tmp_path, patience), str(tmp_path / "work"))
    assert (results["last_step"], results["best_step"]) == (last_step, best_step)
    assert results["metrics"]["validation"]["loss"] == VALIDATION_LOSS[best_step]  # the best checkpoint tested


def test_a_rerun_after_an_early_stop_trains_no_further_and_a_larger_patience_resumes(tmp_path):
    workdir = str(tmp_path / "work")
    train_and_evaluate(_config(tmp_path, 2), workdir)
    again = train_and_evaluate(_config(tmp_path, 2), workdir)
    assert (again["last_step"], again["best_step"]) == (80, 40)
    resumed = train_and_evaluate(_config(tmp_path, 3), workdir)  # the patience is free to change on a resume
    assert (resumed["last_step"], resumed["best_step"]) == (160, 100)
