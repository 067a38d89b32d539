"""Scores and normalizers, each against an independent NumPy implementation of its paper's formula;
sparsemax as a Euclidean projection; bfloat16 inputs; chunked additive energies."""

from __future__ import annotations

import functools
import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attn_research.attention import NORMALIZERS, FactoredAttention, normalizers, scores
from tests.test_attention_reference import (
    NORMALIZER_NAMES,
    SCORE_NAMES,
    np_attention,
    np_normalize,
    np_scores,
    np_simplex_projection_bisect,
    np_sparsemax,
)

ATOL = RTOL = 1e-5
SETTINGS = settings(max_examples=20, deadline=None, database=None)


def randomize(params, seed: int, scale: float = 0.7):
    """Replace every parameter by random normal values (so that biases, g, etc. are not at their init)."""
    rng = np.random.default_rng(seed)
    return jax.tree_util.tree_map(lambda x: jnp.asarray(rng.normal(size=x.shape) * scale, x.dtype), params)


def random_params(module, *args, seed: int, scale: float = 0.7):
    """Random params of the module's shapes (eval_shape traces init without running it)."""
    return randomize(jax.eval_shape(module.init, jax.random.key(0), *args), seed, scale)


def normal(rng, shape, dtype=jnp.float32):
    return jnp.asarray(rng.normal(size=shape), dtype)


SCORE_MODULES = {
    "dot": lambda: scores.DotScore(),
    "scaled_dot": lambda: scores.ScaledDotScore(),
    "general": lambda: scores.GeneralScore(),
    "multiplicative": lambda: scores.MultiplicativeScore(dim=5),
    "additive": lambda: scores.AdditiveScore(dim=5),
    "additive_normalized": lambda: scores.AdditiveScore(dim=5, normalize=True),
    "concat": lambda: scores.ConcatScore(dim=5),
    "location": lambda: scores.LocationScore(max_len=4),
    "cosine": lambda: scores.CosineScore(),
}
SAME_DIM = {"dot", "scaled_dot", "cosine"}


# ----------------------------------------------------------------------------------------- scores
@pytest.mark.parametrize("name", sorted(SCORE_MODULES))
def test_score_matches_numpy_formula(name):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    key_dim = 4 if name in SAME_DIM else 3  # the parametrized scores take query_dim != key_dim
    query, keys = normal(rng, (3, 4, 4)), normal(rng, (3, 6, key_dim))
    module = SCORE_MODULES[name]()
    params = random_params(module, query, keys, seed=1)
    got = np.asarray(jax.jit(module.apply)(params, query, keys))
    assert got.shape == (3, 4, 6) and got.dtype == np.float32
    expected = np_scores(name.replace("_normalized", ""), params.get("params", {}), query, keys, max_len=4)
    if name == "location":
        # key positions >= max_len = 4 have no logit: -inf, so they can never be attended to.
        assert np.all(np.isneginf(got[..., 4:]))
        got, expected = got[..., :4], expected[..., :4]
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


def test_location_score_with_fewer_keys_than_max_len():
    rng = np.random.default_rng(2)
    query, keys = normal(rng, (3, 4, 4)), normal(rng, (3, 2, 3))
    module = scores.LocationScore(max_len=4)
    params = random_params(module, query, keys, seed=3)
    got = module.apply(params, query, keys)
    assert got.shape == (3, 4, 2)
    np.testing.assert_allclose(
        got, np_scores("location", params["params"], query, keys, max_len=4), rtol=RTOL, atol=ATOL
    )


def test_additive_normalize_has_gain_and_bias():
    """tfa BahdanauAttention(normalize=True): params g (init sqrt(1/d)) and b (init 0); v is rescaled by g/||v||."""
    query, keys = jnp.ones((1, 2, 3)), jnp.ones((1, 4, 3))
    params = scores.AdditiveScore(dim=5, normalize=True).init(jax.random.key(0), query, keys)["params"]
    np.testing.assert_allclose(params["g"], np.sqrt(1 / 5), rtol=1e-6)
    np.testing.assert_array_equal(params["b"], np.zeros(5))
    plain = scores.AdditiveScore(dim=5).init(jax.random.key(0), query, keys)["params"]
    assert "g" not in plain and "b" not in plain
    # The score is invariant to the scale of v (only its direction counts) and linear in g.
    rng = np.random.default_rng(3)
    query, keys = normal(rng, (1, 2, 3)), normal(rng, (1, 4, 3))
    params = randomize({"params": params}, seed=4)
    module = scores.AdditiveScore(dim=5, normalize=True)
    base = module.apply(params, query, keys)
    scaled_v = jax.tree_util.tree_map(lambda x: x, params)
    scaled_v["params"]["v"] = params["params"]["v"] * 7.0
    np.testing.assert_allclose(module.apply(scaled_v, query, keys), base, rtol=1e-5, atol=1e-6)
    doubled_g = jax.tree_util.tree_map(lambda x: x, params)
    doubled_g["params"]["g"] = params["params"]["g"] * 2.0
    np.testing.assert_allclose(module.apply(doubled_g, query, keys), 2.0 * base, rtol=1e-5, atol=1e-6)


def test_concat_is_additive_with_split_weights():
    """ConcatScore's docstring: W_a = [W2; W1] row-wise makes concat equal to additive (no weight norm)."""
    rng = np.random.default_rng(5)
    query, keys = normal(rng, (2, 3, 4)), normal(rng, (2, 5, 3))
    concat = scores.ConcatScore(dim=6)
    cparams = random_params(concat, query, keys, seed=6)["params"]
    aparams = {"W2": {"kernel": cparams["W_a_query"]}, "W1": {"kernel": cparams["W_a_key"]}, "v": cparams["v_a"][:, 0]}
    np.testing.assert_allclose(
        concat.apply({"params": cparams}, query, keys),
        scores.AdditiveScore(dim=6).apply({"params": aparams}, query, keys),
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.parametrize("name", ["dot", "scaled_dot", "cosine"])
def test_same_dim_scores_reject_different_dims(name):
    with pytest.raises(ValueError, match="query_dim == key_dim"):
        SCORE_MODULES[name]().init(jax.random.key(0), jnp.ones((1, 2, 4)), jnp.ones((1, 3, 5)))


def test_location_rejects_bad_max_len():
    with pytest.raises(ValueError, match="max_len"):
        scores.LocationScore(max_len=0).init(jax.random.key(0), jnp.ones((1, 2, 4)), jnp.ones((1, 3, 4)))


def test_cosine_is_bounded_by_g_and_finite_on_zero_vectors():
    rng = np.random.default_rng(7)
    query = normal(rng, (1, 3, 4)).at[0, 0].set(0.0)  # a zero query must not give NaN
    keys = normal(rng, (1, 5, 4))
    module = scores.CosineScore(scale=3.0)
    params = module.init(jax.random.key(0), query, keys)
    got = np.asarray(module.apply(params, query, keys))
    assert np.all(np.isfinite(got)) and np.all(np.abs(got) <= 3.0 + 1e-5)
    np.testing.assert_array_equal(got[0, 0], 0.0)
    grads = jax.grad(lambda p, q: jnp.sum(module.apply(p, q, keys)), argnums=(0, 1))(params, query)
    assert all(np.all(np.isfinite(g)) for g in jax.tree_util.tree_leaves(grads))


# ------------------------------------------------------------------------------------ normalizers
@functools.cache
def _normalizer(name, temperature=1.0):
    """The normalizer as a jitted function (jit compiles once per shape; eager mode compiles every op)."""
    if name == "softmax":
        return jax.jit(lambda e, allowed: normalizers.softmax(e, allowed, temperature))
    return jax.jit(NORMALIZERS.get(name))


@pytest.mark.parametrize(
    "name,temperature",
    [("softmax", 1.0), ("softmax", 0.3), ("softmax", 4.0), ("sparsemax", 1.0), ("hardmax", 1.0), ("sigmoid", 1.0)],
)
def test_normalizer_matches_numpy_formula(name, temperature):
    rng = np.random.default_rng(11)
    e = normal(rng, (3, 4, 7)) * 2.0
    allowed = rng.random((3, 4, 7)) < 0.6
    allowed[0, 1] = False  # a fully masked row
    allowed[1, 2] = [True] + [False] * 6  # a single allowed key
    got = np.asarray(_normalizer(name, temperature)(e, jnp.asarray(allowed)))
    expected = np_normalize(name, e, allowed, temperature)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)
    assert np.all(got[~allowed] == 0.0)
    np.testing.assert_array_equal(got[0, 1], 0.0)
    np.testing.assert_allclose(got[1, 2], [1.0] + [0.0] * 6, atol=1e-6)


@SETTINGS
@given(
    name=st.sampled_from(NORMALIZER_NAMES),
    seed=st.integers(0, 2**31 - 1),
    key_len=st.integers(1, 9),
    p_allowed=st.sampled_from([0.2, 0.7, 1.0]),
    temperature=st.sampled_from([0.25, 1.0, 2.5]),
    spread=st.sampled_from([0.1, 1.0, 10.0]),
)
def test_normalizers_random(name, seed, key_len, p_allowed, temperature, spread):
    """Random scores and masks; the effective key length varies through the mask (one shape, one compile)."""
    rng = np.random.default_rng(seed)
    shape = (3, 4, 9)
    e = normal(rng, shape) * spread
    allowed = (rng.random(shape) < p_allowed) & (np.arange(9) < key_len)
    got = np.asarray(_normalizer(name, temperature)(e, jnp.asarray(allowed)))
    np.testing.assert_allclose(got, np_normalize(name, e, allowed, temperature), rtol=RTOL, atol=ATOL)
    assert np.all(got[~allowed] == 0.0) and np.all(got >= 0.0)
    sums = got.sum(-1)
    has_key = allowed.any(-1)
    np.testing.assert_allclose(sums[has_key], 1.0, atol=1e-5)
    assert np.all(sums[~has_key] == 0.0)


def test_softmax_temperature_validated():
    with pytest.raises(ValueError, match="temperature"):
        normalizers.softmax(jnp.zeros((1, 2)), jnp.ones((1, 2), bool), 0.0)
    with pytest.raises(ValueError, match="same shape"):
        normalizers.sparsemax(jnp.zeros((1, 2)), jnp.ones((1, 3), bool))


def test_hardmax_ties_take_first_index():
    got = normalizers.hardmax(jnp.asarray([[1.0, 2.0, 2.0, 0.0]]), jnp.asarray([[True, True, True, True]]))
    np.testing.assert_array_equal(got, [[0.0, 1.0, 0.0, 0.0]])
    got = normalizers.hardmax(jnp.asarray([[1.0, 2.0, 2.0, 0.0]]), jnp.asarray([[True, False, True, True]]))
    np.testing.assert_array_equal(got, [[0.0, 0.0, 1.0, 0.0]])


@pytest.mark.parametrize("name", ["softmax", "sparsemax", "sigmoid"])
def test_normalizer_gradients_float64(name):
    """check_grads in float64 (the normalizers keep the scores' dtype)."""
    from jax.test_util import check_grads

    rng = np.random.default_rng(13)
    allowed = jnp.asarray(rng.random((2, 3, 5)) < 0.7).at[0, 0].set(False)
    with jax.enable_x64(True):
        e = jnp.asarray(rng.normal(size=(2, 3, 5)), jnp.float64)
        fn = _normalizer(name, 0.7)
        check_grads(lambda x: fn(x, allowed), (e,), order=1, modes=("fwd", "rev"), eps=1e-6, atol=1e-6, rtol=1e-6)
        # Gradients on disallowed keys and fully masked rows are exactly 0, never NaN.
        grad = jax.grad(lambda x: jnp.sum(fn(x, allowed) * jnp.arange(5.0)))(e)
        assert np.all(np.isfinite(grad)) and np.all(np.asarray(grad)[~np.asarray(allowed)] == 0.0)


# -------------------------------------------------------------------------------------- sparsemax
@pytest.mark.parametrize(
    "z,expected",
    [
        ([1.0, 0.5, -1.0], [0.75, 0.25, 0.0]),  # k(z) = 2, tau = (1 + 0.5 - 1) / 2 = 0.25
        ([0.1, 0.1], [0.5, 0.5]),  # tau = (0.2 - 1) / 2 = -0.4
        ([3.0, 0.0, 0.0], [1.0, 0.0, 0.0]),  # k(z) = 1, tau = 2
        ([0.5, 0.3, 0.2], [0.5, 0.3, 0.2]),  # already on the simplex: tau = 0
        ([0.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]),
        ([2.0, 1.5, 0.0, -5.0], [0.75, 0.25, 0.0, 0.0]),  # tau = (3.5 - 1) / 2 = 1.25
    ],
)
def test_sparsemax_hand_worked(z, expected):
    got = np.asarray(_normalizer("sparsemax")(jnp.asarray([z], jnp.float32), jnp.ones((1, len(z)), bool)))[0]
    np.testing.assert_allclose(got, expected, atol=1e-6)
    zeros = np.asarray(expected) == 0.0
    assert np.all(got[zeros] == 0.0), "sparsemax must give true zeros outside the support"
    assert np.all(got[~zeros] > 0.0)


def test_sparsemax_leaves_masked_keys_out_of_the_projection():
    # masked position 1 (with a huge score) must not take part: the rest is the projection of [1, 0.5, -1].
    got = normalizers.sparsemax(jnp.asarray([[1.0, 100.0, 0.5, -1.0]]), jnp.asarray([[True, False, True, True]]))
    np.testing.assert_allclose(got, [[0.75, 0.0, 0.25, 0.0]], atol=1e-6)
    assert np.asarray(got)[0, 1] == 0.0 and np.asarray(got)[0, 3] == 0.0


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), key_len=st.integers(1, 10), spread=st.sampled_from([0.05, 1.0, 5.0]))
def test_sparsemax_is_the_euclidean_projection(seed, key_len, spread):
    """The first key_len keys are allowed; the rest (masked) must stay out of the projection."""
    rng = np.random.default_rng(seed)
    scores_ = np.asarray(normal(rng, (4, 10)) * spread)
    allowed = np.broadcast_to(np.arange(10) < key_len, scores_.shape)
    full = np.asarray(_normalizer("sparsemax")(jnp.asarray(scores_), jnp.asarray(allowed)), np.float64)
    assert np.all(full[:, key_len:] == 0.0)
    z, got = scores_[:, :key_len], full[:, :key_len]
    for row, p in zip(z, got):
        np.testing.assert_allclose(p, np_sparsemax(row), atol=1e-5)  # Algorithm 1
        np.testing.assert_allclose(p, np_simplex_projection_bisect(row), atol=1e-5)
        # on the simplex
        assert np.all(p >= 0.0) and abs(p.sum() - 1.0) < 1e-5
        # no random point of the simplex (nor a vertex) is closer to z
        candidates = np.concatenate([rng.dirichlet(np.ones(key_len), size=200), np.eye(key_len)])
        dist = np.linalg.norm(candidates - row, axis=-1)
        assert np.all(dist >= np.linalg.norm(p - row) - 1e-5)
        # KKT: p_s > 0 => z_s - p_s is one constant tau; p_s = 0 => z_s <= tau (true zeros off the support)
        support = p > 0
        tau = (row - p)[support]
        np.testing.assert_allclose(tau, tau[0], atol=1e-5)
        assert np.all(row[~support] <= tau[0] + 1e-5)
        assert np.all(p[~support] == 0.0)


# ---------------------------------------------------------------------------------------- bfloat16
@pytest.mark.parametrize("score", SCORE_NAMES)
def test_bfloat16_inputs(score):
    """bf16 queries/keys/values: scores and weights float32, context bf16, weights close to float32."""
    rng = np.random.default_rng(17)
    q32, k32, v32 = normal(rng, (3, 4, 4)), normal(rng, (3, 6, 4)), normal(rng, (3, 6, 3))
    q16, k16, v16 = (x.astype(jnp.bfloat16) for x in (q32, k32, v32))
    up = [x.astype(jnp.float32) for x in (q16, k16, v16)]  # the bf16 inputs, exactly, in float32
    mask = jnp.asarray([[True] * 6, [True, True, True, False, False, True], [False] * 6])

    score_module = SCORE_MODULES[score]()
    sparams = random_params(score_module, q32, k32, seed=2, scale=0.5)
    assert score_module.apply(sparams, q16, k16).dtype == jnp.float32

    for normalizer, window in [(n, "global") for n in NORMALIZER_NAMES] + [("softmax", "local_p")]:
        module = FactoredAttention(score=score, window=window, normalizer=normalizer, dim=5, half_width=2, max_len=4)
        params = random_params(module, q32, k32, v32, mask, seed=3, scale=0.5)
        out16 = module.apply(params, q16, k16, v16, mask)
        out32 = module.apply(params, q32, k32, v32, mask)
        out_up = module.apply(params, *up, mask)
        assert out16.weights.dtype == jnp.float32
        assert out16.context.dtype == jnp.bfloat16
        assert np.all(np.asarray(out16.context)[2] == 0)
        # Scoring happens in float32: with the same (bf16-representable) inputs the weights agree tightly.
        if normalizer != "hardmax":
            np.testing.assert_allclose(out16.weights, out_up.weights, rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(out16.weights, out32.weights, atol=5e-2)
        else:  # one-hot: an argmax may flip under bf16 rounding, so compare with the rounded inputs only
            np.testing.assert_array_equal(out16.weights, out_up.weights)
        np.testing.assert_allclose(np.asarray(out16.context, np.float32), out_up.context, rtol=2e-2, atol=2e-2)


# --------------------------------------------------------------------------------------- chunking
@pytest.mark.parametrize("score,normalize", [("additive", False), ("additive", True), ("concat", False)])
def test_additive_chunking_equals_unchunked(score, normalize):
    """query_len 10 > query_chunk 4: three chunks, the last one padded."""
    query_len = 10
    rng = np.random.default_rng(19)
    query, keys, values = normal(rng, (2, query_len, 4)), normal(rng, (2, 6, 3)), normal(rng, (2, 6, 2))
    mask = jnp.asarray([[True] * 6, [True, False, True, True, False, True]])
    chunked = FactoredAttention(score=score, normalize=normalize, dim=5, query_chunk=4)
    whole = FactoredAttention(score=score, normalize=normalize, dim=5, query_chunk=64)
    params = random_params(whole, query, keys, values, mask, seed=20)
    got = jax.jit(chunked.apply)(params, query, keys, values, mask)
    expected = jax.jit(whole.apply)(params, query, keys, values, mask)
    np.testing.assert_allclose(got.weights, expected.weights, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got.context, expected.context, rtol=1e-6, atol=1e-6)
    ref_context, ref_weights, _ = np_attention(score, "global", "softmax", params, query, keys, values, mask)
    np.testing.assert_allclose(got.weights, ref_weights, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(got.context, ref_context, rtol=RTOL, atol=ATOL)

    if not normalize:  # gradients through the chunked map: checked once (each jit of a grad costs ~1 s)
        return

    def loss(module):
        return lambda p, q: jnp.sum(module.apply(p, q, keys, values, mask).context ** 2)

    g_chunked = jax.jit(jax.grad(loss(chunked), argnums=(0, 1)))(params, query)
    g_whole = jax.jit(jax.grad(loss(whole), argnums=(0, 1)))(params, query)
    for a, b in zip(jax.tree_util.tree_leaves(g_chunked), jax.tree_util.tree_leaves(g_whole)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("score", ["multiplicative", "additive", "concat", "general"])
def test_precomputed_keys_give_the_same_attention(score):
    """FactoredAttention.precompute(keys) (W1 h_s once per sentence) then per-step calls == plain calls."""
    from attn_research.attention import build_attention

    rng = np.random.default_rng(11)
    query, keys = normal(rng, (2, 3, 4)), normal(rng, (2, 5, 6))
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    attention = build_attention({"score": score, "dim": 7})
    params = attention.init(jax.random.key(0), query, keys, keys, mask)
    plain = attention.apply(params, query, keys, keys, mask)
    memory = attention.apply(params, keys, method=attention.precompute)
    if score == "general":
        assert memory is None
    else:
        w1 = params["params"][f"{score.capitalize()}Score_0"]
        kernel = w1["W_a_key"] if score == "concat" else w1["W1"]["kernel"]
        np.testing.assert_allclose(memory, np.einsum("bki,id->bkd", keys, kernel), rtol=1e-5, atol=1e-6)
    cached = attention.apply(params, query, keys, keys, mask, precomputed=memory)
    np.testing.assert_allclose(cached.weights, plain.weights, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(cached.context, plain.context, rtol=1e-6, atol=1e-7)
