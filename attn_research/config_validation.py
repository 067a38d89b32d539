"""`validate_config`: every mistake in an experiment config that can be seen before any work is done.

Called by `attn_research.main` before data loading, model init or the workdir (and at the top of
`train_and_evaluate`), so that an unknown name or an impossible value costs a one-line error, not a
traceback after minutes of loading. Choice lists come from the modules that use them (the attention
registry, the model factory, the data loaders, the optimizer), so this file never duplicates them.
"""

from __future__ import annotations

import math
from typing import Any

from attn_research import jsonio

WANDB_MODES = ("", "offline", "online", "disabled", "dryrun", "run")  # "": $WANDB_MODE, else offline
BEST_MODES = ("min", "max")


class ConfigError(ValueError):
    """An invalid experiment config; the message is one line naming the key, the value and what is valid."""


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


def _number(config: Any, key: str, section: str) -> float:
    value = config.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{section}.{key} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"{section}.{key} must be finite, got {value!r}")
    return value


def _at_least(config: Any, section: str, key: str, low: float) -> None:
    """value >= low; a missing key or None (unset: the reading module's default) passes."""
    if config.get(key) is not None and _number(config, key, section) < low:
        raise ConfigError(f"{section}.{key} must be >= {low:g}, got {config[key]!r}")


def _in_range(config: Any, section: str, key: str, low: float, high: float) -> None:
    """low <= value < high; a missing key or None passes."""
    if config.get(key) is not None and not low <= _number(config, key, section) < high:
        raise ConfigError(f"{section}.{key} must be in [{low:g}, {high:g}), got {config[key]!r}")


def _choice(kind: str, value: Any, valid) -> None:
    from attn_research.validation import check_choice

    check_choice(kind, value, valid)


def _check_data(data: Any) -> None:
    from attn_research.data import loaders, synthetic  # pylint: disable=import-outside-toplevel

    name = data.get("name")
    _choice("dataset (data.name)", name, loaders.LOADERS)
    if name == "scan":
        _choice("SCAN split (data.split)", data.get("split", "simple"), loaders.SCAN_SPLITS)
    elif name == "synthetic":
        _choice("synthetic task (data.task)", data.get("task", "reverse"), synthetic.TASKS)
        for key in ("num_train", "num_validation", "num_test", "synthetic_vocab_size"):
            _at_least(data, "data", key, 1)
        for split in ("train", "test"):
            low, high = f"{split}_min_len", f"{split}_max_len"
            _at_least(data, "data", low, 1)
            if low in data and high in data and data[low] > data[high]:
                raise ConfigError(f"data.{low} ({data[low]}) must be <= data.{high} ({data[high]})")
    elif name == "multi30k":
        for key in ("source_lang", "target_lang"):
            _choice(f"Multi30k language (data.{key})", data.get(key), loaders.MULTI30K_LANGUAGES)
        if data.get("source_lang") == data.get("target_lang"):
            raise ConfigError(f"data.source_lang and data.target_lang are both {data.get('source_lang')!r}")
        _choice("Multi30k tokenizer (data.tokenizer)", data.get("tokenizer", "moses"), loaders.MULTI30K_TOKENIZERS)
        _at_least(data, "data", "min_freq", 1)
        _at_least(data, "data", "vocab_size", 1)
    _at_least(data, "data", "max_len", 0)


def _check_model(config: Any) -> None:
    from attn_research.attention import build_attention  # pylint: disable=import-outside-toplevel
    from attn_research.models.factory import ARCHITECTURES  # pylint: disable=import-outside-toplevel

    model = config.model
    architecture = model.get("architecture", "rnn")
    _choice("model architecture (model.architecture)", architecture, ARCHITECTURES)
    ARCHITECTURES[architecture][1](model)  # the model's own check: cell, decoder, bridge, sizes, rates
    if architecture == "rnn" and model.get("attention") is not None:
        build_attention(model.attention)  # family, score, window, normalizer, ... (no parameters made)
        for key in ("dim", "heads", "qk_dim", "v_dim"):
            _at_least(model.attention, "model.attention", key, 1)
        _in_range(model.attention, "model.attention", "dropout_rate", 0.0, 1.0)
    if architecture == "transformer" and "eval" in config:
        decode, positions = config.eval.get("max_decode_len", 0), model.get("max_len", 0)
        if decode > positions:
            raise ConfigError(
                f"eval.max_decode_len ({decode}) exceeds model.max_len ({positions}), the "
                f"Transformer's positions: raise model.max_len or lower eval.max_decode_len"
            )


def _task_class(config: Any):
    from attn_research.tasks import TASKS  # pylint: disable=import-outside-toplevel
    from attn_research.tasks.base import DEFAULT_TASK  # pylint: disable=import-outside-toplevel

    return TASKS.get(config.get("task", DEFAULT_TASK))


def check_seq2seq(config: Any) -> None:
    """The seq2seq task's sections: data (name, split / task / languages / tokenizer, sizes) and model
    (architecture and its own check, attention), each raising ConfigError or ValueError."""
    _check_data(config.data)
    _check_model(config)


def _check_train(train: Any) -> None:
    from attn_research.training.optimizer import OPTIMIZERS, SCHEDULES  # pylint: disable=import-outside-toplevel

    _choice("optimizer (train.optimizer)", train.get("optimizer", "adam"), OPTIMIZERS)
    _choice("learning-rate schedule (train.schedule)", train.get("schedule", "constant"), SCHEDULES)
    if _number(train, "learning_rate", "train") <= 0:
        raise ConfigError(f"train.learning_rate must be > 0, got {train.learning_rate!r}")
    for key in ("batch_size", "log_every_steps", "keep_checkpoints"):
        _at_least(train, "train", key, 1)
    for key in (
        "num_steps",
        "num_epochs",
        "warmup_steps",
        "eval_every_steps",
        "checkpoint_every_steps",
        "clip_norm",
        "weight_decay",
        "coverage_loss_weight",
        "early_stopping_patience",  # evaluations; an int field of base_config, so ml_collections refuses 1.5
    ):
        _at_least(train, "train", key, 0)
    if not train.get("num_steps", 0) and not train.get("num_epochs", 0):
        raise ConfigError(
            "train.num_steps and train.num_epochs are both 0: the model would not be trained (set one of them)"
        )
    _in_range(train, "train", "label_smoothing", 0.0, 1.0)
    _check_steps_per_call(train)
    _check_padding(train)
    if not isinstance(train.get("flatten_optimizer", False), bool):
        raise ConfigError(f"train.flatten_optimizer must be True or False, got {train.flatten_optimizer!r}")
    if "best_mode" in train:
        _choice("best_mode (train.best_mode)", train.best_mode, BEST_MODES)


def _check_padding(train: Any) -> None:
    """train.padding: one of data.batching.PADDINGS; "buckets" needs train.buckets >= 1 and steps_per_call 1
    (the bucket grid gives batches of several shapes, a stacked call needs one)."""
    from attn_research.data.batching import PADDINGS

    padding = train.get("padding", "multiple")
    _choice("padding (train.padding)", padding, PADDINGS)
    buckets = train.get("buckets", 6)
    if isinstance(buckets, bool) or not isinstance(buckets, int) or buckets < 1:
        raise ConfigError(f"train.buckets must be an integer >= 1, got {buckets!r}")
    if padding == "buckets" and train.get("steps_per_call", 1) > 1:
        raise ConfigError("train.padding 'buckets' needs train.steps_per_call 1 (stacked calls need one shape)")


def _check_steps_per_call(train: Any) -> None:
    """train.steps_per_call: an integer >= 1 that divides every cadence the config sets (log, eval, checkpoint),
    so that no jitted call of K updates crosses one (the loop clips the calls at the cadences left unset)."""
    calls = train.get("steps_per_call", 1)
    if isinstance(calls, bool) or not isinstance(calls, int) or calls < 1:
        raise ConfigError(f"train.steps_per_call must be an integer >= 1, got {calls!r}")
    for key in ("log_every_steps", "eval_every_steps", "checkpoint_every_steps"):
        every = train.get(key) or 0
        if calls > 1 and every % calls:
            raise ConfigError(
                f"train.{key} ({every}) must be a multiple of train.steps_per_call ({calls}): "
                f"a jitted call of {calls} updates ends on each log, eval and checkpoint"
            )


def _check_eval(evaluation: Any) -> None:
    for key in ("batch_size", "max_decode_len"):
        _at_least(evaluation, "eval", key, 1)
    _at_least(evaluation, "eval", "num_heatmaps", 0)


def _check_record_name(config: Any) -> None:
    """The results JSON's file name, <run_name or name>.json, within the file system's 255 bytes (else the run
    would train and then fail to record)."""
    key = "run_name" if config.get("run_name") else "name"
    name = f"{config.get(key)}.json"
    if len(name.encode()) > jsonio.MAX_NAME_BYTES:
        raise ConfigError(
            f"config.{key} makes a results file name of {len(name.encode())} bytes ({name[:40]}...), over the file "
            f"system's {jsonio.MAX_NAME_BYTES}: shorten it"
        )


def validate_config(config: Any) -> None:
    """Checks an experiment config (ml_collections.ConfigDict with the keys of config_defaults.base_config).

    Checks: config.task, and the task's own sections (Task.check_config; seq2seq: check_seq2seq): the names
    (data.name, its split / task / languages / tokenizer; model.architecture, cell,
    decoder, bridge; model.attention family, score, window, normalizer and the family's own choices;
    train.optimizer, schedule, best_mode; wandb.mode), each listing the valid choices and the closest;
    the values: learning rate > 0, batch sizes >= 1, num_steps and num_epochs not both 0, dropout in
    [0, 1), label smoothing in [0, 1), train.steps_per_call >= 1 dividing the log / eval / checkpoint cadences
    that are set, attention sizes >= 1, non-negative counts, synthetic length
    ranges, a valid $WANDB_MODE when the config leaves wandb.mode unset, and that a
    Transformer does not decode past its positions (eval.max_decode_len <= model.max_len), and that the results
    file name (<run_name or name>.json) fits the file system's 255 bytes.
    Builds nothing with parameters and reads no data. Raises ConfigError (a ValueError) with a one-line
    message.
    """
    try:
        _task_class(config).check_config(config)
        _check_train(config.train)
        _check_record_name(config)
        if "eval" in config:
            _check_eval(config.eval)
        if "wandb" in config:
            _choice("W&B mode (wandb.mode)", config.wandb.get("mode") or "", WANDB_MODES)
            from attn_research.logging.writer import resolve_mode  # pylint: disable=import-outside-toplevel

            resolve_mode(config.wandb.get("mode"))  # also $WANDB_MODE when the config leaves it unset
    except ConfigError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise ConfigError(_one_line(error)) from None
