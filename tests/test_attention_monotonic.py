"""Monotonic attention (Raffel et al. 2017) and MoChA (Chiu & Raffel 2018) against NumPy loops of the papers'
equations, and the interface's promises: mass <= 1, zero weight on padding, no NaN on empty rows, finite
gradients, jit/vmap equal to eager, a parallel call equal to step-by-step calls, a hard index that never
moves back.

The references read the Flax params (energy weights) and compute in float64 with plain loops: eq. 9 in its
sum-of-products form (not the recurrence the module uses), the hard process of sec. 2.2, and eq. 20.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from jax.test_util import check_grads

from attn_research.attention import MonotonicAttention, MonotonicChunkwiseAttention, build_attention
from tests.helpers import fast_jit
from tests.test_attention_reference import np_score

B, T, S, DIM, VDIM = 3, 4, 6, 4, 3
# batch 0: every key; batch 1: a hole at key 1 and padding at 4, 5; batch 2: fully masked.
MASK = np.array([[1, 1, 1, 1, 1, 1], [1, 0, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0]], bool)
TOL = dict(rtol=1e-5, atol=1e-6)


def inputs(seed: int, query_len: int = T):
    rng = np.random.default_rng(seed)
    return (
        jnp.asarray(rng.normal(size=(B, query_len, DIM)), jnp.float32),
        jnp.asarray(rng.normal(size=(B, S, DIM)), jnp.float32),
        jnp.asarray(rng.normal(size=(B, S, VDIM)), jnp.float32),
    )


def random_params(module, seed: int, q, k, v):
    """Params of the right shapes, every entry N(0, 0.8^2) (r and g included), so p spreads over (0, 1)."""
    shapes = jax.eval_shape(module.init, jax.random.key(0), q, k, v, jnp.asarray(MASK))
    rng = np.random.default_rng(seed)
    return jax.tree_util.tree_map(lambda x: jnp.asarray(rng.normal(size=x.shape) * 0.8, x.dtype), shapes)


def jitted(module, train: bool):
    """module.apply(params, query, keys, values, mask, state=None, precomputed=None, rng=None), compiled once."""

    def apply(params, q, k, v, mask, state=None, precomputed=None, rng=None):
        rngs = None if rng is None else {"sampling": rng}
        return module.apply(params, q, k, v, mask, state, precomputed, train=train, rngs=rngs)

    return fast_jit(apply)


def decisive(energy_params: dict) -> dict:
    """The energy's params with gain g = 3 and r = -0.5: p far from 0.5, so the hard process stops and moves."""
    score = {**energy_params["AdditiveScore_0"], "g": jnp.asarray(3.0, jnp.float32)}
    return {"AdditiveScore_0": score, "r": jnp.asarray(-0.5, jnp.float32)}


# ------------------------------------------------------------------------------------- NumPy references
def np_energies(energy_params: dict, query, keys) -> np.ndarray:
    """e[b, i, j] = score(q_i, h_j) (+ r): the additive score of test_attention_reference, in float64."""
    score_params = energy_params["AdditiveScore_0"]
    query, keys = np.asarray(query, np.float64), np.asarray(keys, np.float64)
    e = np.array(
        [
            [
                [np_score("additive", score_params, query[b, i], keys[b, j], j) for j in range(keys.shape[1])]
                for i in range(query.shape[1])
            ]
            for b in range(query.shape[0])
        ]
    )
    return e + float(energy_params["r"]) if "r" in energy_params else e


def np_probabilities(energy_params: dict, query, keys, mask) -> np.ndarray:
    """p[b, i, j] = sigmoid(e) on allowed keys, 0 on masked ones."""
    return np.where(mask[:, None, :], 1.0 / (1.0 + np.exp(-np_energies(energy_params, query, keys))), 0.0)


def np_expected_alignment(p: np.ndarray, alpha_0: np.ndarray) -> np.ndarray:
    """Raffel et al. eq. 9: alpha_ij = p_ij sum_{k<=j} alpha_{i-1,k} prod_{l=k}^{j-1} (1 - p_il), per batch row."""
    batch, queries, keys = p.shape
    alpha = np.zeros_like(p)
    for b in range(batch):
        previous = alpha_0[b]
        for i in range(queries):
            for j in range(keys):
                alpha[b, i, j] = p[b, i, j] * sum(
                    previous[k] * math.prod(1.0 - p[b, i, m] for m in range(k, j)) for k in range(j + 1)
                )
            previous = alpha[b, i]
    return alpha


def np_hard_alignment(p: np.ndarray, start_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sec. 2.2: from t_{i-1}, the first j >= t_{i-1} with p_ij >= 0.5; none: zero row, index kept.
    Returns (alignment [batch, queries, keys], index after each query [batch, queries])."""
    batch, queries, keys = p.shape
    alpha, indices = np.zeros_like(p), np.zeros((batch, queries), int)
    for b in range(batch):
        t = start_index[b]
        for i in range(queries):
            for j in range(t, keys):
                if p[b, i, j] >= 0.5:
                    alpha[b, i, j], t = 1.0, j
                    break
            indices[b, i] = t
    return alpha, indices


def np_chunkwise(alpha: np.ndarray, u: np.ndarray, mask: np.ndarray, w: int) -> np.ndarray:
    """Chiu & Raffel eq. 20: beta_ij = sum_{k=j}^{j+w-1} alpha_ik exp(u_ij) / sum_{l=k-w+1}^{k} exp(u_il),
    the inner sums over allowed keys only."""
    batch, queries, keys = alpha.shape
    beta = np.zeros_like(alpha)
    for b in range(batch):
        for i in range(queries):
            for j in range(keys):
                if not mask[b, j]:
                    continue
                for k in range(j, min(j + w, keys)):
                    denominator = sum(math.exp(u[b, i, m]) for m in range(max(k - w + 1, 0), k + 1) if mask[b, m])
                    beta[b, i, j] += alpha[b, i, k] * math.exp(u[b, i, j]) / denominator
    return beta


def first_key_alignment() -> np.ndarray:
    alpha_0 = np.zeros((B, S))
    alpha_0[:, 0] = 1.0
    return alpha_0


def test_references_on_hand_worked_cases():
    """The references themselves, on cases worked by hand."""
    p = np.array([[[0.5, 0.5, 0.5]]])
    # eq. 9 from alpha_0 = [1, 0, 0]: 0.5, 0.5 * 0.5, 0.5 * 0.25
    np.testing.assert_allclose(np_expected_alignment(p, np.array([[1.0, 0, 0]])), [[[0.5, 0.25, 0.125]]])
    hard, index = np_hard_alignment(np.array([[[0.9, 0.2, 0.7], [0.1, 0.4, 0.3]]]), np.array([1]))
    np.testing.assert_array_equal(hard, [[[0, 0, 1], [0, 0, 0]]])
    np.testing.assert_array_equal(index, [[2, 2]])
    # eq. 20 with alpha one-hot at k = 2, w = 2: softmax of u over keys 1, 2
    u = np.array([[[0.0, 1.0, 2.0]]])
    beta = np_chunkwise(np.array([[[0.0, 0.0, 1.0]]]), u, np.ones((1, 3), bool), 2)
    np.testing.assert_allclose(beta, [[[0.0, math.e / (math.e + math.e**2), math.e**2 / (math.e + math.e**2)]]])


# ------------------------------------------------------------------------------------- monotonic attention
@pytest.mark.parametrize("mode", ["recursive", "parallel"])
def test_expected_alignment_matches_eq9(mode):
    q, k, v = inputs(0)
    module = MonotonicAttention(mode=mode, dim=5, noise_std=0.0)
    params = random_params(module, 1, q, k, v)
    out = jitted(module, train=True)(params, q, k, v, jnp.asarray(MASK))

    p = np_probabilities(params["params"]["energy"], q, k, MASK)
    alpha = np_expected_alignment(p, first_key_alignment())
    np.testing.assert_allclose(out.weights, alpha, **TOL)
    np.testing.assert_allclose(out.context, alpha @ np.asarray(v, np.float64), **TOL)
    np.testing.assert_allclose(out.state["alignment"], alpha[:, -1], **TOL)
    weights = np.asarray(out.weights)
    assert np.all(weights >= 0) and np.all(weights.sum(-1) <= 1.0 + 1e-6), "the expected alignment has mass <= 1"
    assert np.all(weights[np.broadcast_to(~MASK[:, None, :], weights.shape)] == 0.0), "weight on padding"
    assert np.all(weights[2] == 0.0) and np.all(np.asarray(out.context)[2] == 0.0)
    assert np.all(np.isfinite(out.context))


def test_recursive_and_parallel_agree_with_noise():
    """Same pre-sigmoid noise (same 'sampling' rng): the two training modes give the same alignment; the noise
    changes it; train=False ignores it (no rng needed)."""
    q, k, v = inputs(2)
    mask = jnp.asarray(MASK)
    recursive, parallel = (MonotonicAttention(mode=m, dim=5, noise_std=1.0) for m in ("recursive", "parallel"))
    params = random_params(recursive, 3, q, k, v)
    rng = jax.random.key(7)
    a = jitted(recursive, train=True)(params, q, k, v, mask, rng=rng)
    b = jitted(parallel, train=True)(params, q, k, v, mask, rng=rng)
    np.testing.assert_allclose(a.weights, b.weights, **TOL)
    np.testing.assert_allclose(a.context, b.context, **TOL)
    quiet = MonotonicAttention(mode="parallel", dim=5, noise_std=0.0)
    assert not np.allclose(jitted(quiet, train=True)(params, q, k, v, mask).weights, b.weights, atol=1e-3), (
        "noise_std=1 must perturb p"
    )
    assert np.all(np.asarray(b.weights)[np.broadcast_to(~MASK[:, None, :], (B, T, S))] == 0.0)
    np.testing.assert_array_equal(
        jitted(parallel, train=False)(params, q, k, v, mask).weights,
        jitted(quiet, train=False)(params, q, k, v, mask).weights,
    )


def test_hard_process_matches_reference_and_never_moves_back():
    q, k, v = inputs(4, query_len=6)
    mask = jnp.asarray(MASK)
    module = MonotonicAttention(mode="hard", dim=5, noise_std=0.0)
    params = random_params(module, 11, q, k, v)
    params = {"params": {"energy": decisive(params["params"]["energy"])}}
    p = np_probabilities(params["params"]["energy"], q, k, MASK)
    alpha, indices = np_hard_alignment(p, np.zeros(B, int))
    assert alpha[:2].sum(-1).min() == 0 and indices.max() > 0, "the case must both move forward and not stop"

    evaluation = jitted(module, train=False)(params, q, k, v, mask)  # the hard process whatever the mode
    np.testing.assert_array_equal(evaluation.weights, alpha)
    np.testing.assert_allclose(evaluation.context, alpha @ np.asarray(v, np.float64), **TOL)
    np.testing.assert_array_equal(jitted(module, train=True)(params, q, k, v, mask).weights, alpha)
    soft_mode = MonotonicAttention(mode="parallel", dim=5, noise_std=0.0)
    np.testing.assert_array_equal(jitted(soft_mode, train=False)(params, q, k, v, mask).weights, alpha)

    step_fn = jitted(module, train=False)
    state, seen = module.init_state(B, S), []
    for i in range(q.shape[1]):
        step = step_fn(params, q[:, i : i + 1], k, v, mask, state)
        np.testing.assert_array_equal(step.weights[:, 0], alpha[:, i])
        assert np.all(np.asarray(step.state["index"]) >= np.asarray(state["index"])), "the index moved back"
        state = step.state
        seen.append(np.asarray(state["index"]))
    np.testing.assert_array_equal(np.stack(seen, 1), indices)


@pytest.mark.parametrize(
    "module",
    [
        MonotonicAttention(mode="parallel", dim=5, noise_std=0.0),
        MonotonicChunkwiseAttention(mode="recursive", chunk_size=2, dim=5, noise_std=0.0),
    ],
    ids=["monotonic", "mocha"],
)
def test_parallel_call_equals_steps_and_transforms(module):
    """One call over every query == the decoder's step-by-step calls (training; evaluation's hard process:
    test_hard_process_matches_reference_and_never_moves_back); the precomputed key projection gives the same
    result; vmap == one call per batch; jit == eager. (Everything but the eager call is one compiled program.)"""
    q, k, v = inputs(6)
    q2, k2, v2 = inputs(8)
    mask, mask2 = jnp.asarray(MASK), jnp.asarray(np.roll(MASK, 1, axis=0))
    params = random_params(module, 7, q, k, v)

    @fast_jit
    def run(params):
        state, steps = module.init_state(B, S), []
        for i in range(T):
            steps.append(module.apply(params, q[:, i : i + 1], k, v, mask, state, train=True))
            state = steps[-1].state
        full = module.apply(params, q, k, v, mask, train=True)
        memory = module.apply(params, k, method=module.precompute)
        with_memory = module.apply(params, q, k, v, mask, None, memory, train=True)
        other = module.apply(params, q2, k2, v2, mask2, train=True)
        stacked = [jnp.stack(pair) for pair in ((q, q2), (k, k2), (v, v2), (mask, mask2))]
        batched = jax.vmap(lambda *a: module.apply(params, *a, train=True))(*stacked)
        return full, steps, with_memory, other, batched

    full, steps, with_memory, other, batched = run(params)
    for i, step in enumerate(steps):
        np.testing.assert_allclose(step.weights[:, 0], full.weights[:, i], **TOL)
        np.testing.assert_allclose(step.context[:, 0], full.context[:, i], **TOL)
    for name in ("alignment", "index"):
        np.testing.assert_allclose(steps[-1].state[name], full.state[name], **TOL)
    np.testing.assert_allclose(with_memory.weights, full.weights, **TOL)
    for n, single in enumerate((full, other)):
        np.testing.assert_allclose(batched.weights[n], single.weights, **TOL)
        np.testing.assert_allclose(batched.context[n], single.context, **TOL)
    eager = module.apply(params, q, k, v, mask, train=True)
    np.testing.assert_allclose(eager.weights, full.weights, **TOL)
    np.testing.assert_allclose(eager.context, full.context, **TOL)


@pytest.mark.parametrize("mode", ["recursive", "parallel"])
def test_gradients_are_finite_and_match_finite_differences(mode):
    """Gradients w.r.t. params, query, keys and values: finite (the fully masked row included), zero for padding
    values, and (parallel mode, whose clipped cumulative product is the delicate one) equal to finite
    differences (float32, so loose)."""
    q, k, v = inputs(9)
    mask = jnp.asarray(MASK)
    module = MonotonicChunkwiseAttention(mode=mode, chunk_size=2, dim=5, noise_std=0.0)
    params = random_params(module, 10, q, k, v)
    readout = jnp.asarray(np.random.default_rng(0).normal(size=(B, T, VDIM)), jnp.float32)

    @jax.jit
    def f(p, q_, k_, v_):
        out = module.apply(p, q_, k_, v_, mask, train=True)
        return jnp.sum(out.context * readout)

    grads = jax.grad(f, argnums=(0, 1, 2, 3))(params, q, k, v)
    for g in jax.tree_util.tree_leaves(grads):
        assert np.all(np.isfinite(g))
    assert np.all(np.asarray(grads[3])[~MASK] == 0.0), "padding values must get zero gradient"
    assert np.any(np.asarray(grads[0]["params"]["monotonic"]["energy"]["r"]) != 0.0)
    if mode == "parallel":
        check_grads(f, (params, q, k, v), order=1, modes=("rev",), eps=3e-3, atol=3e-2, rtol=3e-2)


# ------------------------------------------------------------------------------------------------ MoChA
@pytest.mark.parametrize("chunk_size", [1, 3])
def test_mocha_soft_weights_match_eq20(chunk_size):
    q, k, v = inputs(11)
    module = MonotonicChunkwiseAttention(mode="recursive", chunk_size=chunk_size, dim=5, noise_std=0.0)
    params = random_params(module, 12, q, k, v)
    out = jitted(module, train=True)(params, q, k, v, jnp.asarray(MASK))

    p = np_probabilities(params["params"]["monotonic"]["energy"], q, k, MASK)
    alpha = np_expected_alignment(p, first_key_alignment())
    u = np_energies(params["params"]["chunk_energy"], q, k)
    beta = np_chunkwise(alpha, u, MASK, chunk_size)
    np.testing.assert_allclose(out.weights, beta, **TOL)
    np.testing.assert_allclose(out.context, beta @ np.asarray(v, np.float64), **TOL)
    np.testing.assert_allclose(out.state["alignment"], alpha[:, -1], **TOL)  # the state is the monotonic alpha
    if chunk_size == 1:
        np.testing.assert_allclose(out.weights, alpha, **TOL)  # a chunk of one key is monotonic attention
    weights = np.asarray(out.weights)
    np.testing.assert_allclose(weights.sum(-1), alpha.sum(-1), **TOL)  # beta redistributes alpha's mass
    assert np.all(weights[np.broadcast_to(~MASK[:, None, :], weights.shape)] == 0.0)
    assert np.all(weights[2] == 0.0) and np.all(np.isfinite(out.context))


def test_mocha_hard_attends_to_the_chunk_ending_at_the_stop():
    """Evaluation: the chunk softmax over keys t_i - w + 1 .. t_i (masked keys excluded), zero if no stop."""
    chunk_size = 3
    q, k, v = inputs(13, query_len=5)
    module = MonotonicChunkwiseAttention(mode="parallel", chunk_size=chunk_size, dim=5, noise_std=0.0)
    params = random_params(module, 14, q, k, v)
    out = jitted(module, train=False)(params, q, k, v, jnp.asarray(MASK))

    p = np_probabilities(params["params"]["monotonic"]["energy"], q, k, MASK)
    alpha, indices = np_hard_alignment(p, np.zeros(B, int))
    u = np_energies(params["params"]["chunk_energy"], q, k)
    expected = np.zeros_like(alpha)
    for b, i in zip(*np.nonzero(alpha.sum(-1))):
        t = indices[b, i]
        chunk = [j for j in range(max(t - chunk_size + 1, 0), t + 1) if MASK[b, j]]
        z = sum(math.exp(u[b, i, j]) for j in chunk)
        for j in chunk:
            expected[b, i, j] = math.exp(u[b, i, j]) / z
    assert expected[:2].sum(-1).min() == 0 and expected.sum(-1).max() > 0, "the case must both stop and not stop"
    np.testing.assert_allclose(out.weights, expected, **TOL)
    np.testing.assert_array_equal(out.state["index"], indices[:, -1])


# ----------------------------------------------------------------------------------------------- registry
def test_registry_builds_both_and_names_the_valid_choices():
    config = ml_collections.ConfigDict(
        dict(
            family="mocha", score="general", dim=6, mode="recursive", noise_std=0.5, energy_bias_init=-2.0, chunk_size=4
        )
    )
    module = build_attention(config)
    assert isinstance(module, MonotonicChunkwiseAttention)
    assert (module.score, module.mode, module.dim, module.noise_std, module.energy_bias_init, module.chunk_size) == (
        "general",
        "recursive",
        6,
        0.5,
        -2.0,
        4,
    )
    assert isinstance(build_attention({"family": "monotonic"}), MonotonicAttention)
    with pytest.raises(ValueError, match="parallel"):
        build_attention({"family": "monotonic", "mode": "paralel"})
    with pytest.raises(ValueError, match="additive"):
        build_attention({"family": "mocha", "score": "location"})
    q, k, v = inputs(0)
    with pytest.raises(ValueError, match="chunk_size"):
        MonotonicChunkwiseAttention(chunk_size=0).init(jax.random.key(0), q, k, v)
