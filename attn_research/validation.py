"""Validation helpers shared by the whole package (a leaf module: it imports nothing from attn_research).

Every bad option a user can type goes through check_choice, so every such error reads the same:
"unknown attention score 'adittive'; valid choices: additive, concat, ... Did you mean 'additive'?".
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def check_choice(kind: str, name: object, valid: Iterable[str]) -> str:
    """Returns `name` if it is one of `valid`, else raises ValueError naming `kind`, every valid choice
    (sorted) and, when one is close (difflib), suggesting it."""
    choices = sorted(valid)
    if isinstance(name, str) and name in choices:
        return name
    close = difflib.get_close_matches(str(name), choices, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"unknown {kind} {name!r}; valid choices: {', '.join(choices)}.{hint}")


def check_positive(kind: str, value: float) -> float:
    """Returns `value` if it is > 0, else raises ValueError naming `kind`."""
    if not value > 0:
        raise ValueError(f"{kind} must be > 0, got {value!r}")
    return value
