"""The catalogue of registered attention parts for the README table: each score, window, normalizer and family
with the equation and source it registered with (registry.py).

tests/test_catalogue.py checks that the README table is the one `catalogue_markdown()` renders (`make readme`
rewrites it).
"""

from __future__ import annotations

from typing import NamedTuple

from attn_research.attention.registry import FAMILIES, NORMALIZERS, SCORES, WINDOWS

KINDS = (("score", SCORES), ("window", WINDOWS), ("normalizer", NORMALIZERS), ("family", FAMILIES))


class Entry(NamedTuple):
    """One row of the README catalogue table."""

    kind: str  # score | window | normalizer | family
    name: str  # the config value
    equation: str
    source: str


def catalogue_entries() -> tuple[Entry, ...]:
    """One Entry per registered part, kind by kind (KINDS), each kind in registration order."""
    return tuple(
        Entry(kind, entry.name, entry.equation, entry.source)
        for kind, registry in KINDS
        for entry in registry.entries()
    )


def catalogue_markdown() -> str:
    """The README table: one row per registered part."""
    lines = ["| kind | name (config value) | equation | source |", "| --- | --- | --- | --- |"]
    for entry in catalogue_entries():
        lines.append(f"| {entry.kind} | `{entry.name}` | `{entry.equation}` | {entry.source} |")
    return "\n".join(lines)
