"""Tests for attn_research.logging: the JSONL + offline W&B writer, attention plots, progress bar."""

import glob
import json
import logging
import os
import subprocess
import sys
import time

import jax.numpy as jnp
import matplotlib.image
import ml_collections
import numpy as np
import pytest

from attn_research.logging import MetricWriter, attention_plots, plot_attention, progress_bar

WANDB_CLI = os.path.join(os.path.dirname(sys.executable), "wandb")


@pytest.fixture(autouse=True)
def _isolated_wandb(tmp_path, monkeypatch):
    """Keeps W&B's settings and caches out of the home directory and away from the network."""
    for var in ("WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_ARTIFACT_DIR"):
        monkeypatch.setenv(var, str(tmp_path / "wandb_home"))
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")


def _config():
    return ml_collections.ConfigDict({"model": {"attention": {"score": "general"}}, "lr": 1e-3})


def _read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def _inspect(run_dir):
    """Records of an offline run's .wandb log via `wandb leet inspect --json`: one JSON object
    per line, {"num": i, "type": "run" | "history" | "summary" | "files" | ..., <type>: {...}}."""
    assert os.path.exists(WANDB_CLI), f"wandb CLI not found at {WANDB_CLI}"
    out = subprocess.run(
        [WANDB_CLI, "leet", "inspect", "--json", run_dir], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _tiny_png(path):
    matplotlib.image.imsave(path, np.eye(4))
    return str(path)


def test_writer_offline_writes_jsonl_and_wandb_run(tmp_path):
    workdir = tmp_path / "run"
    before = time.time()
    writer = MetricWriter(workdir, _config(), {"project": "attn-tests", "name": "r1", "tags": ("unit",)})
    assert writer.run_id is not None
    writer.write_scalars(1, {"train/loss": jnp.float32(2.5), "train/tokens": 30})
    writer.write_scalars(2, {"train/loss": np.float64(1.25)})
    writer.write_images(2, {"attention/0": _tiny_png(tmp_path / "a.png")})
    writer.write_summary({"best/bleu": jnp.array(31.5)})
    writer.close()
    writer.close()  # idempotent

    lines = _read_jsonl(workdir / "metrics.jsonl")
    assert [{k: v for k, v in line.items() if k != "time"} for line in lines] == [
        {"step": 1, "train/loss": 2.5, "train/tokens": 30},
        {"step": 2, "train/loss": 1.25},
    ]
    assert [list(line)[-1] for line in lines] == ["time", "time"]
    assert all(before <= line["time"] <= time.time() for line in lines)
    assert json.loads((workdir / "summary.json").read_text()) == {"best/bleu": 31.5}
    assert (workdir / "wandb_run_id.txt").read_text().strip() == writer.run_id

    run_dirs = glob.glob(str(workdir / "wandb" / "offline-run-*"))
    assert len(run_dirs) == 1
    records = _inspect(run_dirs[0])
    run = next(r["run"] for r in records if r["type"] == "run")
    assert run["config"]["update"]["model"] == {"attention": {"score": "general"}}
    assert run["config"]["update"]["lr"] == 1e-3
    assert run["project"] == "attn-tests" and run["display_name"] == "r1"
    assert run["tags"] == ["unit"]
    history = {r["history"]["step"]["num"]: r["history"]["item"] for r in records if r["type"] == "history"}
    assert history[1]["train/loss"] == 2.5 and history[1]["train/tokens"] == 30
    assert history[2]["train/loss"] == 1.25
    assert history[2]["attention/0._type"] == "image-file"
    summary = {}
    for r in records:
        if r["type"] == "summary":
            summary.update(r["summary"]["update"])
    assert summary["best/bleu"] == 31.5


def test_writer_resumes_stored_run_id(tmp_path):
    # As config_defaults.py writes it: "" and () stand for "not set".
    wandb_config = ml_collections.ConfigDict(
        {"mode": "offline", "project": "attn_research", "group": "", "tags": (), "name": "", "dir": None}
    )
    first = MetricWriter(tmp_path, {"seed": 0}, wandb_config)
    run_id = first.run_id
    first.write_scalars(1, {"loss": 1.0})
    first.close()
    assert (tmp_path / "wandb_run_id.txt").read_text().strip() == run_id
    second = MetricWriter(tmp_path, {"seed": 0}, wandb_config)
    assert second.run_id == run_id
    second.write_scalars(2, {"loss": 0.5})
    second.close()
    assert [line["step"] for line in _read_jsonl(tmp_path / "metrics.jsonl")] == [1, 2]


def _warnings(caplog):
    return [r for r in caplog.records if r.levelno == logging.WARNING and "W&B" in r.getMessage()]


def test_wandb_init_failure_keeps_jsonl(tmp_path, monkeypatch, caplog):
    import wandb

    def broken_init(*args, **kwargs):
        raise RuntimeError("network down")

    monkeypatch.setattr(wandb, "init", broken_init)
    with caplog.at_level(logging.WARNING):
        writer = MetricWriter(tmp_path, _config(), {"mode": "online"})
        writer.write_scalars(1, {"loss": 2.0})
        writer.write_scalars(2, {"loss": 1.0})
        writer.write_images(2, {"a": _tiny_png(tmp_path / "a.png")})
        writer.write_summary({"best": 1.0})
        writer.close()
    assert writer.run_id is None
    assert [line["loss"] for line in _read_jsonl(tmp_path / "metrics.jsonl")] == [2.0, 1.0]
    assert len(_warnings(caplog)) == 1 and "network down" in _warnings(caplog)[0].getMessage()


def test_wandb_log_failure_keeps_jsonl(tmp_path, monkeypatch, caplog):
    writer = MetricWriter(tmp_path, _config(), {"mode": "offline"})
    assert writer.run_id is not None

    def broken_log(*args, **kwargs):
        raise ConnectionError("log failed")

    monkeypatch.setattr(writer.wandb_run, "log", broken_log)
    with caplog.at_level(logging.WARNING):
        for step in range(3):
            writer.write_scalars(step, {"loss": float(step)})
        writer.close()
    assert [line["step"] for line in _read_jsonl(tmp_path / "metrics.jsonl")] == [0, 1, 2]
    assert len(_warnings(caplog)) == 1


def test_wandb_not_importable_or_disabled(tmp_path, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "wandb", None)  # `import wandb` now raises ImportError
    with caplog.at_level(logging.WARNING):
        writer = MetricWriter(tmp_path / "a", None, None)
        writer.write_scalars(5, {"bleu": 12.0})
        writer.close()
    assert _read_jsonl(tmp_path / "a" / "metrics.jsonl")[0]["bleu"] == 12.0
    assert len(_warnings(caplog)) == 1

    caplog.clear()
    with MetricWriter(tmp_path / "b", None, {"mode": "disabled"}) as writer:
        writer.write_scalars(1, {"bleu": 3.0})
    assert not _warnings(caplog)
    assert not (tmp_path / "b" / "wandb").exists()


@pytest.mark.parametrize(
    "config_mode,env_mode,expected",
    [
        ("", None, "offline"),  # neither: offline
        ("", "online", "online"),  # the environment decides when the config leaves it unset
        ("", "disabled", "disabled"),
        ("", "dryrun", "offline"),  # wandb's legacy name
        ("offline", "online", "offline"),  # a mode set in the config wins over the environment
        ("disabled", "offline", "disabled"),
    ],
)
def test_wandb_mode_precedence(config_mode, env_mode, expected, monkeypatch):
    from attn_research.logging.writer import resolve_mode

    if env_mode is None:
        monkeypatch.delenv("WANDB_MODE", raising=False)
    else:
        monkeypatch.setenv("WANDB_MODE", env_mode)
    assert resolve_mode(config_mode) == expected


def test_default_config_leaves_the_mode_to_the_environment(tmp_path, monkeypatch):
    from attn_research.config_defaults import base_config

    monkeypatch.setenv("WANDB_MODE", "disabled")
    with MetricWriter(tmp_path, None, base_config().wandb) as writer:
        assert writer.mode == "disabled" and writer.wandb_run is None
    assert not (tmp_path / "wandb").exists()


def test_main_does_not_override_the_environment(tmp_path):
    """attn_research.main once set WANDB_MODE from the config's default, so WANDB_MODE=online was ignored."""
    code = (
        "import os, sys; from attn_research import main; "
        "main.parse_flags(['main', '--config=configs/synthetic.py:task=reverse', '--workdir=' + sys.argv[1]]); "
        "from attn_research.logging.writer import resolve_mode; "
        "print(resolve_mode(main._CONFIG.value.wandb.mode))"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "WANDB_MODE": "online"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert out.split() == ["online"]


def test_offline_close_names_the_run_folder_and_sync_command(tmp_path, caplog):
    writer = MetricWriter(tmp_path, None, {"mode": "offline"})
    with caplog.at_level(logging.INFO, logger="attn_research.logging.writer"):
        writer.close()
    run_dir = writer.wandb_run_dir
    assert os.path.isdir(run_dir) and os.path.basename(run_dir).startswith("offline-run-")
    assert any(f"wandb sync {run_dir}" in r.getMessage() for r in caplog.records)


def test_wandb_init_has_a_short_timeout(tmp_path, monkeypatch):
    import wandb

    seen = {}

    def fake_init(*args, settings=None, **kwargs):
        seen["timeout"] = settings.init_timeout
        raise TimeoutError("no network")

    monkeypatch.setattr(wandb, "init", fake_init)
    writer = MetricWriter(tmp_path, None, {"mode": "online"})
    assert writer.wandb_run is None and seen["timeout"] <= 15


def test_writer_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        MetricWriter(tmp_path, None, {"mode": "offline", "projekt": "typo"})
    with pytest.raises(ValueError):
        MetricWriter(tmp_path, None, {"mode": "sometimes"})
    with MetricWriter(tmp_path, None, {"mode": "disabled"}) as writer:
        with pytest.raises(ValueError):
            writer.write_scalars(1, {"loss": np.ones(3)})
        with pytest.raises(ValueError):
            writer.write_scalars(1, {"step": 3})
        with pytest.raises(FileNotFoundError):
            writer.write_images(1, {"a": str(tmp_path / "missing.png")})


def test_plot_attention_writes_png_of_expected_size(tmp_path):
    source, target = ["the", "cat", "sat", "<eos>"], ["le", "chat", "<eos>"]
    weights = np.random.default_rng(0).dirichlet(np.ones(6), size=5)  # padded: [5, 6]
    path = plot_attention(jnp.asarray(weights), source, target, tmp_path / "sub" / "a.png", title="step 10")
    assert path == str(tmp_path / "sub" / "a.png") and os.path.getsize(path) > 0
    image = matplotlib.image.imread(path)
    width, height = attention_plots.figure_size(len(source), len(target))
    assert image.shape[:2] == (round(height * attention_plots.DPI), round(width * attention_plots.DPI))
    assert image.shape[1] > image.shape[0]  # 4 source tokens across, 3 target tokens down

    trimmed = plot_attention(weights[:3, :4], source, target, tmp_path / "trimmed.png", title="step 10")
    assert np.array_equal(matplotlib.image.imread(trimmed), image)  # padding is cut off

    tall = matplotlib.image.imread(plot_attention(weights.T, target, source, tmp_path / "b.png"))
    assert tall.shape[0] > tall.shape[1]
    assert image.std() > 0  # not a blank image


def test_plot_attention_rejects_too_small_weights(tmp_path):
    with pytest.raises(ValueError):
        plot_attention(np.ones((2, 4)), ["a", "b", "c", "d"], ["x", "y", "z"], tmp_path / "a.png")
    with pytest.raises(ValueError):
        plot_attention(np.ones((3, 3)), ["a", "b", "c", "d"], ["x", "y", "z"], tmp_path / "a.png")
    with pytest.raises(ValueError):
        plot_attention(np.ones((3,)), ["a"], ["x"], tmp_path / "a.png")
    assert not (tmp_path / "a.png").exists()


def test_progress_bar_shows_rate_and_postfix(capsys):
    with progress_bar(10, initial_step=4, disable=False) as bar:
        for _ in range(3):
            bar.update(1, loss=jnp.float32(0.123456))
    err = capsys.readouterr().err
    assert "7/10" in err and ("step/s" in err or "s/step" in err)
    assert "loss=0.1235" in err
    assert bar.step == 7 and bar.rate() > 0
    quiet = progress_bar(5)  # stderr is captured, not a TTY: disabled, and must not crash
    assert quiet.disabled and quiet.rate() == 0.0
    quiet.update(2, loss=1.0)
    time.sleep(0.01)
    quiet.set_step(5, loss="0.5")  # absolute position; string postfix values are fine
    assert quiet.step == 5 and 0 < quiet.rate() < 3 / 0.01
    quiet.close()
    with pytest.raises(ValueError):
        progress_bar(5, initial_step=6)
