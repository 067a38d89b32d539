"""Named config arguments, the big_vision style: `--config=configs/scan.py:split=simple,model=gru_attention`.

A config file declares its arguments as a dict of defaults (every argument has one, so the file alone is
a valid config) and, for the arguments that name a variant, their choices:

    ARGUMENTS = {"split": "simple", "model": "top", "recipe": "ours"}
    CHOICES = {"split": SPLITS, "model": MODELS, "recipe": RECIPES}

    def get_config(arg=""):
        args = parse_config_args(arg, ARGUMENTS, CHOICES, kind="SCAN")   # args.split, args.model, args.recipe

A value is read as the type of its default (str, int, float or bool: true/false). The old positional form
(`simple,gru_attention`: values in the order of ARGUMENTS) still works, with a FutureWarning that shows
the named form; positional values may precede named ones, as in a Python call.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import ml_collections

from attn_research.validation import check_choice

_BOOLEANS = {"true": True, "false": False}


def named_form(args: Mapping[str, Any]) -> str:
    """'name=value,...' for `args` (booleans lowercase): the string parse_config_args reads back."""
    return ",".join(
        f"{name}={str(value).lower() if isinstance(value, bool) else value}" for name, value in args.items()
    )


def _label(*words: str) -> str:
    return " ".join(word for word in words if word)


def _typed(kind: str, name: str, text: str, default: Any) -> Any:
    """`text` read as the type of `default`; raises ValueError naming the argument and the type."""
    if isinstance(default, bool):
        return _BOOLEANS[check_choice(_label(kind, name, "value"), text.lower(), _BOOLEANS)]
    for type_, called in ((int, "an integer"), (float, "a number")):
        if isinstance(default, type_):
            try:
                return type_(text)
            except ValueError:
                raise ValueError(f"{_label(kind, 'config argument')} {name}={text!r} must be {called}") from None
    return text


def parse_config_args(
    arg: str,
    defaults: Mapping[str, Any],
    choices: Mapping[str, Iterable[str]] | None = None,
    kind: str = "",
) -> ml_collections.ConfigDict:
    """The config file's arguments: `defaults` updated by `arg` ("name=value,name=value", or the deprecated
    positional "value,value" in the order of `defaults`, with a FutureWarning), each value typed by its
    default (str, int, float, bool) and, for a string argument listed in `choices`, checked against them.

    kind names the config file in messages ("SCAN": "unknown SCAN split 'simpel'; valid choices: ...").
    Raises ValueError (one line) for an unknown name (listing the valid names), a value not in its choices
    (listing them), a value not of its default's type, a name given twice, an empty item, more positional
    values than arguments, or a positional value after a named one.
    """
    choices = choices or {}
    where = f"{_label(kind, 'config argument')} {arg!r}"
    values = dict(defaults)
    given: set[str] = set()
    positional: list[str] = []
    items = [item.strip() for item in arg.split(",")] if arg.strip() else []
    for index, item in enumerate(items):
        name, equals, text = item.partition("=")
        name = name.strip()
        if not item or (equals and not name):
            raise ValueError(f"{where}: item {index + 1} has no name; write name=value,name=value")
        if not equals:  # the deprecated positional form
            if given:
                raise ValueError(f"{where}: positional value {item!r} after a named one")
            if len(positional) == len(defaults):
                raise ValueError(f"{where}: more than {len(defaults)} values; names: {', '.join(defaults)}")
            name, text = list(defaults)[len(positional)], item
            positional.append(name)
        else:
            check_choice(_label(kind, "config argument"), name, defaults)
            if name in given or name in positional:
                raise ValueError(f"{where} gives {name} twice")
            given.add(name)
        value = _typed(kind, name, text.strip(), defaults[name])
        if name in choices:
            check_choice(_label(kind, name), value, choices[name])
        values[name] = value
    if positional:
        named = named_form({name: values[name] for name in defaults if name in positional or name in given})
        warnings.warn(
            f"positional config arguments {arg!r} are deprecated; write {named!r}", FutureWarning, stacklevel=2
        )
    return ml_collections.ConfigDict(values)
