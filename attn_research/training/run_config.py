"""The config a workdir was trained with (<workdir>/config.json), and the check that a resume keeps it.

The first start saves the config; a rerun in the same workdir resumes only if every key that changes the
trained model is the same. Keys that cannot change it may differ: where and how the run is logged and
named (wandb.*, name, run_name, experiment, results_dir), how it is evaluated (eval.*), how often it logs,
evaluates and checkpoints, how many updates one jitted call makes, where the data files sit (data.manual_dir, data.tfds_dir: the data's content
is fingerprinted apart), and a longer schedule: a larger train.num_steps (or train.num_epochs when
num_steps is 0), except with the cosine schedule, whose decay is stretched over num_steps, so that
every step's learning rate changes. After an accepted resume config.json holds the new config.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import ml_collections
from absl import logging

from attn_research import jsonio
from attn_research.tasks.base import DEFAULT_TASK

CONFIG_FILE = "config.json"
FREE_PREFIXES = ("wandb.", "eval.")
# Keys added to the config after runs were saved without them -> what those runs did (their value then).
ADDED_KEYS = {
    "task": DEFAULT_TASK,
    "train.padding": "multiple",
    "train.buckets": 6,
    "data.lowercase": True,  # Multi30k's default before the key was in base_config
    "data.seed": 0,  # the synthetic tasks' generator seed, likewise
    "data.cache_dir": "",
    "train.flatten_optimizer": False,  # the optimizer state per parameter array (its checkpoints' layout)
    "train.early_stopping_patience": 0,
}
FREE_KEYS = frozenset(
    {
        "name",
        "run_name",
        "experiment",
        "results_dir",
        "data.manual_dir",
        "data.tfds_dir",
        "train.log_every_steps",
        "train.eval_every_steps",
        "train.checkpoint_every_steps",
        "train.keep_checkpoints",
        "train.steps_per_call",  # K updates per jitted call: the same updates (tests/test_multi_step.py)
        "train.early_stopping_patience",  # when to stop, not what an update does (like a longer schedule)
    }
)
LENGTH_KEYS = ("train.num_steps", "train.num_epochs")
STEPS_DEPENDENT_SCHEDULES = ("cosine",)


class ConfigMismatchError(ValueError):
    """A rerun in a workdir trained with a config that differs in a key that changes the trained model."""


def as_json(config: ml_collections.ConfigDict | Mapping) -> dict:
    """The config as it reads back from JSON (tuples as lists, other objects as strings)."""
    plain = config.to_dict() if hasattr(config, "to_dict") else dict(config)
    return json.loads(json.dumps(plain, sort_keys=True, default=str))


def flatten(tree: Mapping, prefix: str = "") -> dict[str, Any]:
    """{"train.learning_rate": 0.001, ...}: nested dicts as dotted keys."""
    flat = {}
    for key, value in tree.items():
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _length(flat: Mapping[str, Any]) -> tuple[str, float]:
    """What sets the run's length: ("steps", n) if train.num_steps is set, else ("epochs", n)."""
    if flat.get("train.num_steps"):
        return "steps", float(flat["train.num_steps"])
    return "epochs", float(flat.get("train.num_epochs") or 0)


def _longer_schedule_allowed(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether the new length is the same kind and not shorter, with a schedule that ignores the length."""
    (old_kind, old_n), (new_kind, new_n) = _length(old), _length(new)
    return old_kind == new_kind and new_n >= old_n and new.get("train.schedule") not in STEPS_DEPENDENT_SCHEDULES


def model_changing_differences(old: Mapping, new: Mapping) -> list[str]:
    """Each key (dotted) whose change would change the trained model, as "key old -> new", sorted.

    old, new: configs as JSON (as_json). A key present in one only counts as a difference ("(absent)"),
    except the ADDED_KEYS, absent in configs saved before they existed: those ran with the key's value here.
    """
    old_flat, new_flat = flatten(old), flatten(new)
    for flat in (old_flat, new_flat):
        for key, value in ADDED_KEYS.items():
            flat.setdefault(key, value)
    differences = []
    length_changed = False
    for key in sorted(set(old_flat) | set(new_flat)):
        before, after = old_flat.get(key, "(absent)"), new_flat.get(key, "(absent)")
        if before == after or key in FREE_KEYS or key.startswith(FREE_PREFIXES):
            continue
        if key in LENGTH_KEYS:
            length_changed = True
            continue
        differences.append(f"{key} {before!r} -> {after!r}")
    if length_changed and not _longer_schedule_allowed(old_flat, new_flat):
        differences += [
            f"{key} {old_flat.get(key)!r} -> {new_flat.get(key)!r}"
            for key in LENGTH_KEYS
            if old_flat.get(key) != new_flat.get(key)
        ]
    return sorted(differences)


def check_and_save(config: ml_collections.ConfigDict, workdir: str) -> None:
    """Saves `config` as <workdir>/config.json on the first start; on a rerun, first checks it against the
    saved one and raises ConfigMismatchError (one line: the workdir and each differing key, old -> new)
    when a key that changes the trained model differs (see the module docstring for the keys that may).

    A torn config.json (CorruptJSONError) is replaced by this config with a warning: a checkpoint restore
    still refuses another model's shapes.
    """
    path = os.path.join(workdir, CONFIG_FILE)
    mine = as_json(config)
    if os.path.isfile(path):
        try:
            saved = jsonio.read_json(path)
        except jsonio.CorruptJSONError as error:
            logging.warning("%s; replacing it with this run's config", error)
            saved = mine
        differences = model_changing_differences(saved, mine)
        if differences:
            raise ConfigMismatchError(
                f"{workdir} was trained with another config ({'; '.join(differences)}): use a new --workdir "
                "for this config, or rerun with the saved one"
            )
    jsonio.write_json(path, mine, sort_keys=True)
