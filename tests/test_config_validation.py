"""attn_research.config_validation: every config in configs/ passes; each mistake is one line naming the key."""

import pytest

from attn_research.config_validation import ConfigError, validate_config
from tests.test_configs import all_args, load


@pytest.mark.parametrize("name,arg", list(all_args()))
def test_every_shipped_config_is_valid(name, arg):
    validate_config(load(name).get_config(arg))


def _set(config, key, value):
    *parents, last = key.split(".")
    for part in parents:
        config = config[part]
    config[last] = value


BAD = [  # (key, value, what the message must say)
    ("model.attention.family", "multihead", "valid choices: .*multi_head.*Did you mean 'multi_head'"),
    ("model.attention.score", "multiplicatve", "Did you mean 'multiplicative'"),
    ("model.attention.window", "local", "attention window 'local'"),
    ("model.attention.normalizer", "softmx", "Did you mean 'softmax'"),
    ("data.name", "scna", "Did you mean 'scan'"),
    ("data.task", "revers", "Did you mean 'reverse'"),
    ("model.decoder", "luongg", "Did you mean 'luong'"),
    ("model.cell", "gru2", "cell"),
    ("model.architecture", "transfomer", "Did you mean 'transformer'"),
    ("train.optimizer", "adamm", "Did you mean 'adam'"),
    ("train.learning_rate", -0.1, "train.learning_rate must be > 0"),
    ("train.learning_rate", 0.0, "train.learning_rate must be > 0"),
    ("train.learning_rate", float("nan"), "train.learning_rate must be finite"),
    ("train.batch_size", 0, "train.batch_size must be >= 1"),
    ("eval.batch_size", 0, "eval.batch_size must be >= 1"),
    ("eval.max_decode_len", 0, "eval.max_decode_len must be >= 1"),
    ("model.dropout", 1.0, "dropout must be in"),
    ("train.label_smoothing", -0.1, "train.label_smoothing must be in"),
    ("data.train_min_len", 20, "data.train_min_len .* must be <= data.train_max_len"),
    ("wandb.mode", "onlin", "Did you mean 'online'"),
    ("model.attention.dim", 0, "model.attention.dim must be >= 1"),
    ("model.attention.dropout_rate", 1.5, "model.attention.dropout_rate must be in"),
]


@pytest.mark.parametrize("key,value,match", BAD)
def test_mistake_is_one_line_naming_it(key, value, match):
    config = load("synthetic").get_config("task=reverse")
    _set(config, key, value)
    with pytest.raises(ConfigError, match=match) as error:
        validate_config(config)
    assert "\n" not in str(error.value)


def test_untrained_model_is_refused():
    config = load("synthetic").get_config("task=reverse")
    config.train.num_steps, config.train.num_epochs = 0, 0
    with pytest.raises(ConfigError, match="num_steps and train.num_epochs are both 0"):
        validate_config(config)
    config.train.num_epochs = 1  # either one is enough
    validate_config(config)


def test_transformer_decoding_past_its_positions_names_both_keys():
    config = load("synthetic").get_config("task=reverse,architecture=transformer")
    config.eval.max_decode_len = config.model.max_len + 1
    with pytest.raises(ConfigError, match=r"eval\.max_decode_len \(\d+\) exceeds model\.max_len \(\d+\)"):
        validate_config(config)
    config.eval.max_decode_len = config.model.max_len
    validate_config(config)


def test_a_results_file_name_over_255_bytes_is_refused_before_training():
    config = load("synthetic").get_config("task=reverse")
    config.run_name = "k=v," * 61 + "seed=0"  # 250 bytes + .json: fits
    validate_config(config)
    config.run_name += "0"
    with pytest.raises(ConfigError, match=r"config\.run_name makes a results file name of 256 bytes"):
        validate_config(config)


def test_multi30k_languages_and_tokenizer():
    config = load("multi30k").get_config("model=bahdanau")
    config.data.target_lang = "de"
    with pytest.raises(ConfigError, match="both 'de'"):
        validate_config(config)
    config.data.target_lang, config.data.tokenizer = "en", "spm"
    with pytest.raises(ConfigError, match="tokenizer"):
        validate_config(config)


def test_bad_wandb_mode_in_the_environment_is_named(monkeypatch):
    config = load("synthetic").get_config("task=reverse")
    monkeypatch.setenv("WANDB_MODE", "sometimes")
    with pytest.raises(ConfigError, match=r"\$WANDB_MODE .*'sometimes'"):
        validate_config(config)
    config.wandb.mode = "disabled"  # the config's own mode wins: the environment is not read
    validate_config(config)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # config_flags loads config files with load_module
def test_every_sweep_point_passes_as_its_command_line_sets_it(tmp_path, monkeypatch):
    """No recorded experiment is refused: each point's `attn_research.main` arguments, parsed as absl does."""
    import glob
    import os

    from attn_research.sweeps import load_experiment, runner
    from tests.test_cli import ROOT, parse

    monkeypatch.chdir(ROOT)  # the commands name config files relative to the repository

    count = 0
    for path in sorted(glob.glob(os.path.join(ROOT, "experiments", "*.py"))):
        experiment = load_experiment(path)
        if experiment.method == "bayes":
            continue
        for scale in experiment.scales:
            paths = runner.Paths(str(tmp_path / "results"), str(tmp_path / "workdirs"))
            for point in runner.planned_points(experiment, scale, paths):
                command = runner.make_job(experiment, os.path.relpath(path, ROOT), scale, point, paths).train_command
                validate_config(parse(["main", *(a for a in command[3:] if not a.startswith("--workdir="))]))
                count += 1
    assert count > 0
