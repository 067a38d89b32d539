"""Trustworthy runs: config-safe resume, NaN guard, best-checkpoint rule, corrupt-checkpoint fallback,
workdir lock, torn JSON records, logging without a terminal, the model summary."""

from __future__ import annotations

import glob
import json
import logging
import math
import os
import subprocess
import sys
import textwrap
import time

import jax.numpy as jnp
import numpy as np
import pytest
from flax import struct

from attn_research import jsonio
from attn_research.logging.progress import metrics_line
from attn_research.training import loop, run_config
from attn_research.training.checkpoint import CORRUPT_SUFFIX, CheckpointError, Checkpoints
from attn_research.training.model_summary import count_by_module, model_summary
from attn_research.training.workdir_lock import WorkdirLock, WorkdirLockedError
from tests.helpers import tiny_config

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@struct.dataclass
class _State:
    params: dict
    step: int = 0


def _state(value: float, shape=(3, 4)) -> _State:
    return _State(params={"dense": {"kernel": jnp.full(shape, value, jnp.float32)}})


def _tear(path: str) -> None:
    """Truncates a file to half its size, as a crash in the middle of a write would."""
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)


# --- item 2: config-safe resume --------------------------------------------------------------------------


def test_resume_refuses_a_config_that_changes_the_model_and_names_each_key(tmp_path):
    config = tiny_config(tmp_path)
    run_config.check_and_save(config, str(tmp_path))
    assert jsonio.read_json(tmp_path / "config.json")["train"]["learning_rate"] == 1e-2
    changed = tiny_config(tmp_path)
    changed.train.learning_rate = 0.05
    changed.seed = 7
    with pytest.raises(run_config.ConfigMismatchError) as error:
        run_config.check_and_save(changed, str(tmp_path))
    message = str(error.value)
    assert "\n" not in message and str(tmp_path) in message
    assert "seed 0 -> 7" in message and "train.learning_rate 0.01 -> 0.05" in message
    assert jsonio.read_json(tmp_path / "config.json")["seed"] == 0, "the saved config is kept"


def test_resume_allows_logging_eval_naming_and_a_longer_constant_schedule(tmp_path):
    run_config.check_and_save(tiny_config(tmp_path, steps=100), str(tmp_path))
    other = tiny_config(tmp_path, steps=300)  # longer, constant learning rate: the first 100 steps are the same
    other.update(dict(name="renamed", run_name="x", results_dir="elsewhere", experiment="e2"))
    other.train.update(dict(log_every_steps=7, eval_every_steps=11, checkpoint_every_steps=13, keep_checkpoints=5))
    other.eval.update(dict(max_decode_len=20, num_heatmaps=0))
    other.wandb.update(dict(project="p", mode="disabled"))
    run_config.check_and_save(other, str(tmp_path))
    assert jsonio.read_json(tmp_path / "config.json")["train"]["num_steps"] == 300, "the new config is saved"

    shorter = tiny_config(tmp_path, steps=200)
    with pytest.raises(run_config.ConfigMismatchError, match="train.num_steps 300 -> 200"):
        run_config.check_and_save(shorter, str(tmp_path))


def test_resume_allows_another_number_of_updates_per_call(tmp_path):
    run_config.check_and_save(tiny_config(tmp_path, steps=100), str(tmp_path))
    other = tiny_config(tmp_path, steps=100)
    other.train.steps_per_call = 4  # the same updates, made four to a jitted call
    run_config.check_and_save(other, str(tmp_path))
    other.train.batch_size = 3  # but a change of the updates themselves is refused
    with pytest.raises(run_config.ConfigMismatchError, match="train.batch_size"):
        run_config.check_and_save(other, str(tmp_path))


def test_a_longer_cosine_schedule_changes_every_learning_rate_and_is_refused(tmp_path):
    config = tiny_config(tmp_path, steps=100)
    config.train.schedule = "cosine"
    run_config.check_and_save(config, str(tmp_path))
    longer = tiny_config(tmp_path, steps=200)
    longer.train.schedule = "cosine"
    with pytest.raises(run_config.ConfigMismatchError, match="train.num_steps 100 -> 200"):
        run_config.check_and_save(longer, str(tmp_path))


def test_a_checkpoint_of_another_model_shape_is_a_one_line_error_naming_the_folder(tmp_path):
    checkpoints = Checkpoints(str(tmp_path))
    checkpoints.save_latest(10, _state(1.0))
    checkpoints.wait()
    with pytest.raises(CheckpointError) as error:
        Checkpoints(str(tmp_path)).restore_latest(_state(0.0, shape=(3, 5)))
    message = str(error.value)
    assert "\n" not in message and len(message) < 400
    assert os.path.join(str(tmp_path), "checkpoints") in message and "saved (3, 4), model (3, 5)" in message
    assert os.path.isdir(tmp_path / "checkpoints" / "10"), "a shape mismatch is not corruption: nothing set aside"


# --- item 3: best-checkpoint rule --------------------------------------------------------------------------


def test_a_nan_metric_never_displaces_the_best_checkpoint(tmp_path):
    checkpoints = Checkpoints(str(tmp_path), best_metric="loss", best_mode="min")
    assert checkpoints.save_if_best(1, _state(1.0), {"loss": 1.0})
    assert not checkpoints.save_if_best(2, _state(2.0), {"loss": float("nan")})
    assert not checkpoints.save_if_best(3, _state(3.0), {"loss": float("inf")})
    checkpoints.wait()
    best = checkpoints.restore_best(_state(0.0))
    assert float(best.params["dense"]["kernel"][0, 0]) == 1.0
    assert os.listdir(tmp_path / "best") == ["1"]


# --- item 6: corrupt checkpoint ------------------------------------------------------------------------------


def _data_files(step_dir) -> list[str]:
    return [p for p in glob.glob(os.path.join(step_dir, "**", "d", "*"), recursive=True) if os.path.isfile(p)]


def test_a_truncated_latest_step_is_set_aside_and_the_previous_one_restored(tmp_path):
    checkpoints = Checkpoints(str(tmp_path), keep=3)
    for step, value in ((10, 1.0), (20, 2.0)):
        checkpoints.save_latest(step, _state(value))
    checkpoints.close()
    for path in _data_files(tmp_path / "checkpoints" / "20"):
        _tear(path)
    again = Checkpoints(str(tmp_path), keep=3)
    restored = again.restore_latest(_state(0.0))
    assert float(restored.params["dense"]["kernel"][0, 0]) == 1.0, "step 10's values"
    assert sorted(os.listdir(tmp_path / "checkpoints")) == ["10", "20" + CORRUPT_SUFFIX]
    assert again.latest_step() == 10

    for path in _data_files(tmp_path / "checkpoints" / "10"):
        _tear(path)
    with pytest.raises(CheckpointError, match=r"no checkpoint in .*checkpoints loads"):
        Checkpoints(str(tmp_path), keep=3).restore_latest(_state(0.0))


# --- item 5: torn JSON records --------------------------------------------------------------------------------


def test_a_torn_wall_time_counts_as_zero_and_a_torn_record_is_replaced(tmp_path, caplog):
    jsonio.write_json(tmp_path / "wall_time.json", {"wall_time_s": 1234.5})
    assert loop._WallClock(str(tmp_path)).previous == 1234.5
    _tear(tmp_path / "wall_time.json")
    clock = loop._WallClock(str(tmp_path))  # before: json.JSONDecodeError, every restart crashed
    assert clock.previous == 0.0
    clock.save()
    assert jsonio.read_json(tmp_path / "wall_time.json")["wall_time_s"] >= 0

    config = tiny_config(tmp_path)
    recorded = loop.results_path(config)
    jsonio.write_json(recorded, {"config": run_config.as_json(config), "metrics": {}})
    _tear(recorded)
    assert loop.results_path(config) == recorded, "a torn file holds nothing to keep: this run's results replace it"

    run_config.check_and_save(config, str(tmp_path))
    _tear(tmp_path / "config.json")
    run_config.check_and_save(config, str(tmp_path))
    assert jsonio.read_json(tmp_path / "config.json")["seed"] == config.seed


def test_results_are_recorded_only_when_results_dir_is_set(tmp_path):
    config = tiny_config(tmp_path)
    config.results_dir = ""
    assert loop.results_path(config) is None
    config.results_dir = str(tmp_path / "r")
    assert loop.results_path(config) == str(tmp_path / "r" / "test" / "tiny_reverse.json")


def test_write_text_replaces_the_file_whole_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "table.md"
    jsonio.write_text(path, "old\n")
    jsonio.write_text(path, "new\n")
    assert path.read_text() == "new\n" and os.listdir(tmp_path) == ["table.md"]
    # a name near the file system's 255 bytes (a sweep point's results JSON): its temporary name fits too
    long_name = tmp_path / ("k=v," * 61 + "seed=0.json")  # 255 bytes
    jsonio.write_text(long_name, "{}\n")
    assert long_name.read_text() == "{}\n" and len(os.listdir(tmp_path)) == 2


# --- item 8: workdir lock --------------------------------------------------------------------------------------

HOLD_LOCK = textwrap.dedent("""\
    import sys, time
    sys.path.insert(0, {repo!r})
    from attn_research.training.workdir_lock import WorkdirLock
    with WorkdirLock({workdir!r}):
        print("locked", flush=True)
        time.sleep(120)
    """)


def test_a_second_training_in_a_locked_workdir_fails_at_once_naming_the_holder(tmp_path):
    workdir = str(tmp_path / "work")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK.format(repo=REPO, workdir=workdir)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        start = time.time()
        with pytest.raises(WorkdirLockedError) as error:
            loop.train_and_evaluate(tiny_config(tmp_path), workdir)
        assert time.time() - start < 5, "before any data loading or compilation"
        message = str(error.value)
        assert f"pid {holder.pid}" in message and workdir in message and "\n" not in message
        assert not os.path.exists(os.path.join(workdir, "config.json")), "nothing of the second run written"
    finally:
        holder.kill()
        holder.wait()
    with WorkdirLock(workdir):  # the kernel released the killed holder's lock
        pass


# --- item 16 (part): model summary -------------------------------------------------------------------------


def test_model_summary_counts_each_top_level_module_and_lists_every_array():
    params = {
        "encoder": {"embed": np.zeros((10, 4)), "gru": {"w": np.zeros((4, 6)), "b": np.zeros(6)}},
        "decoder": {"out": np.zeros((6, 10), np.float32)},
    }
    assert count_by_module(params) == {"encoder": 40 + 24 + 6, "decoder": 60}
    text = model_summary(params)
    assert text.startswith("parameters: 130\n")
    assert "encoder/gru/w: (4, 6) float64" in text and "decoder/out: (6, 10) float32" in text
    assert "53.8%" in text  # 70 / 130


def test_metrics_line_names_the_step_and_each_metric():
    line = metrics_line(50, 200, {"train/loss": 1.23456, "train/ppl": 3.0})
    assert line == "step 50/200 (25%): loss 1.235, ppl 3"


# --- end to end ----------------------------------------------------------------------------------------------------


def _config(tmp_path, steps, **train):
    config = tiny_config(tmp_path, steps=steps, batch_size=16)
    config.model.update(dict(embed_dim=8, encoder_hidden=8, decoder_hidden=8))
    config.model.attention.update(dict(dim=8, qk_dim=8, v_dim=8))
    config.data.update(dict(num_train=200, num_validation=16, num_test=16))
    config.eval.update(dict(batch_size=16, num_heatmaps=0))
    config.train.update(train)
    return config


def test_a_restart_after_a_truncated_checkpoint_resumes_from_the_previous_step(tmp_path, caplog):
    """Also: without a terminal the metrics are logged at each log point; model_summary.txt and the
    parameter count; a changed learning rate on rerun stops before any work."""
    caplog.set_level(logging.INFO)
    workdir = str(tmp_path / "work")
    config = _config(tmp_path, 20, log_every_steps=5, eval_every_steps=20, checkpoint_every_steps=10)
    first = loop.train_and_evaluate(config, workdir)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("step ")]
    assert [line.split(" (")[0] for line in lines] == ["step 5/20", "step 10/20", "step 15/20", "step 20/20"]
    assert "loss" in lines[0] and "grad_norm" in lines[0]
    summary = open(os.path.join(workdir, "model_summary.txt")).read()
    assert summary.startswith(f"parameters: {first['num_params']:,}\n")
    assert jsonio.read_json(os.path.join(workdir, "summary.json"))["num_params"] == first["num_params"]

    for path in _data_files(os.path.join(workdir, "checkpoints", "20")):
        _tear(path)
    steps = []
    longer = _config(tmp_path, 30, log_every_steps=5, eval_every_steps=10, checkpoint_every_steps=10)
    loop.train_and_evaluate(longer, workdir, step_callback=steps.append)
    assert steps[0] == 11, "resumed from step 10, the newest checkpoint that loads"
    assert os.path.isdir(os.path.join(workdir, "checkpoints", "20" + CORRUPT_SUFFIX))

    changed = _config(tmp_path, 30, log_every_steps=5, eval_every_steps=10, checkpoint_every_steps=10)
    changed.train.learning_rate = 0.05
    start = time.time()
    with pytest.raises(run_config.ConfigMismatchError, match=r"train.learning_rate 0.01 -> 0.05"):
        loop.train_and_evaluate(changed, workdir)
    assert time.time() - start < 5


def test_a_nan_loss_stops_training_naming_the_step_and_records_nothing(tmp_path):
    config = _config(
        tmp_path, 40, log_every_steps=5, eval_every_steps=40, checkpoint_every_steps=40, learning_rate=1e30
    )
    workdir = str(tmp_path / "work")
    # the first update (learning rate 1e30) overflows the parameters: steps 2-5 are NaN; the first log point says so
    with pytest.raises(loop.NonFiniteLossError, match=r"training loss is nan by step 5 \(steps 1-5\)"):
        loop.train_and_evaluate(config, workdir)
    assert not os.path.exists(os.path.join(workdir, "results.json"))
    assert not os.path.exists(loop.results_path(config))
    metrics = os.path.join(workdir, "metrics.jsonl")
    for line in open(metrics) if os.path.exists(metrics) else ():
        assert all(math.isfinite(v) for v in json.loads(line).values() if isinstance(v, float)), line
    assert not glob.glob(os.path.join(workdir, "checkpoints", "*")), "no NaN state checkpointed"


def test_a_workdir_saved_before_config_task_resumes_with_the_default_task():
    from attn_research.training.run_config import model_changing_differences

    assert model_changing_differences({"seed": 0}, {"seed": 0, "task": "seq2seq"}) == []
    assert model_changing_differences({"seed": 0}, {"seed": 0, "task": "other"}) == ["task 'seq2seq' -> 'other'"]
