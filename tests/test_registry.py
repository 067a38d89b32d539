"""Registry (attn_research/registry.py) and the validation helpers (attn_research/validation.py)."""

from __future__ import annotations

import pytest

from attn_research.registry import Registry
from attn_research.validation import check_choice, check_positive


def _registry() -> Registry:
    registry = Registry("colour")
    for name in ("teal", "amber", "crimson"):  # not in sorted order

        @registry.register(name, equation=f"{name} = 1", source=f"{name} et al. 2020, eq. 1")
        def colour():
            return None

    return registry


def test_register_returns_the_target_and_keeps_equation_and_source():
    registry = Registry("score")

    def dot(query, keys):
        return query @ keys

    assert registry.register("dot", equation="e = q^T k", source="Luong et al. 2015, eq. 8")(dot) is dot
    assert registry.get("dot") is dot
    entry = registry.entry("dot")
    assert (entry.name, entry.target, entry.equation, entry.source) == (
        "dot",
        dot,
        "e = q^T k",
        "Luong et al. 2015, eq. 8",
    )
    assert "dot" in registry and "cat" not in registry and len(registry) == 1


def test_registration_order_is_kept():
    registry = _registry()
    assert registry.names() == ("teal", "amber", "crimson")
    assert list(registry) == ["teal", "amber", "crimson"]
    assert [e.equation for e in registry.entries()] == ["teal = 1", "amber = 1", "crimson = 1"]


def test_a_duplicate_name_raises():
    registry = _registry()
    with pytest.raises(ValueError, match="colour 'amber' is registered twice"):
        registry.register("amber")(lambda: None)
    target = registry.get("teal")
    assert registry.register("teal")(target) is target  # the same target again (a module re-imported) is no clash


def test_an_unknown_name_lists_the_choices_and_suggests_the_closest():
    registry = _registry()
    with pytest.raises(ValueError) as info:
        registry.get("ambre")
    assert str(info.value) == "unknown colour 'ambre'; valid choices: amber, crimson, teal. Did you mean 'amber'?"
    with pytest.raises(ValueError) as info:
        registry.entry("zzzz")
    assert "Did you mean" not in str(info.value) and "amber, crimson, teal" in str(info.value)


def test_check_choice():
    assert check_choice("window", "global", ("global", "local_m")) == "global"
    with pytest.raises(ValueError, match=r"unknown window 'local-m'; valid choices: global, local_m\. Did you mean"):
        check_choice("window", "local-m", ("global", "local_m"))
    with pytest.raises(ValueError, match="unknown window 3"):
        check_choice("window", 3, ("global",))  # not a string: refused, not crashed


def test_check_positive():
    assert check_positive("temperature", 0.5) == 0.5
    for bad in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="temperature must be > 0"):
            check_positive("temperature", bad)
