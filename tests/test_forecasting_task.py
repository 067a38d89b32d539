"""The forecasting task through the generic trainer (training/loop.py): a tiny DLinear learns to beat Repeat on
real ETTh1 windows; the config file's arguments; the results JSON and the plots."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

from attn_research.config_validation import ConfigError, validate_config
from attn_research.tasks import build_task
from tests.helpers import SHARED_DATA

ETT = SHARED_DATA / "ett"
needs_ett = pytest.mark.skipif(not (ETT / "ETTh1.csv").is_file(), reason="shared/data/ett is absent")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def config_module():
    spec = importlib.util.spec_from_file_location("forecasting_config", os.path.join(REPO, "configs", "forecasting.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tiny_config(tmp_path, arg: str, **keys):
    module = config_module()
    config = module.get_config(arg)
    config.data.manual_dir, config.data.tfds_dir = str(ETT), str(tmp_path / "tfds")
    config.results_dir = str(tmp_path / "results")
    config.wandb.mode = "disabled"
    module.set_keys(config, {"train.log_every_steps": 20, "eval.batch_size": 512, **keys})
    return config


def test_config_arguments_and_validation(tmp_path):
    config = config_module().get_config("model=patch_attention,data=etth2,horizon=720")
    assert (config.task, config.name, config.data.lookback, config.model.d_model) == (
        "forecasting",
        "patch_attention_etth2_720",
        336,
        16,
    )
    assert build_task(config).recorded_model_config()["patch_len"] == 16
    validate_config(config)
    config.data.horizon = 3000
    with pytest.raises(ConfigError, match="data.horizon"):
        validate_config(config)
    with pytest.raises(ValueError, match="unknown forecasting model .informer.; valid choices: dlinear"):
        config_module().get_config("model=informer")


@pytest.mark.slow  # about 10 s of CPU (40 s on the shared cores)
@needs_ett
def test_dlinear_learns_to_beat_repeat_on_etth1(tmp_path):
    from attn_research.training.loop import train_and_evaluate  # pylint: disable=import-outside-toplevel

    config = tiny_config(
        tmp_path,
        "model=dlinear,lookback=48,horizon=12",
        **{"train.num_steps": 60, "train.batch_size": 64, "train.learning_rate": 1e-2, "train.schedule": "constant"},
    )
    config.eval.num_heatmaps = 2
    workdir = str(tmp_path / "run")
    results = train_and_evaluate(config, workdir)
    data = build_task(config).load_data()
    lookback, target = data.windows("test")
    repeat_mse = float(np.mean((np.repeat(lookback[:, -1:], 12, axis=1) - target) ** 2))
    test = results["metrics"]["test"]
    assert test["mse"] < 0.8 * repeat_mse, (test, repeat_mse)
    assert test["mae"] > 0 and test["loss"] == test["mse"]
    assert results["windows"] == {"train": 8640 - 48 - 12 + 1, "validation": 2869, "test": 2869}
    assert results["config"]["model"] == {
        "name": "dlinear",
        "moving_average": 25,
        "individual": False,
        "linear_init": "torch",
    }
    assert results["data_fingerprint"] is not None
    assert len(os.listdir(os.path.join(workdir, "forecasts"))) == 2
