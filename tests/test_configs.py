"""Every config in configs/ builds, names valid choices, and rejects unknown arguments."""

import importlib.util
import os

import pytest

from attn_research.attention import build_attention
from attn_research.models import validate_model_config

CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs")


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(CONFIGS, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def all_args():
    scan, multi30k, synthetic = load("scan"), load("multi30k"), load("synthetic")
    yield from (("synthetic", task) for task in synthetic.TASKS)
    yield from (("multi30k", model) for model in multi30k.MODELS)
    yield from (("scan", f"{split},{model}") for split in scan.SPLITS for model in scan.MODELS)


@pytest.mark.parametrize("name,arg", list(all_args()))
def test_config_builds(name, arg):
    config = load(name).get_config(arg)
    validate_model_config(config.model)
    build_attention(config.model.attention)
    assert config.experiment == name and config.name
    assert config.train.batch_size % 1 == 0 and config.eval.max_decode_len > 0


@pytest.mark.parametrize(
    "name,bad",
    [("synthetic", "revers"), ("multi30k", "luong_dott"), ("scan", "simpel"), ("scan", "simple,gru_atention")],
)
def test_unknown_argument_lists_valid_choices(name, bad):
    with pytest.raises(ValueError, match="valid"):
        load(name).get_config(bad)


def test_multi30k_bahdanau_matches_the_published_baseline_setup():
    config = load("multi30k").get_config("bahdanau")
    assert (config.model.embed_dim, config.model.encoder_hidden, config.model.decoder_hidden) == (256, 512, 512)
    assert config.model.cell == "gru" and config.model.bidirectional and config.model.dropout == 0.5
    assert (config.train.learning_rate, config.train.clip_norm, config.train.batch_size, config.train.num_epochs) == (
        1e-3,
        1.0,
        128,
        10,
    )
    assert config.data.min_freq == 2
