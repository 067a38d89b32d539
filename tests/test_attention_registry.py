"""The attention registries: every registered part and family builds from a config and runs; every entry
carries an equation and a source; unknown names list the valid ones; attention_config and attention_settings
take their defaults from the modules. Nothing here lists the registered names: the tests iterate over them."""

from __future__ import annotations

import ast
import dataclasses
import itertools
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attn_research.attention import (
    FAMILIES,
    NORMALIZERS,
    SCORES,
    WINDOWS,
    FactoredAttention,
    attention_config,
    attention_settings,
    build_attention,
)
from attn_research.attention.config import all_config_keys

REGISTRIES = {"score": SCORES, "window": WINDOWS, "normalizer": NORMALIZERS, "family": FAMILIES}
PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "attn_research" / "attention"

BATCH, QUERIES, KEYS, DIM = 3, 4, 6, 8
# Row 0 sees every key, row 1 the first three, row 2 none (its context must be zero, never NaN).
MASK = np.array([[True] * KEYS, [True] * 3 + [False] * 3, [False] * KEYS])


def _inputs(seed: int, query_len: int = QUERIES):
    rng = np.random.default_rng(seed)
    shapes = ((BATCH, query_len, DIM), (BATCH, KEYS, DIM), (BATCH, KEYS, DIM))
    return tuple(jnp.asarray(rng.normal(size=shape), jnp.float32) for shape in shapes)


def _check_output(out, value_dim: int, query_len: int) -> None:
    """Common-interface properties: shapes, no NaN, zero weight on padding, zero context for an empty row."""
    weights = np.asarray(out.weights)
    assert out.context.shape == (BATCH, query_len, value_dim)
    assert weights.shape[0] == BATCH and weights.shape[-2:] == (query_len, KEYS)
    assert np.all(np.isfinite(weights)) and np.all(np.isfinite(np.asarray(out.context)))
    assert np.all(weights[1, ..., 3:] == 0.0), "weight on a padded key"
    assert np.all(weights[2] == 0.0) and np.all(np.asarray(out.context)[2] == 0.0), "a fully masked row"
    assert np.all(weights >= 0.0) and np.all(weights.sum(-1) <= 1.0 + 1e-5)


@pytest.mark.parametrize(
    "score,window,normalizer", list(itertools.product(SCORES.names(), WINDOWS.names(), NORMALIZERS.names()))
)
def test_every_factored_combination_builds_from_attention_config_and_runs(score, window, normalizer):
    config = attention_config(score, window, normalizer, dim=5, half_width=2, max_len=9, temperature=0.5)
    module = build_attention(config)
    assert isinstance(module, FactoredAttention)
    assert (module.score, module.window, module.normalizer, module.dim, module.half_width, module.max_len) == (
        score,
        window,
        normalizer,
        5,
        2,
        9,
    )
    q, k, v = _inputs(len(score) + len(window) + len(normalizer))
    mask = jnp.asarray(MASK)
    params = module.init(jax.random.key(0), q, k, v, mask)
    out = module.apply(params, q, k, v, mask, module.init_state(BATCH, KEYS))
    _check_output(out, DIM, QUERIES)
    if window != "local_p":  # local_p scales the weights by a Gaussian; every other row is a distribution
        np.testing.assert_allclose(np.asarray(out.weights)[:2].sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(out.state["position"], [QUERIES] * BATCH)


@pytest.mark.parametrize("family", FAMILIES.names())
def test_every_family_builds_from_attention_config_and_runs_one_step(family):
    """One decoder step (query_len 1) from init_state; scaled_dot is the score every family accepts."""
    config = attention_config("scaled_dot", family=family, dim=DIM, heads=2, channels=2, filter_width=3)
    module = build_attention(config)
    assert isinstance(module, FAMILIES.get(family))
    q, k, v = _inputs(7, query_len=1)
    mask = jnp.asarray(MASK)
    state = module.init_state(BATCH, KEYS)
    rngs = {"params": jax.random.key(0), "sampling": jax.random.key(1), "dropout": jax.random.key(2)}
    params = module.init(rngs, q, k, v, mask, state)
    out = module.apply(params, q, k, v, mask, state, rngs={"sampling": jax.random.key(3)})
    _check_output(out, DIM, 1)
    jax.tree.map(lambda x: np.testing.assert_array_equal(np.isfinite(x), True), out.state)


@pytest.mark.parametrize("kind", REGISTRIES)
def test_every_entry_has_an_equation_and_a_source(kind):
    entries = REGISTRIES[kind].entries()
    assert entries, f"no {kind} registered"
    for entry in entries:
        assert entry.equation.strip() and entry.source.strip(), entry
        assert "|" not in entry.equation + entry.source, f"a '|' breaks the README table: {entry}"


@pytest.mark.parametrize("key", REGISTRIES)
def test_an_unknown_name_lists_the_valid_ones_and_suggests_the_closest(key):
    registry = REGISTRIES[key]
    name = registry.names()[-1]
    wrong = name + "x"
    with pytest.raises(ValueError) as info:
        build_attention(attention_config(**{key: wrong}))
    message = str(info.value)
    assert f"unknown {registry.kind} {wrong!r}" in message and f"Did you mean {name!r}?" in message
    for valid in registry.names():
        assert valid in message


def test_a_plain_dict_with_missing_keys_takes_the_module_defaults():
    module = build_attention({"score": "general"})
    defaults = FactoredAttention()
    assert (module.window, module.normalizer, module.dim, module.half_width) == (
        defaults.window,
        defaults.normalizer,
        defaults.dim,
        defaults.half_width,
    )


def test_multi_head_reads_its_keys_and_refuses_another_score():
    config = attention_config("scaled_dot", family="multi_head", heads=2, qk_dim=8, v_dim=6, causal=True)
    config.update(dict(dropout_rate=0.1, out_dim=5))
    module = build_attention(config)
    assert (module.heads, module.qk_dim, module.v_dim, module.causal, module.dropout_rate, module.out_dim) == (
        2,
        8,
        6,
        True,
        0.1,
        5,
    )
    with pytest.raises(ValueError, match="'scaled_dot' score, got 'additive'"):
        build_attention(attention_config("additive", family="multi_head"))
    with pytest.raises(ValueError, match="heads must be > 0"):
        build_attention(attention_config("scaled_dot", family="multi_head", heads=0))


def test_attention_config_has_a_typed_placeholder_for_every_key_a_family_reads():
    config = attention_config("general", "local_p", "sparsemax", dim=32)
    assert (config.family, config.score, config.window, config.normalizer, config.dim) == (
        "factored",
        "general",
        "local_p",
        "sparsemax",
        32,
    )
    keys = all_config_keys()
    for entry in FAMILIES.entries():
        module = build_attention(attention_config(family=entry.name, score="scaled_dot"))
        for field in dataclasses.fields(module):
            if field.name in keys:
                assert field.name in config
    for key, kind in keys.items():
        if key not in ("score", "window", "normalizer", "dim"):
            assert config[key] is None, f"{key}: a family's default belongs on its module, not in the config"
        config[key] = {bool: True, int: 3, float: 0.5, str: "s"}[kind]  # as --config.model.attention.<key>=...
        with pytest.raises(TypeError):
            config[key] = [1, 2]  # typed: a wrong type is refused


def test_derived_keys_follow_dim():
    config = attention_config("scaled_dot", family="multi_head", dim=16)
    assert (attention_settings(config)["qk_dim"], attention_settings(config)["v_dim"]) == (16, 16)
    config.dim = 32  # overriding dim later moves qk_dim and v_dim with it (computed where read)
    assert (attention_settings(config)["qk_dim"], attention_settings(config)["v_dim"]) == (32, 32)
    config.qk_dim = 8
    assert (attention_settings(config)["qk_dim"], attention_settings(config)["v_dim"]) == (8, 8)


# The values of the attention_config of before (git show 0ae9e1b:attn_research/config_defaults.py), which the
# configs in configs/ relied on; the families' field defaults must give the same (heads aside: it was 1 for every
# family there, and each multi-head family now keeps its own default).
PREVIOUS_VALUES = {
    "half_width": 10,
    "max_len": 100,
    "temperature": 1.0,
    "normalize": False,
    "scale": 10.0,
    "causal": False,
    "dropout_rate": 0.0,
    "channels": 10,
    "filter_width": 31,
    "location_source": "previous",
    "att_win": 5,
    "fertility": 0.0,
    "forward_score": "location_aware",
    "transition_agent": False,
    "mode": "parallel",
    "noise_std": 1.0,
    "energy_bias_init": -4.0,
    "chunk_size": 2,
    "estimator": "reinforce",
    "eval_mode": "argmax",
    "gumbel_temperature": 1.0,
    "entropy_weight": 0.0,
    "baseline_decay": 0.9,
}


# The families of 0ae9e1b, whose configs relied on PREVIOUS_VALUES (a family added later may read a key of the same
# name with its own default, as the multi-head families do with heads).
PREVIOUS_FAMILIES = (
    "factored",
    "multi_head",
    "location_aware",
    "coverage",
    "forward",
    "multi_head_additive",
    "multi_head_location",
    "monotonic",
    "mocha",
    "hard",
)


@pytest.mark.parametrize("family", PREVIOUS_FAMILIES)
def test_settings_keep_the_previous_config_values(family):
    settings = attention_settings(attention_config("scaled_dot", family=family, dim=24))
    assert settings["family"] == family
    for key, value in settings.items():
        assert value is None or isinstance(value, (bool, int, float, str)), (key, value)
        if key in PREVIOUS_VALUES:
            assert value == PREVIOUS_VALUES[key], (family, key)
    assert settings.get("dim", settings.get("qk_dim")) == 24


def test_settings_record_only_what_the_family_reads():
    factored = attention_settings(attention_config("additive", dim=16))
    assert "heads" not in factored and "fertility" not in factored and factored["score"] == "additive"
    coverage = attention_settings(attention_config(family="coverage", dim=16, fertility=2.0))
    assert set(coverage) == {"family", "dim", "fertility", "temperature"} and coverage["fertility"] == 2.0
    hard = attention_settings(attention_config(family="hard", dim=16, entropy_weight=0.01))
    assert hard["entropy_weight"] == 0.01 and hard["window"] == "global"  # the trainer's keys and the base's


def _imports(path: pathlib.Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_attention_module_imports_the_config_module_and_the_package_has_no_import_cycle():
    modules = {p.stem: p for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    graph = {}
    for name, path in modules.items():
        imported = _imports(path)
        assert "attn_research.attention.config" not in imported, f"{name}.py imports the config module back"
        graph[name] = {m for m in modules if f"attn_research.attention.{m}" in imported}

    def visit(name, path):
        assert name not in path, f"import cycle: {' -> '.join(path + [name])}"
        for child in graph[name]:
            visit(child, path + [name])

    for name in graph:
        visit(name, [])
