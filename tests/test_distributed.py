"""Several processes as one job (training/distributed.py, training/mesh.py): the flags' one-line errors, and
two real local processes (CPU, gloo collectives) training the tiny synthetic model, killed and restarted."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from attn_research.training.distributed import Cluster, ClusterError, check_cluster

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STEPS = 30

CONFIG = r"""
import sys
sys.path.insert(0, {repo!r})
from tests.helpers import tiny_config


def get_config():
    config = tiny_config({tmp!r}, steps={steps})
    config.train.update(dict(checkpoint_every_steps=10, eval_every_steps={steps}, log_every_steps=10))
    config.eval.num_heatmaps = 0  # the run's cost is process starts and compilations: nothing it need not do
    config.wandb.mode = "disabled"
    return config
"""


@pytest.mark.parametrize(
    "cluster, message",
    [
        (Cluster(num_processes=2, process_id=0), "need --coordinator_address"),
        (Cluster(coordinator_address="127.0.0.1", num_processes=2, process_id=0), "must be <host>:<port>"),
        (Cluster(coordinator_address="127.0.0.1:1234", num_processes=0, process_id=0), "--num_processes must be"),
        (Cluster(coordinator_address="127.0.0.1:1234", num_processes=2, process_id=2), "--process_id must be in"),
        (Cluster(coordinator_address="127.0.0.1:1234", num_processes=2, process_id=0, auto=True), "exclude"),
    ],
)
def test_an_incomplete_cluster_is_a_one_line_error_naming_the_flag(cluster, message):
    with pytest.raises(ClusterError, match=message) as error:
        check_cluster(cluster)
    assert "\n" not in str(error.value)


def test_a_single_process_needs_no_cluster():
    check_cluster(Cluster())  # no error
    assert not Cluster().requested and Cluster(auto=True).requested


def test_main_reports_a_bad_cluster_flag_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "attn_research.main", "--config=configs/synthetic.py:task=reverse",
         f"--workdir={tmp_path / 'w'}", "--num_processes=2"],
        cwd=REPO, capture_output=True, text=True, timeout=120, env=dict(os.environ, JAX_PLATFORMS="cpu"),
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "error: --num_processes and --process_id need --coordinator_address=<host>:<port>"
    )


def _gloo_available() -> bool:
    from jax._src.lib import xla_client

    return hasattr(xla_client._xla, "make_gloo_tcp_collectives")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _command(config_file, workdir, *extra):
    return [
        sys.executable, "-m", "attn_research.main", f"--config={config_file}", f"--workdir={workdir}",
        "--compilation_cache=", *extra,
    ]  # fmt: skip


def _env(devices: int) -> dict:
    return dict(
        os.environ,
        WANDB_MODE="offline",
        JAX_PLATFORMS="cpu",
        XLA_FLAGS=f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={devices}",
    )


def _start_pair(config_file, workdir, log_dir, name):
    """The two processes of one job (process 1 first; process 0 holds the coordinator)."""
    port = _free_port()
    processes = []
    for rank in (1, 0):
        flags = (f"--coordinator_address=127.0.0.1:{port}", "--num_processes=2", f"--process_id={rank}")
        log = open(log_dir / f"{name}_{rank}.log", "w")
        processes.append(
            subprocess.Popen(_command(config_file, workdir, *flags), cwd=REPO, env=_env(1), stdout=log, stderr=log)
        )
    return processes


def _errors(log_dir, name) -> str:
    """The error lines (absl's E/F levels, Python's fatal errors and exceptions) of both processes' logs."""
    found = []
    for rank in (0, 1):
        for line in (log_dir / f"{name}_{rank}.log").read_text().splitlines():
            if (line[:1] in ("E", "F") and line[1:5].isdigit()) or "Error" in line or "Fatal" in line:
                found.append(f"process {rank}: {line[:400]}")
    return "\n".join(found[-40:])


def _final_params(workdir) -> dict:
    """The parameters of the checkpoint of the last step, as NumPy arrays by path."""
    import jax
    import orbax.checkpoint as ocp

    manager = ocp.CheckpointManager(os.path.join(workdir, "checkpoints"), item_handlers=ocp.StandardCheckpointHandler())
    metadata = dict(manager.item_metadata(STEPS))
    target = jax.tree.map(lambda m: np.zeros(m.shape, m.dtype) if hasattr(m, "shape") else None, metadata)
    params = manager.restore(STEPS, args=ocp.args.StandardRestore(target))["params"]
    manager.close()
    return {jax.tree_util.keystr(path): np.asarray(v) for path, v in jax.tree_util.tree_flatten_with_path(params)[0]}


@pytest.mark.slow  # five process starts and their compilations: 145 s alone on 2 cores, 166-316 s beside others
@pytest.mark.skipif(not _gloo_available(), reason="this jaxlib has no gloo CPU collectives")
def test_two_processes_train_as_one_run_on_two_devices_and_resume_after_a_kill(tmp_path):
    config_file = tmp_path / "config.py"
    config_file.write_text(CONFIG.format(repo=REPO, tmp=str(tmp_path), steps=STEPS))

    # the reference: one process with 2 CPU devices
    single = tmp_path / "single"
    run = subprocess.run(
        _command(config_file, single), cwd=REPO, env=_env(2), capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-3000:]
    os.remove(tmp_path / "results" / "test" / "tiny_reverse.json")

    # two processes of one device each; both killed (SIGKILL) after a checkpoint, then both started again
    pair = tmp_path / "pair"
    processes = _start_pair(config_file, pair, tmp_path, "first")
    deadline = time.time() + 600
    while time.time() < deadline and all(p.poll() is None for p in processes):
        names = os.listdir(pair / "checkpoints") if (pair / "checkpoints").exists() else []
        if any(name.isdigit() and 10 <= int(name) < STEPS for name in names):
            break
        time.sleep(0.05)
    assert all(p.poll() is None for p in processes), "the job finished (or died) before it could be killed\n" + _errors(
        tmp_path, "first"
    )
    for p in processes:
        p.send_signal(signal.SIGKILL)
    assert [p.wait(timeout=60) for p in processes] == [-signal.SIGKILL] * 2
    assert not (pair / "results.json").exists()

    processes = _start_pair(config_file, pair, tmp_path, "rerun")
    codes = [p.wait(timeout=900) for p in processes]
    assert codes == [0, 0], _errors(tmp_path, "rerun")
    assert "resumed from the checkpoint of step" in (tmp_path / "rerun_0.log").read_text()

    # one record of the run, written by process 0 only
    assert os.listdir(tmp_path / "results" / "test") == ["tiny_reverse.json"]
    lines = [json.loads(line) for line in (pair / "metrics.jsonl").read_text().splitlines()]
    steps = [line["step"] for line in lines if "train/loss" in line]
    assert all(a < b for a, b in zip(steps, steps[1:])), f"a step logged twice (two writers?): {steps}"
    assert steps[-1] == STEPS and sum("validation/loss" in line for line in lines) == 1

    expected, resumed = (json.loads((d / "results.json").read_text()) for d in (single, pair))
    for split in ("validation", "test"):
        for metric, value in expected["metrics"][split].items():
            assert resumed["metrics"][split][metric] == pytest.approx(value, rel=1e-5, abs=1e-6), (split, metric)
    reference, params = _final_params(single), _final_params(pair)
    assert reference.keys() == params.keys()
    for name in reference:
        np.testing.assert_allclose(params[name], reference[name], rtol=1e-5, atol=1e-6, err_msg=name)
