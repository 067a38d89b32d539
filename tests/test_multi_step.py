"""train.steps_per_call: K updates in one jitted call (steps.train_steps) match K calls of train_step; the
loop's calls end on every log / eval / checkpoint boundary, resume there, and bad K is a one-line error."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from attn_research.config_validation import ConfigError, validate_config
from attn_research.data import load_dataset, make_batches
from attn_research.models import build_model
from attn_research.tasks.seq2seq import STEP_ARRAYS
from attn_research.training.loop import _call_size, train_and_evaluate
from attn_research.training.optimizer import make_optimizer
from attn_research.training.state import create_train_state
from attn_research.training.steps import train_step, train_steps
from tests.helpers import seq2seq_task, tiny_config


def _recipe(config):
    """Dropout and teacher forcing 0.5 (SCAN's paper recipe), so that every step's RNG matters."""
    config.model.update(dict(dropout=0.2, teacher_forcing_ratio=0.5))
    config.train.update(dict(clip_norm=5.0, learning_rate=1e-2))
    return config


@pytest.mark.slow  # compiles a scan of 4 updates and 8 single ones: 33 s on 2 cores
def test_four_updates_per_call_give_the_parameters_of_one_update_per_call(tmp_path):
    config = _recipe(tiny_config(tmp_path, batch_size=1))
    config.data.update(dict(num_train=64))
    data = load_dataset(config.data)
    model = build_model(config.model, data.source_vocab.size, data.target_vocab.size)
    batches = make_batches(data.splits["train"], 1, seed=0, epoch=0, shuffle=True, fixed_shape=True)[:8]
    task = seq2seq_task(config)

    def fresh_state():
        return create_train_state(task, model, make_optimizer(config.train, 64), batches[0], seed=3)

    one = fresh_state()
    one_metrics = []
    for batch in batches:
        one, metrics = train_step(one, task.step_arrays(batch))
        one_metrics.append(metrics)
    four = fresh_state()
    four_metrics = []
    for start in (0, 4):
        stacked = {name: np.stack([b[name] for b in batches[start : start + 4]]) for name in STEP_ARRAYS}
        four, metrics = train_steps(four, stacked)
        four_metrics.append(metrics)

    assert int(four.step) == int(one.step) == 8
    start = create_train_state(task, model, make_optimizer(config.train, 64), batches[0], seed=3)
    moved = jax.tree.leaves(jax.tree.map(lambda a, b: float(np.abs(a - b).max()), one.params, start.params))
    assert max(moved) > 1e-3, "the 8 updates must move the parameters"
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6), four.params, one.params)
    for key in ("loss", "nll_sum", "tokens", "grad_norm"):  # summed over each call's 4 steps
        for call in (0, 1):
            expected = sum(float(m[key]) for m in one_metrics[4 * call : 4 * call + 4])
            assert float(four_metrics[call][key]) == pytest.approx(expected, rel=1e-5)


def test_call_size_ends_on_every_boundary():
    # cadences 8 (log) and 12 (eval): calls of 4 end at 4, 8, 12, 16, ...; the run ends at 26
    ends, step = [], 0
    while step < 26:
        step += _call_size(step, 4, 26, (8, 12, 12))
        ends.append(step)
    assert ends == [4, 8, 12, 16, 20, 24, 26]
    assert _call_size(10, 100, 1000, (12,)) == 2  # an eval cadence left to the epoch length clips the call
    assert _call_size(0, 1, 5, (3,)) == 1


class _Crash(RuntimeError):
    pass


@pytest.mark.slow  # three trainings (~80 s); test_four_updates_per_call_give_the_parameters_... runs in make test
def test_many_updates_per_call_match_one_per_call_end_to_end_and_resume_after_a_kill(tmp_path):
    def config_for(name, steps_per_call):
        config = _recipe(tiny_config(tmp_path / name, steps=26, batch_size=4))
        # one length for every example: the fixed-shape batches of K > 1 equal the per-batch shapes of K = 1
        config.data.update(dict(num_train=200, train_min_len=5, train_max_len=5, test_min_len=5, test_max_len=5))
        config.train.update(
            dict(log_every_steps=8, eval_every_steps=12, checkpoint_every_steps=8, steps_per_call=steps_per_call)
        )
        return config

    reference = train_and_evaluate(config_for("one", 1), str(tmp_path / "one" / "work"))

    def crash_at_20(step):
        if step == 20:
            raise _Crash()

    calls = []
    with pytest.raises(_Crash):
        train_and_evaluate(
            config_for("four", 4),
            str(tmp_path / "four" / "work"),
            step_callback=lambda s: (calls.append(s), crash_at_20(s)),
        )
    assert calls == [4, 8, 12, 16, 20]
    resumed_calls = []
    resumed = train_and_evaluate(
        config_for("four", 4), str(tmp_path / "four" / "work"), step_callback=resumed_calls.append
    )
    assert resumed_calls == [20, 24, 26], "the rerun starts after the checkpoint of step 16, in calls of <= 4"
    assert resumed["best_step"] == reference["best_step"]
    for split in ("validation", "test"):
        for metric, value in reference["metrics"][split].items():
            assert resumed["metrics"][split][metric] == pytest.approx(value, rel=1e-4, abs=1e-4), (split, metric)


@pytest.mark.parametrize(
    "train, message",
    [
        (dict(steps_per_call=0), "train.steps_per_call must be an integer >= 1, got 0"),
        (dict(steps_per_call=-3), "train.steps_per_call must be an integer >= 1, got -3"),
        (
            dict(steps_per_call=4, log_every_steps=50),
            "train.log_every_steps (50) must be a multiple of train.steps_per_call (4)",
        ),
        (
            dict(steps_per_call=4, log_every_steps=8, eval_every_steps=10),
            "train.eval_every_steps (10) must be a multiple of train.steps_per_call (4)",
        ),
    ],
)
def test_steps_per_call_that_would_cross_a_cadence_is_a_one_line_error(tmp_path, train, message):
    config = tiny_config(tmp_path, steps=40)
    config.train.update(dict(log_every_steps=8, eval_every_steps=0, checkpoint_every_steps=0))
    config.train.update(train)
    with pytest.raises(ConfigError) as error:
        validate_config(config)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_scan_paper_recipe_is_batch_one_and_allows_many_updates_per_call():
    import importlib.util
    import os

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs", "scan.py")
    spec = importlib.util.spec_from_file_location("scan_config", path)
    scan = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scan)
    for split in scan.SPLITS:
        ours, paper = scan.get_config(f"split={split}"), scan.get_config(f"split={split},recipe=paper")
        validate_config(paper)
        assert ours.train.batch_size == 64 and ours.train.steps_per_call == 1 and ours.name == f"{split}_top"
        assert paper.model.to_dict() == ours.model.to_dict()  # the same network, another recipe
        assert paper.name == f"{split}_top_paper"
        train = paper.train
        assert (train.batch_size, train.num_steps, train.learning_rate, train.clip_norm) == (1, 100_000, 1e-3, 5.0)
        assert paper.model.teacher_forcing_ratio == 0.5 and train.schedule == "constant"
        assert train.steps_per_call == scan.PAPER_STEPS_PER_CALL
        train.steps_per_call = 100  # the multi-step loop's override: the recipe's cadences are multiples of it
        validate_config(paper)
    assert scan.get_config("split=simple,model=bigru_attention,recipe=paper").model.teacher_forcing_ratio == 0.5
    with pytest.raises(ValueError, match="unknown SCAN recipe 'papr'; valid choices: ours, paper"):
        scan.get_config("split=simple,recipe=papr")
