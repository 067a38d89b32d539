"""Registries: a name -> definition table filled where each thing is defined (a leaf module).

A module registers what it defines with a decorator at its definition, with the equation it implements
and the source it comes from; builders, the README catalogue and the tests read the registry, so adding a
score, an attention family or a task touches its own module and its tests only:

    SCORES = Registry("attention score")

    @SCORES.register("additive", equation="v_a^T tanh(W_a s + U_a h)", source="Bahdanau et al. 2015, eq. 6")
    def additive_score(...): ...

    SCORES.get("additive")   # the function; an unknown name raises ValueError listing the valid ones
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

from attn_research.validation import check_choice


@dataclasses.dataclass(frozen=True)
class Entry:
    """One registered definition: its name, the object (class or function), the equation it implements
    (plain text, the paper's notation) and its source (paper, section, equation)."""

    name: str
    target: Any
    equation: str = ""
    source: str = ""


class Registry:
    """Names -> Entry, in registration order. kind: what the names are, for error messages ("attention score")."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    def register(self, name: str, *, equation: str = "", source: str = "") -> Callable[[Any], Any]:
        """A decorator that registers its target under `name` and returns it unchanged.
        Raises ValueError if `name` is registered already (to another target)."""

        def decorate(target: Any) -> Any:
            existing = self._entries.get(name)
            if existing is not None and existing.target is not target:
                raise ValueError(f"{self.kind} {name!r} is registered twice ({existing.target!r} and {target!r})")
            self._entries[name] = Entry(name, target, equation, source)
            return target

        return decorate

    def entry(self, name: str) -> Entry:
        """The Entry of `name`; raises ValueError naming the valid names (and the closest) for an unknown one."""
        return self._entries[check_choice(self.kind, name, self._entries)]

    def get(self, name: str) -> Any:
        """The registered target of `name`; raises ValueError as `entry` does."""
        return self.entry(name).target

    def names(self) -> tuple[str, ...]:
        """The registered names, in registration order."""
        return tuple(self._entries)

    def entries(self) -> tuple[Entry, ...]:
        """The registered entries, in registration order."""
        return tuple(self._entries.values())

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
