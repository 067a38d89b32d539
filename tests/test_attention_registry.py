"""build_attention: every registered combination from a ConfigDict; helpful errors for unknown names."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from attn_research.attention import (
    FAMILIES,
    NORMALIZERS,
    SCORES,
    WINDOWS,
    Attention,
    MultiHeadAttention,
    build_attention,
    check_choice,
)
from attn_research.attention.catalogue import CATALOGUE
from tests.test_attention_reference import NORMALIZER_NAMES, SCORE_NAMES, WINDOW_NAMES


def test_registered_names_are_the_catalogue():
    """The registry holds exactly the documented names (so every combination below is every combination)."""
    assert set(SCORES) == set(SCORE_NAMES)
    assert set(WINDOWS) == set(WINDOW_NAMES)
    assert set(NORMALIZERS) == set(NORMALIZER_NAMES)
    assert set(FAMILIES) == {
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
    }
    for kind, names in (("score", SCORES), ("window", WINDOWS), ("normalizer", NORMALIZERS)):
        assert {e.name for e in CATALOGUE if e.kind == kind} == set(names)


def test_build_every_combination():
    built = 0
    for score, window, normalizer in itertools.product(SCORES, WINDOWS, NORMALIZERS):
        config = ml_collections.ConfigDict(
            dict(
                family="factored",
                score=score,
                window=window,
                normalizer=normalizer,
                dim=6,
                half_width=3,
                max_len=9,
                temperature=0.5,
                normalize=True,
                scale=2.0,
                query_chunk=5,
            )
        )
        module = build_attention(config)
        assert isinstance(module, Attention)
        assert (module.score, module.window, module.normalizer) == (score, window, normalizer)
        assert (
            module.dim,
            module.half_width,
            module.max_len,
            module.temperature,
            module.normalize,
            module.scale,
            module.query_chunk,
        ) == (6, 3, 9, 0.5, True, 2.0, 5)
        state = module.init_state(1, 3)
        np.testing.assert_array_equal(state["position"], [0])
        built += 1
    assert built == 8 * 3 * 4


@pytest.mark.parametrize("score", SCORE_NAMES)
def test_built_module_runs(score):
    """One run per score (rotating window and normalizer): the built module has the common interface."""
    i = SCORE_NAMES.index(score)
    window, normalizer = WINDOW_NAMES[i % 3], NORMALIZER_NAMES[i % 4]
    config = ml_collections.ConfigDict(
        dict(score=score, window=window, normalizer=normalizer, dim=6, half_width=2, max_len=9)
    )
    module = build_attention(config)
    rng = np.random.default_rng(i)
    q, k, v = (jnp.asarray(rng.normal(size=s), jnp.float32) for s in ((3, 4, 4), (3, 6, 4), (3, 6, 3)))
    mask = jnp.asarray([[True] * 6, [True] * 3 + [False] * 3, [False] * 6])
    params = module.init(jax.random.key(0), q, k, v, mask)
    out = module.apply(params, q, k, v, mask, module.init_state(3, 6))
    assert out.context.shape == (3, 4, 3) and out.weights.shape == (3, 4, 6)
    assert np.all(np.asarray(out.weights)[1, :, 3:] == 0.0)
    assert np.all(np.asarray(out.context)[2] == 0.0) and np.all(np.isfinite(out.context))


def test_defaults_and_multi_head():
    module = build_attention(ml_collections.ConfigDict({"score": "general"}))
    assert (module.window, module.normalizer, module.dim) == ("global", "softmax", Attention().dim)
    config = ml_collections.ConfigDict(
        dict(family="multi_head", heads=2, qk_dim=8, v_dim=6, causal=True, dropout_rate=0.1, out_dim=5)
    )
    module = build_attention(config)
    assert isinstance(module, MultiHeadAttention)
    assert (module.heads, module.qk_dim, module.v_dim, module.causal, module.dropout_rate, module.out_dim) == (
        2,
        8,
        6,
        True,
        0.1,
        5,
    )
    module = build_attention(ml_collections.ConfigDict(dict(family="multi_head", dim=16, heads=4)))
    assert (module.qk_dim, module.v_dim) == (16, 16)
    with pytest.raises(ValueError, match="scaled_dot"):
        build_attention(ml_collections.ConfigDict(dict(family="multi_head", score="additive")))


@pytest.mark.parametrize(
    "key,wrong,closest,valid",
    [
        ("score", "generl", "general", SCORE_NAMES),
        ("score", "aditive", "additive", SCORE_NAMES),
        ("window", "local-m", "local_m", WINDOW_NAMES),
        ("normalizer", "sparsmax", "sparsemax", NORMALIZER_NAMES),
        ("family", "multihead", "multi_head", ("factored", "multi_head")),
    ],
)
def test_unknown_name_lists_valid_names_and_suggests_closest(key, wrong, closest, valid):
    with pytest.raises(ValueError) as info:
        build_attention(ml_collections.ConfigDict({key: wrong}))
    message = str(info.value)
    assert repr(wrong) in message
    assert f"Did you mean {closest!r}?" in message
    for name in valid:
        assert name in message


def test_unknown_name_without_close_match():
    with pytest.raises(ValueError) as info:
        check_choice("attention score", "zzzzzz", SCORES)
    assert "Did you mean" not in str(info.value) and "dot" in str(info.value)
    assert check_choice("attention score", "dot", SCORES) == "dot"
