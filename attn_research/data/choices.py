"""Validation of string options (dataset names, splits, tokenizers) with helpful errors."""

from __future__ import annotations

import difflib
from collections.abc import Sequence


def check_choice(value: object, choices: Sequence[str], what: str) -> str:
  """Returns `value` if it is one of `choices`.

  Raises ValueError naming `what`, listing every valid choice and, when one is close
  (difflib), suggesting it: "Unknown dataset name 'scna'. Valid choices: ... Did you mean 'scan'?".
  """
  if isinstance(value, str) and value in choices:
    return value
  message = f"Unknown {what} {value!r}. Valid choices: {', '.join(map(repr, choices))}."
  close = difflib.get_close_matches(str(value), list(choices), n=1)
  if close:
    message += f" Did you mean {close[0]!r}?"
  raise ValueError(message)
