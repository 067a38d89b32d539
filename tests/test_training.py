"""End to end: a tiny attentive model learns a synthetic task; crash/resume; W&B offline run; errors."""

from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import sys

import pytest
import sacrebleu.metrics

from attn_research.training.loop import results_path, train_and_evaluate
from tests.helpers import tiny_config

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_tiny_attentive_model_learns_reverse(tmp_path):
    config = tiny_config(tmp_path, steps=400)
    results = train_and_evaluate(config, str(tmp_path / "work"))
    assert results["metrics"]["validation"]["seq_accuracy"] >= 0.9, results["metrics"]
    assert results["metrics"]["test"]["token_accuracy"] >= 0.95
    # what the run leaves behind
    work = tmp_path / "work"
    lines = [json.loads(line) for line in open(work / "metrics.jsonl")]
    assert any("validation/bleu" in line for line in lines) and any("train/loss" in line for line in lines)
    assert glob.glob(str(work / "attention" / "*.png"))
    assert os.listdir(work / "checkpoints") and os.listdir(work / "best")
    saved = json.load(open(tmp_path / "results" / "test" / "tiny_reverse.json"))
    for key in ("experiment", "config_name", "config", "metrics", "seed", "git_commit", "wall_time_s", "machine"):
        assert key in saved
    assert saved["metrics"]["test"]["bleu"] == pytest.approx(results["metrics"]["test"]["bleu"])
    scorer = sacrebleu.metrics.BLEU()
    scorer.corpus_score(["a b"], [["a b"]])
    assert saved["bleu_signature"] == str(scorer.get_signature())  # sacrebleu's own signature of its defaults
    assert saved["bleu_signature"].startswith("nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:")


class _Crash(RuntimeError):
    pass


def test_crash_and_rerun_resumes_with_the_same_final_metrics(tmp_path):
    def config_for(name):
        config = tiny_config(tmp_path / name, steps=60)
        config.train.update(dict(checkpoint_every_steps=20, eval_every_steps=30, log_every_steps=10))
        return config

    uninterrupted = train_and_evaluate(config_for("a"), str(tmp_path / "a" / "work"))

    def crash_at_50(step):
        if step == 50:
            raise _Crash()

    with pytest.raises(_Crash):
        train_and_evaluate(config_for("b"), str(tmp_path / "b" / "work"), step_callback=crash_at_50)
    resumed_steps = []
    resumed = train_and_evaluate(config_for("b"), str(tmp_path / "b" / "work"), step_callback=resumed_steps.append)
    assert resumed_steps[0] == 41, "the rerun must start after the last checkpoint (step 40)"
    for split in ("validation", "test"):
        for metric, value in uninterrupted["metrics"][split].items():
            assert resumed["metrics"][split][metric] == pytest.approx(value, rel=1e-5, abs=1e-6), (split, metric)


def test_wandb_offline_run_holds_the_logged_metrics(tmp_path):
    config = tiny_config(tmp_path, steps=20)
    config.train.update(dict(log_every_steps=10, eval_every_steps=20))
    train_and_evaluate(config, str(tmp_path / "work"))
    runs = glob.glob(str(tmp_path / "wandb" / "offline-run-*"))
    assert len(runs) == 1, runs
    wandb_cli = os.path.join(os.path.dirname(sys.executable), "wandb")
    out = subprocess.run([wandb_cli, "leet", "inspect", "--json", runs[0]], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    logged = [json.loads(line) for line in open(tmp_path / "work" / "metrics.jsonl")]
    final_loss = [line["train/loss"] for line in logged if "train/loss" in line][-1]
    assert "train/loss" in out.stdout and f"{final_loss:.4f}"[:5] in out.stdout


def test_a_run_of_another_config_never_overwrites_a_recorded_result(tmp_path):
    config = tiny_config(tmp_path)
    recorded = os.path.join(config.results_dir, config.experiment, f"{config.name}.json")
    assert results_path(config) == recorded, "nothing recorded yet: the run's own name"
    os.makedirs(os.path.dirname(recorded))
    with open(recorded, "w") as f:
        json.dump({"config": json.loads(json.dumps(config.to_dict(), default=str))}, f)
    assert results_path(config) == recorded, "the same config writes over its own file"
    trial = tiny_config(tmp_path)
    trial.train.learning_rate *= 2  # a key changed on the command line
    sibling = results_path(trial)
    assert os.path.dirname(sibling) == os.path.dirname(recorded) and sibling != recorded
    assert re.fullmatch(re.escape(config.name) + r"-[0-9a-f]{8}\.json", os.path.basename(sibling))
    trial.train.learning_rate *= 2
    assert results_path(trial) != sibling, "each config its own file"


def test_unknown_decoder_lists_the_valid_choices(tmp_path):
    config = tiny_config(tmp_path, steps=1, decoder="bahdanu")
    with pytest.raises(ValueError, match="bahdanau"):
        train_and_evaluate(config, str(tmp_path / "work"))


def test_unknown_score_lists_the_valid_choices(tmp_path):
    config = tiny_config(tmp_path, steps=1, score="generl")
    with pytest.raises(ValueError, match="general"):
        train_and_evaluate(config, str(tmp_path / "work"))


MESH_SCRIPT = r"""
import os
os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4"
import json, sys
import jax, numpy as np
sys.path.insert(0, {repo!r})
from attn_research.data import load_dataset, make_batches
from attn_research.models import Seq2Seq
from attn_research.training.mesh import make_mesh, replicate, shard_batch
from attn_research.training.optimizer import make_optimizer
from attn_research.training.state import create_train_state
from attn_research.training.steps import train_step
from tests.helpers import seq2seq_task, tiny_config
import ml_collections

assert jax.device_count() == 4, jax.devices()
config = tiny_config("/tmp", steps=3)
data = load_dataset(config.data)
model = Seq2Seq(config=ml_collections.FrozenConfigDict(config.model), source_vocab_size=data.source_vocab.size,
                target_vocab_size=data.target_vocab.size)
batches = make_batches(data.splits["train"], 32, seed=0, epoch=0, shuffle=True)[:3]
task = seq2seq_task(config)
outcome = {{}}
for n in (1, 4):
    mesh = make_mesh(jax.devices()[:n])
    state = replicate(create_train_state(task, model, make_optimizer(config.train, 10), batches[0], 0), mesh)
    losses = []
    for batch in batches:
        sharded = shard_batch(task.step_arrays(batch), mesh)
        if n == 4:
            assert len(sharded["source"].sharding.device_set) == 4
        state, metrics = train_step(state, sharded)
        losses.append(float(metrics["loss"]))
    outcome[n] = (losses, [np.asarray(x) for x in jax.tree.leaves(state.params)])
for a, b in zip(outcome[1][1], outcome[4][1]):
    np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-6)
np.testing.assert_allclose(outcome[1][0], outcome[4][0], rtol=1e-5)
print("MESH-OK", outcome[1][0])
"""


def test_four_device_mesh_matches_one_device(tmp_path):
    script = tmp_path / "mesh.py"
    script.write_text(MESH_SCRIPT.format(repo=REPO))
    # the script adds the 4 host devices to the inherited XLA_FLAGS before it imports jax
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert out.returncode == 0 and "MESH-OK" in out.stdout, out.stdout + out.stderr


KILL_CONFIG = r"""
import sys
sys.path.insert(0, {repo!r})
from tests.helpers import tiny_config


def get_config():
    config = tiny_config({tmp!r}, steps=400)
    config.train.update(dict(checkpoint_every_steps=20, eval_every_steps=200, log_every_steps=20))
    return config
"""


@pytest.mark.slow  # 85 s; test_crash_and_rerun_resumes_with_the_same_final_metrics keeps resume in make test
def test_sigkill_and_rerun_resumes_with_the_same_final_metrics(tmp_path):
    """A real kill (SIGKILL) of `python -m attn_research.main`, then the same command again."""
    import signal
    import time

    config_file = tmp_path / "kill_config.py"
    config_file.write_text(KILL_CONFIG.format(repo=REPO, tmp=str(tmp_path)))
    workdir = tmp_path / "work"
    command = [
        sys.executable,
        "-m",
        "attn_research.main",
        f"--config={config_file}",
        f"--workdir={workdir}",
        "--compilation_cache=",
    ]
    env = dict(os.environ, WANDB_MODE="offline", JAX_PLATFORMS="cpu")
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None:
        names = os.listdir(workdir / "checkpoints") if (workdir / "checkpoints").exists() else []
        steps = [int(d) for d in names if d.isdigit()]
        if any(40 <= s < 400 for s in steps):
            break
        time.sleep(0.05)
    assert process.poll() is None, "training finished (or died) before it could be killed"
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=60) == -signal.SIGKILL
    assert not (workdir / "results.json").exists()

    rerun = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=400)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "resumed from the checkpoint of step" in rerun.stderr
    resumed = json.load(open(workdir / "results.json"))

    reference = tiny_config(tmp_path / "ref", steps=400)
    reference.train.update(dict(checkpoint_every_steps=20, eval_every_steps=200, log_every_steps=20))
    uninterrupted = train_and_evaluate(reference, str(tmp_path / "ref" / "work"))
    for split in ("validation", "test"):
        for metric, value in uninterrupted["metrics"][split].items():
            assert resumed["metrics"][split][metric] == pytest.approx(value, rel=1e-5, abs=1e-6), (split, metric)
