"""The speech task through the generic trainer: the config file's arguments and their one-line errors, the
recorded model keys, the alignment picture, and a tiny run on the real FSDD recordings (slow)."""

from __future__ import annotations

import importlib.util
import json
import os

import numpy as np
import pytest

from attn_research.config_validation import ConfigError, validate_config
from attn_research.tasks import build_task
from attn_research.tasks.speech.plots import plot_alignment_over_spectrogram, plot_error_by_length
from tests.helpers import SHARED_DATA

FSDD = SHARED_DATA / "fsdd"
needs_fsdd = pytest.mark.skipif(not (FSDD / "recordings").is_dir(), reason="shared/data/fsdd is absent")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def config_module():
    spec = importlib.util.spec_from_file_location("speech_config", os.path.join(REPO, "configs", "speech.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_config_arguments_and_validation():
    module = config_module()
    config = module.get_config("attention=location_smooth,reduction=conv")
    assert (config.task, config.name, config.model.reduction) == ("speech", "location_smooth_conv", "conv")
    validate_config(config)
    recorded = build_task(config).recorded_model_config()
    assert recorded["attention"]["family"] == "location_aware"
    assert recorded["attention"]["normalizer"] == "sigmoid" and recorded["attention"]["location_source"] == "cumulative"
    assert recorded["reductions"] == 3 and "max_len" not in recorded["attention"]
    content = build_task(module.get_config("attention=content")).recorded_model_config()
    assert content["attention"]["family"] == "factored" and content["attention"]["score"] == "additive"
    with pytest.raises(ValueError, match="unknown speech attention .local.; valid choices: content"):
        module.get_config("attention=local")
    for key, value, message in [
        ("data.train_lengths", (), "data.train_lengths must list at least one"),
        ("data.pause_max", 0.01, "data.pause_min and pause_max"),
        ("model.reductions", 5, "a pyramid of 4 layers halves the frame rate at most 4 times"),
        ("eval.window_left", -1, "eval.window_left / window_right >= 0"),
    ]:
        config = module.get_config("")
        section, name = key.split(".")
        config[section][name] = value
        with pytest.raises(ConfigError, match=message) as error:
            validate_config(config)
        assert "\n" not in str(error.value)


def test_the_pictures_are_written(tmp_path):
    rng = np.random.default_rng(0)
    alignment = rng.dirichlet(np.ones(12), size=4)
    path = plot_alignment_over_spectrogram(
        rng.normal(size=(90, 40)), alignment, 8, ["3", "1", "4", "</s>"], str(tmp_path / "a" / "u.png"), title="t"
    )
    assert os.path.getsize(path) > 1000
    curves = {"content": {1: 0.01, 4: 0.02, 8: 0.5}, "location": {1: 0.01, 4: 0.01, 8: 0.03}}
    assert os.path.getsize(plot_error_by_length(curves, str(tmp_path / "length.png"), train_max=4)) > 1000


@pytest.mark.slow  # a few minutes on 2 shared CPU cores: features of ~900 utterances, compiles, 30 updates
@needs_fsdd
def test_a_tiny_run_on_fsdd_records_the_metrics_by_length(tmp_path):
    from attn_research.training.loop import train_and_evaluate  # pylint: disable=import-outside-toplevel

    config = config_module().get_config("attention=location")
    config.data.manual_dir, config.data.tfds_dir = str(FSDD), str(tmp_path / "tfds")
    config.data.update({"train_utterances": 256, "eval_utterances": 4, "test_lengths": (8,), "frame_multiple": 256})
    config.model.update({"encoder_layers": 2, "reductions": 2, "encoder_hidden": 16, "decoder_hidden": 16})
    config.model.attention.dim = 16
    config.train.update({"num_steps": 30, "eval_every_steps": 30, "checkpoint_every_steps": 30})
    config.train.log_every_steps = 10
    config.eval.num_heatmaps = 2
    config.results_dir = str(tmp_path / "results")
    config.wandb.mode = "disabled"
    train_and_evaluate(config, str(tmp_path / "work"))
    with open(tmp_path / "work" / "results.json") as f:
        results = json.load(f)
    test = results["metrics"]["test"]
    for key in ("der", "der_train_lengths", "der_1", "der_4", "der_8", "windowed_der_8", "utterance_accuracy_8"):
        assert 0.0 <= test[key], key
    assert results["utterances"]["test"] == 20 and len(results["data_fingerprint"]) == 16
    assert any(name.endswith(".png") for name in os.listdir(tmp_path / "work" / "attention"))
