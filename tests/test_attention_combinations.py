"""Every score x window x normalizer combination of the FactoredAttention, against the NumPy reference
and the interface's promises (DESIGN.md): weights on allowed keys only, zero context for empty rows,
no NaN, finite gradients, jit/vmap equal to eager, decoder steps equal to the parallel call.

Cost: one set of array shapes (B, T, S) = (3, 4, 6) is shared by almost every test, so eager mode
compiles each primitive once per worker; jit compiles once per combination.
"""

from __future__ import annotations

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jax.test_util import check_grads

from attn_research.attention import FactoredAttention
from tests.grids import pairwise, tiered
from tests.test_attention_reference import (
    LOCAL_P_MODULE,
    NORMALIZER_NAMES,
    SCORE_NAMES,
    WINDOW_NAMES,
    np_attention,
    np_local_p_position,
)

B, T, S, DIM, VDIM = 3, 4, 6, 4, 3
MAX_LEN = 5  # the location score has no logit for key position 5
HALF_WIDTH = 1
# batch 0: every key; batch 1: keys 0, 1 and 4 padded (local_m's row t = 0 then has no allowed key);
# batch 2: fully masked.
MASK = np.array([[1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 0, 1], [0, 0, 0, 0, 0, 0]], bool)
ATOL = RTOL = 1e-5


def randomize(params, seed: int, scale: float = 0.7):
    rng = np.random.default_rng(seed)
    return jax.tree_util.tree_map(lambda x: jnp.asarray(rng.normal(size=x.shape) * scale, x.dtype), params)


def inputs(seed: int, batch=B, query_len=T, key_len=S):
    rng = np.random.default_rng(seed)
    return (
        jnp.asarray(rng.normal(size=(batch, query_len, DIM)), jnp.float32),
        jnp.asarray(rng.normal(size=(batch, key_len, DIM)), jnp.float32),
        jnp.asarray(rng.normal(size=(batch, key_len, VDIM)), jnp.float32),
    )


def make(score, window, normalizer, half_width=HALF_WIDTH, **kwargs):
    temperature = 0.7 if normalizer == "softmax" else 1.0
    return FactoredAttention(
        score=score,
        window=window,
        normalizer=normalizer,
        dim=5,
        half_width=half_width,
        max_len=MAX_LEN,
        temperature=temperature,
        **kwargs,
    )


def init(module, seed, q, k, v, mask):
    """Random params of the right shapes (eval_shape: init is traced, never run)."""
    return randomize(jax.eval_shape(module.init, jax.random.key(0), q, k, v, jnp.asarray(mask)), seed)


def check_weight_properties(weights, allowed, window, mask):
    """The interface's promises on [batch, query_len, key_len] weights, given the reference's allowed set."""
    weights = np.asarray(weights)
    assert np.all(np.isfinite(weights)) and np.all(weights >= 0.0)
    assert np.all(weights[~allowed] == 0.0), "weight on a masked / out-of-window key"
    assert np.all(weights[~np.broadcast_to(mask[:, None, :], weights.shape)] == 0.0), "weight on padding"
    sums = weights.sum(-1)
    has_key = allowed.any(-1)
    assert np.all(sums[~has_key] == 0.0), "rows with no allowed key must sum to 0"
    if window == "local_p":  # the Gaussian factor exp(-(s - p_t)^2 / 2 sigma^2) <= 1 (Luong eq. 10)
        assert np.all(sums[has_key] <= 1.0 + 1e-6) and np.all(sums[has_key] > 0.0)
    else:  # softmax, sparsemax, hardmax and sigmoid all sum to 1 over the allowed keys
        np.testing.assert_allclose(sums[has_key], 1.0, atol=1e-5)


ALL = list(itertools.product(SCORE_NAMES, WINDOW_NAMES, NORMALIZER_NAMES))
# make test: the 32 cells holding every (score, window), (score, normalizer) and (window, normalizer) pair;
# make test-all: all 96.
FAST = pairwise(SCORE_NAMES, WINDOW_NAMES, NORMALIZER_NAMES)


@pytest.mark.parametrize("score,window,normalizer", tiered(ALL, FAST))
def test_combination(score, window, normalizer):
    seed = ALL.index((score, window, normalizer))
    q, k, v = inputs(seed)
    module = make(score, window, normalizer)
    params = init(module, seed + 1000, q, k, v, MASK)
    mask = jnp.asarray(MASK)

    out = module.apply(params, q, k, v, mask)
    assert out.context.shape == (B, T, VDIM) and out.weights.shape == (B, T, S)
    assert out.weights.dtype == jnp.float32 and out.context.dtype == jnp.float32
    np.testing.assert_array_equal(out.state["position"], [T] * B)

    # The paper's formulas, computed independently.
    ref_context, ref_weights, ref_allowed = np_attention(
        score,
        window,
        normalizer,
        params,
        q,
        k,
        v,
        MASK,
        half_width=HALF_WIDTH,
        max_len=MAX_LEN,
        temperature=module.temperature,
    )
    np.testing.assert_allclose(out.weights, ref_weights, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(out.context, ref_context, rtol=RTOL, atol=ATOL)
    check_weight_properties(out.weights, ref_allowed, window, MASK)
    if score == "location":
        assert np.all(np.asarray(out.weights)[..., MAX_LEN:] == 0.0)
    if window == "local_m":  # batch 1, t = 0: the window {0, 1} is all padding
        assert not ref_allowed[1, 0].any() and np.all(np.asarray(out.weights)[1, 0] == 0.0)
    # The fully masked batch element: zero context, no NaN.
    assert np.all(np.asarray(out.context)[2] == 0.0) and np.all(np.isfinite(out.context))

    # query_len 1: a decoder step at position t = 2 (through the state) is row 2 of the parallel call.
    step = module.apply(params, q[:, 2:3], k, v, mask, {"position": jnp.full((B,), 2, jnp.int32)})
    assert step.weights.shape == (B, 1, S) and step.context.shape == (B, 1, VDIM)
    np.testing.assert_allclose(step.weights[:, 0], out.weights[:, 2], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(step.context[:, 0], out.context[:, 2], rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(step.state["position"], [3] * B)

    # Gradients w.r.t. params and every input are finite (also through the fully masked row).
    def loss(p, q_, k_, v_):
        o = module.apply(p, q_, k_, v_, mask)
        return jnp.sum(o.context**2) + jnp.sum(o.weights * jnp.arange(S, dtype=jnp.float32))

    grads = jax.grad(loss, argnums=(0, 1, 2, 3))(params, q, k, v)
    for g in jax.tree_util.tree_leaves(grads):
        assert np.all(np.isfinite(g))
    assert np.all(np.asarray(grads[3])[~MASK] == 0.0), "padding values must get zero gradient"

    # jax.jit(jax.vmap(apply)) over two stacked independent batches (one compile tests both transforms)
    # equals eager on each batch.
    q2, k2, v2 = inputs(seed + 5000)
    mask2 = jnp.asarray(np.roll(MASK, 1, axis=0))
    other = module.apply(params, q2, k2, v2, mask2)
    stacked = [jnp.stack(pair) for pair in ((q, q2), (k, k2), (v, v2), (mask, mask2))]
    batched = jax.jit(jax.vmap(module.apply, in_axes=(None, 0, 0, 0, 0)))(params, *stacked)
    np.testing.assert_array_equal(batched.state["position"], [[T] * B] * 2)
    for field in ("weights", "context"):
        np.testing.assert_allclose(getattr(batched, field)[0], getattr(out, field), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(getattr(batched, field)[1], getattr(other, field), rtol=1e-6, atol=1e-6)


SHAPES = [(3, 4, 6), (3, 1, 6), (2, 3, 7)]  # few shapes: eager mode compiles per shape


@settings(max_examples=25, deadline=None, database=None)
@given(
    combo=st.sampled_from(ALL),
    shape=st.sampled_from(SHAPES),
    seed=st.integers(0, 2**31 - 1),
    p_mask=st.sampled_from([0.3, 0.8, 1.0]),
    start=st.integers(0, 5),
    half_width=st.integers(1, 3),
    normalize=st.booleans(),
)
def test_combination_random(combo, shape, seed, p_mask, start, half_width, normalize):
    """Random combination, shapes, masks, decoder position, window half-width and (for the additive score)
    weight normalization, against the reference."""
    score, window, normalizer = combo
    batch, query_len, key_len = shape
    rng = np.random.default_rng(seed)
    q, k, v = inputs(seed, batch, query_len, key_len)
    mask = rng.random((batch, key_len)) < p_mask
    positions = start + np.arange(query_len)[None, :].repeat(batch, 0)
    module = make(score, window, normalizer, half_width=half_width, normalize=normalize)
    params = init(module, seed % 1000, q, k, v, mask)
    state = {"position": jnp.full((batch,), start, jnp.int32)}
    out = module.apply(params, q, k, v, jnp.asarray(mask), state)
    ref_context, ref_weights, ref_allowed = np_attention(
        score,
        window,
        normalizer,
        params,
        q,
        k,
        v,
        mask,
        positions=positions,
        half_width=half_width,
        max_len=MAX_LEN,
        temperature=module.temperature,
    )
    np.testing.assert_allclose(out.weights, ref_weights, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(out.context, ref_context, rtol=RTOL, atol=ATOL)
    check_weight_properties(out.weights, ref_allowed, window, mask)
    empty = ~ref_allowed.any(-1)
    assert np.all(np.asarray(out.context)[empty] == 0.0)
    np.testing.assert_array_equal(out.state["position"], [start + query_len] * batch)


# ---------------------------------------------------------------------------------------- gradients
GRAD_CASES = [
    (score, WINDOW_NAMES[(i + j) % 3], normalizer)
    for i, score in enumerate(SCORE_NAMES)
    for j, normalizer in enumerate(("softmax", "sparsemax", "sigmoid"))
]


@pytest.mark.parametrize("score,window,normalizer", GRAD_CASES)
def test_check_grads(score, window, normalizer):
    """Autodiff against finite differences, w.r.t. params, query, keys and values (float32: the modules
    compute in float32 whatever the input dtype, so x64 would not help; step and tolerances are loose).
    Every differentiable score meets every differentiable normalizer, and every window each of them."""
    seed = GRAD_CASES.index((score, window, normalizer))
    q, k, v = inputs(seed + 77)
    mask = jnp.asarray(MASK)  # with padding and a fully masked row (whose gradient must be 0, not NaN)
    module = make(score, window, normalizer, half_width=2)
    params = init(module, seed + 2000, q, k, v, mask)
    readout = jnp.asarray(np.random.default_rng(seed).normal(size=(B, T, VDIM)), jnp.float32)

    def f(p, q_, k_, v_):
        out = module.apply(p, q_, k_, v_, mask)
        return jnp.sum(out.context * readout, axis=-1)

    check_grads(f, (params, q, k, v), order=1, modes=("fwd", "rev"), eps=3e-3, atol=2e-2, rtol=2e-2)


def test_hardmax_has_zero_score_gradient():
    """hardmax is piecewise constant: the gradient w.r.t. the score's params and the query is 0; the values
    still get the one-hot weights as gradient."""
    q, k, v = inputs(3)
    module = make("general", "global", "hardmax")
    params = init(module, 4, q, k, v, MASK)
    grads = jax.grad(
        lambda p, q_, v_: jnp.sum(module.apply(p, q_, k, v_, jnp.asarray(MASK)).context), argnums=(0, 1, 2)
    )(params, q, v)
    assert np.all(np.asarray(grads[0]["params"]["GeneralScore_0"]["W_a"]) == 0.0)
    assert np.all(np.asarray(grads[1]) == 0.0)
    weights = module.apply(params, q, k, v, jnp.asarray(MASK)).weights
    np.testing.assert_allclose(grads[2], np.broadcast_to(np.asarray(weights).sum(1)[..., None], v.shape))


# ------------------------------------------------------------------------------- windows vs global
@pytest.mark.parametrize("score", SCORE_NAMES)
def test_local_m_with_wide_window_is_global(score):
    q, k, v = inputs(11)
    mask = jnp.asarray(MASK)
    for normalizer in NORMALIZER_NAMES:
        glob = make(score, "global", normalizer)
        params = init(glob, 12, q, k, v, MASK)
        expected = glob.apply(params, q, k, v, mask)
        for half_width in (S, S + 3):  # D >= key_len
            local = make(score, "local_m", normalizer, half_width=half_width).apply(params, q, k, v, mask)
            np.testing.assert_allclose(local.weights, expected.weights, rtol=1e-6, atol=1e-7)
            np.testing.assert_allclose(local.context, expected.context, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("score", SCORE_NAMES)
def test_local_p_with_wide_window_is_gaussian_weighted_global(score):
    """D large enough that [p_t - D, p_t + D] covers every key: a_t(s) = global a_t(s) exp(-(s-p_t)^2/(2 sigma^2)),
    sigma = D/2, p_t = S sigmoid(v_p^T tanh(W_p h_t)) with S the number of unpadded keys (Luong eqs. 9-10)."""
    q, k, v = inputs(13)
    mask = jnp.asarray(MASK)
    for normalizer, half_width in (("softmax", 2 * S), ("sparsemax", 2 * S), ("softmax", 10_000)):
        local = make(score, "local_p", normalizer, half_width=half_width)
        params = init(local, 14, q, k, v, MASK)
        got = local.apply(params, q, k, v, mask)
        global_params = {"params": {name: value for name, value in params["params"].items() if name != LOCAL_P_MODULE}}
        glob = make(score, "global", normalizer).apply(global_params, q, k, v, mask)
        gaussian = np.zeros((B, T, S))
        sigma = half_width / 2.0
        for b, t, s in itertools.product(range(B), range(T), range(S)):
            p_t = np_local_p_position(params["params"][LOCAL_P_MODULE], q[b, t], MASK[b].sum())
            gaussian[b, t, s] = math.exp(-((s - p_t) ** 2) / (2 * sigma**2))
        expected = np.asarray(glob.weights, np.float64) * gaussian
        np.testing.assert_allclose(got.weights, expected, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(got.context, np.einsum("bqk,bkd->bqd", expected, v), rtol=1e-5, atol=1e-6)
        if half_width == 2 * S:  # a real re-weighting, not ~1
            assert np.abs(gaussian[:2] - 1.0).max() > 1e-2


def test_local_p_predicts_position_from_source_length():
    """p_t scales with the unpadded source length S: a padded copy of the keys moves the window."""
    q, k, v = inputs(15)
    module = make("dot", "local_p", "softmax", half_width=1)
    params = init(module, 16, q, k, v, MASK)
    full = module.apply(params, q, k, v, jnp.ones((B, S), bool))
    half = module.apply(params, q, k, v, jnp.asarray(np.broadcast_to(np.arange(S) < S // 2, (B, S))))
    for b, t in itertools.product(range(B), range(T)):
        for weights, length in ((full.weights, S), (half.weights, S // 2)):
            p_t = np_local_p_position(params["params"][LOCAL_P_MODULE], q[b, t], length)
            support = np.flatnonzero(np.asarray(weights)[b, t] > 0)
            assert np.all(np.abs(support - p_t) <= 1.0 + 1e-6)


# ---------------------------------------------------------------------------------- decoder steps
@pytest.mark.parametrize("window", WINDOW_NAMES)
@pytest.mark.parametrize("score", ["general", "additive", "location"])
def test_step_by_step_equals_parallel(score, window):
    """Teacher-forced parallel call == a decoder that calls once per step with the state it got back."""
    q, k, v = inputs(21)
    mask = jnp.asarray(MASK)
    module = make(score, window, "softmax", half_width=1)
    params = init(module, 22, q, k, v, MASK)
    parallel = module.apply(params, q, k, v, mask, module.init_state(B, S))
    state = module.init_state(B, S)
    np.testing.assert_array_equal(state["position"], np.zeros(B))
    for t in range(T):
        step = module.apply(params, q[:, t : t + 1], k, v, mask, state)
        np.testing.assert_allclose(step.weights[:, 0], parallel.weights[:, t], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(step.context[:, 0], parallel.context[:, t], rtol=1e-6, atol=1e-6)
        state = step.state
        np.testing.assert_array_equal(state["position"], [t + 1] * B)
    if window == "local_m":  # the window really moved with t: row t attends to |s - t| <= 1 only
        weights = np.asarray(parallel.weights)[0]
        for t in range(T):
            assert set(np.flatnonzero(weights[t] > 0)) == {s for s in range(S) if abs(s - t) <= 1}


def test_local_m_step_sees_its_own_window():
    """A decoder step at t = 4 (query_len 1) attends to s in {3, 4, 5} only, whatever the query index."""
    q, k, v = inputs(23)
    module = make("dot", "local_m", "softmax", half_width=1)
    params = init(module, 24, q, k, v, MASK)
    step = module.apply(params, q[:, :1], k, v, None, {"position": jnp.full((B,), 4, jnp.int32)})
    weights = np.asarray(step.weights)
    assert np.all(weights[:, 0, :3] == 0.0)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-6)
    e = np.einsum("bd,bsd->bs", np.asarray(q[:, 0], np.float64), np.asarray(k, np.float64))[:, 3:] / 0.7
    np.testing.assert_allclose(weights[:, 0, 3:], np.exp(e) / np.exp(e).sum(-1, keepdims=True), rtol=1e-5)


# ----------------------------------------------------------------------------------------- errors
def test_interface_errors():
    q, k, v = inputs(0)
    with pytest.raises(ValueError, match="mask must have shape"):
        make("dot", "global", "softmax").init(jax.random.key(0), q, k, v, jnp.ones((B, S + 1), bool))
    with pytest.raises(ValueError, match="differ in"):
        make("dot", "global", "softmax").init(jax.random.key(0), q, k, v[:, :-1])
    with pytest.raises(ValueError, match="unknown attention score"):
        FactoredAttention(score="bogus").init(jax.random.key(0), q, k, v)
    with pytest.raises(ValueError, match="half_width"):
        make("dot", "local_p", "softmax", half_width=0).init(jax.random.key(0), q, k, v)
    with pytest.raises(ValueError, match="half_width"):
        make("dot", "local_m", "softmax", half_width=-1).init(jax.random.key(0), q, k, v)
