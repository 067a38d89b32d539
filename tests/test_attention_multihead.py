"""Multi-head attention (Vaswani et al. 2017, eq. 1, sec. 3.2.2) against a NumPy implementation reading the
Flax params, its masks, its fused path, and sinusoidal positions (sec. 3.5) against the formula."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attn_research.attention import MultiHeadAttention, sinusoidal_positions
from tests.test_attention_reference import np_multihead, np_sinusoidal

B, T, S = 3, 4, 5
QDIM, KDIM, VDIM = 5, 4, 3
HEADS, QK, V = 2, 8, 6
MASK = np.array([[1, 1, 1, 1, 1], [1, 0, 1, 1, 0], [0, 0, 0, 0, 0]], bool)  # batch 2 fully masked


def randomize(params, seed: int, scale: float = 0.5):
    rng = np.random.default_rng(seed)
    return jax.tree_util.tree_map(lambda x: jnp.asarray(rng.normal(size=x.shape) * scale, x.dtype), params)


def inputs(seed: int, query_len=T, self_attention=False):
    rng = np.random.default_rng(seed)
    query = jnp.asarray(rng.normal(size=(B, query_len, QDIM)), jnp.float32)
    if self_attention:
        return query, query, query
    return (
        query,
        jnp.asarray(rng.normal(size=(B, S, KDIM)), jnp.float32),
        jnp.asarray(rng.normal(size=(B, S, VDIM)), jnp.float32),
    )


def setup(seed=0, self_attention=False, **kwargs):
    module = MultiHeadAttention(heads=HEADS, qk_dim=QK, v_dim=V, **kwargs)
    q, k, v = inputs(seed, self_attention=self_attention)
    params = randomize(jax.eval_shape(module.init, jax.random.key(0), q, k, v), seed + 100)
    return module, params, q, k, v


@pytest.mark.parametrize("out_dim", [None, 7])
def test_multihead_matches_numpy(out_dim):
    module, params, q, k, v = setup(1, out_dim=out_dim)
    out = jax.jit(module.apply)(params, q, k, v, jnp.asarray(MASK))
    allowed = np.broadcast_to(MASK[:, None, :], (B, T, S))
    ref_context, ref_weights = np_multihead(params, q, k, v, allowed)
    assert out.context.shape == (B, T, out_dim or QDIM)
    assert out.weights.shape == (B, HEADS, T, S) and out.weights.dtype == jnp.float32
    np.testing.assert_allclose(out.weights, ref_weights, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out.context, ref_context, rtol=1e-5, atol=1e-5)
    # padding: exactly zero weight; fully masked batch element: zero weights and context, no NaN.
    weights = np.asarray(out.weights)
    assert np.all(weights[np.broadcast_to(~allowed[:, None], weights.shape)] == 0.0)
    np.testing.assert_allclose(np.asarray(out.weights)[:2].sum(-1), 1.0, atol=1e-6)
    assert np.all(np.asarray(out.weights)[2] == 0.0) and np.all(np.asarray(out.context)[2] == 0.0)
    assert np.all(np.isfinite(out.context))
    np.testing.assert_array_equal(out.state["position"], [T] * B)


@pytest.mark.parametrize("return_weights", [True, False])
def test_multihead_residual_scores_match_numpy(return_weights):
    """RealFormer's residual attention (He et al. 2021, eq. 4): softmax(Q K^T / sqrt(d_k) + prior) V, and the
    summed scores handed on in state["scores"]; the first layer (no prior) hands on its own scores."""
    module, params, q, k, v = setup(3, residual_scores=True, return_weights=return_weights)
    prior = np.random.default_rng(4).normal(size=(B, HEADS, T, S)).astype(np.float32)
    allowed = np.broadcast_to(MASK[:, None, :], (B, T, S))
    apply = jax.jit(module.apply)
    for given in (prior, None):
        out = apply(params, q, k, v, jnp.asarray(MASK), prior_scores=None if given is None else jnp.asarray(given))
        ref_context, ref_weights, ref_scores = np_multihead(params, q, k, v, allowed, given, return_scores=True)
        np.testing.assert_allclose(out.context, ref_context, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(out.state["scores"], ref_scores, rtol=1e-5, atol=1e-5)
        if return_weights:
            np.testing.assert_allclose(out.weights, ref_weights, rtol=1e-5, atol=1e-5)
    plain, _, _, _, _ = setup(3)
    with pytest.raises(ValueError, match="residual_scores=True"):
        plain.apply(params, q, k, v, jnp.asarray(MASK), prior_scores=jnp.asarray(prior))


def test_multihead_causal_self_attention():
    module, params, x, _, _ = setup(2, self_attention=True, causal=True)
    mask = np.ones((B, T), bool)
    mask[1, 0] = False  # batch 1, t = 0 sees only key 0, which is padding: an empty row
    out = jax.jit(module.apply)(params, x, x, x, jnp.asarray(mask))
    weights = np.asarray(out.weights)
    above = np.triu(np.ones((T, T), bool), k=1)
    assert np.all(weights[:, :, above] == 0.0), "a query attends to a future key"
    allowed = mask[:, None, :] & ~above[None]
    ref_context, ref_weights = np_multihead(params, x, x, x, allowed)
    np.testing.assert_allclose(weights, ref_weights, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out.context, ref_context, rtol=1e-5, atol=1e-5)
    assert np.all(np.asarray(out.context)[1, 0] == 0.0) and np.all(weights[1, :, 0] == 0.0)
    np.testing.assert_allclose(weights[0, :, 0, 0], 1.0)  # the first query sees only itself


def test_multihead_incremental_causal_decoding_equals_parallel():
    """One query at a time over the full key cache, positions from the state, equals the causal parallel call."""
    module, params, x, _, _ = setup(3, self_attention=True, causal=True)
    apply = jax.jit(module.apply)  # one compile for the parallel call, one for all the steps
    parallel = apply(params, x, x, x, None)
    state = module.init_state(B, T)
    for t in range(T):
        step = apply(params, x[:, t : t + 1], x, x, None, state)
        np.testing.assert_allclose(step.weights[:, :, 0], parallel.weights[:, :, t], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(step.context[:, 0], parallel.context[:, t], rtol=1e-5, atol=1e-6)
        state = step.state
    np.testing.assert_array_equal(state["position"], [T] * B)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("v_dim", [QK, V])
def test_multihead_fused_path_equals_explicit(causal, v_dim, monkeypatch):
    """return_weights=False (jax.nn.dot_product_attention) gives the explicit path's context, zero rows included.

    The fused kernel needs d_v == d_k; with d_v != d_k (v_dim = V) the module must still work.
    """
    fused_calls = []
    original = jax.nn.dot_product_attention
    monkeypatch.setattr(
        jax.nn, "dot_product_attention", lambda *args, **kwargs: fused_calls.append(1) or original(*args, **kwargs)
    )
    explicit = MultiHeadAttention(heads=HEADS, qk_dim=QK, v_dim=v_dim, causal=causal)
    x = inputs(4, self_attention=True)[0]
    params = randomize(jax.eval_shape(explicit.init, jax.random.key(0), x, x, x), 104)
    fused = MultiHeadAttention(heads=HEADS, qk_dim=QK, v_dim=v_dim, causal=causal, return_weights=False)
    mask = jnp.asarray(np.array([[1, 1, 1, 1], [0, 1, 1, 0], [0, 0, 0, 0]], bool))
    a = jax.jit(explicit.apply)(params, x, x, x, mask)
    assert not fused_calls
    b = jax.jit(fused.apply)(params, x, x, x, mask)
    assert b.weights is None
    assert bool(fused_calls) == (v_dim == QK)
    np.testing.assert_allclose(b.context, a.context, rtol=1e-5, atol=1e-6)
    assert np.all(np.asarray(b.context)[2] == 0.0) and np.all(np.isfinite(b.context))
    if causal:  # batch 1, t = 0: its only visible key is padding
        assert np.all(np.asarray(b.context)[1, 0] == 0.0)


def test_multihead_gradients_finite_with_masked_rows():
    module, params, q, k, v = setup(5)
    mask = jnp.asarray(MASK)
    grads = jax.jit(
        jax.grad(lambda p, q_, k_, v_: jnp.sum(module.apply(p, q_, k_, v_, mask).context ** 2), argnums=(0, 1, 2, 3))
    )(params, q, k, v)
    for g in jax.tree_util.tree_leaves(grads):
        assert np.all(np.isfinite(g))
    assert np.all(np.asarray(grads[3])[~MASK] == 0.0)


def test_multihead_bfloat16():
    module, params, q, k, v = setup(6, dtype=jnp.bfloat16)
    out = jax.jit(module.apply)(params, *(x.astype(jnp.bfloat16) for x in (q, k, v)), jnp.asarray(MASK))
    ref = jax.jit(MultiHeadAttention(heads=HEADS, qk_dim=QK, v_dim=V).apply)(params, q, k, v, jnp.asarray(MASK))
    assert out.weights.dtype == jnp.float32 and out.context.dtype == jnp.bfloat16
    np.testing.assert_allclose(out.weights, ref.weights, atol=3e-2)
    np.testing.assert_allclose(np.asarray(out.context, np.float32), ref.context, atol=1e-1, rtol=5e-2)


def test_multihead_rejects_indivisible_dims():
    q, k, v = inputs(0)
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadAttention(heads=3, qk_dim=8, v_dim=6).init(jax.random.key(0), q, k, v)


def test_sinusoidal_positions_formula():
    positions = np.array([[0, 1, 2, 7], [50, 3, 999, 0]])
    encode = jax.jit(sinusoidal_positions, static_argnums=1)
    got = np.asarray(encode(jnp.asarray(positions), 8))
    assert got.shape == (2, 4, 8) and got.dtype == np.float32
    np.testing.assert_allclose(got, np_sinusoidal(positions, 8), atol=2e-4)  # float32 angles up to ~1000 rad
    small = np.asarray(encode(jnp.arange(6), 6))
    np.testing.assert_allclose(small, np_sinusoidal(np.arange(6), 6), atol=1e-6)
    with pytest.raises(ValueError, match="even"):
        sinusoidal_positions(jnp.arange(3), 5)
