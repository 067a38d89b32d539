"""An attention family's settings: its module's dataclass fields are its config keys, its field defaults the
defaults (the one place they are written).

A key the config lacks, or holds as None (attention_config's typed placeholders), keeps the field's default.
A field that holds another attention module (HardAttention.base) is built from the same config by that
module's own from_config, and its keys join the family's. A family may name fields no config sets
(NOT_CONFIGURED, a ClassVar tuple) and keys the trainer reads for it (TRAINER_KEYS, a ClassVar dict
name -> default).
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Mapping
from typing import Any

import flax.linen as nn

PLAIN_TYPES = (bool, int, float, str)


@functools.cache
def _field_types(family: type) -> dict[str, Any]:
    """{field: its type} for the family's configurable fields: a plain type (`int | None` counts as int) or an
    attention module class. Fields of other types (dtype: Any), Flax's parent/name and NOT_CONFIGURED are left out."""
    hints = typing.get_type_hints(family)
    skipped = {"parent", "name", *getattr(family, "NOT_CONFIGURED", ())}
    fields = {}
    for field in dataclasses.fields(family):
        hint = hints.get(field.name)
        if field.name in skipped:
            continue
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
            inner = [arg for arg in typing.get_args(hint) if arg is not type(None)]
            hint = inner[0] if len(inner) == 1 else None
        if hint in PLAIN_TYPES or (isinstance(hint, type) and issubclass(hint, nn.Module)):
            fields[field.name] = hint
    return fields


def config_keys(family: type) -> dict[str, type]:
    """The config keys the family reads -> their plain type (bool, int, float or str), nested modules' keys and
    TRAINER_KEYS included. Raises ValueError if a nested module reads a key with another type."""
    keys: dict[str, type] = {}
    for name, kind in _field_types(family).items():
        nested = config_keys(kind) if issubclass(kind, nn.Module) else {name: kind}
        for key, key_type in nested.items():
            if keys.setdefault(key, key_type) is not key_type:
                raise ValueError(f"{family.__name__} reads config key {key!r} as {keys[key]} and as {key_type}")
    for key, default in getattr(family, "TRAINER_KEYS", {}).items():
        keys.setdefault(key, type(default))
    return keys


def _value(config: Mapping[str, Any], key: str, kind: type, default: Any) -> Any:
    value = config.get(key)
    return default if value is None else kind(value)


def fields_from_config(family: type, config: Mapping[str, Any]) -> dict[str, Any]:
    """The family's constructor arguments: each configurable field from the config (cast to its type) or its
    default; a field holding an attention module is that module's from_config(config)."""
    defaults = {field.name: field.default for field in dataclasses.fields(family)}
    arguments = {}
    for name, kind in _field_types(family).items():
        if issubclass(kind, nn.Module):
            arguments[name] = kind.from_config(config)
        else:
            arguments[name] = _value(config, name, kind, defaults[name])
    return arguments


def module_settings(module: nn.Module, config: Mapping[str, Any]) -> dict[str, Any]:
    """{key: plain Python value} of every key a built family module read (its fields, nested modules'
    fields, TRAINER_KEYS from the config or their defaults)."""
    settings: dict[str, Any] = {}
    for name, kind in _field_types(type(module)).items():
        value = getattr(module, name)
        if issubclass(kind, nn.Module):
            settings.update(module_settings(value, config))
        else:
            settings[name] = value
    for key, default in getattr(type(module), "TRAINER_KEYS", {}).items():
        settings[key] = _value(config, key, type(default), default)
    return settings
