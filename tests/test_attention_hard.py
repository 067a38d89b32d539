"""Hard stochastic attention (Xu et al. 2015, sec. 4.1): sampling, evaluation modes, the REINFORCE estimator
(unbiased on a toy problem with a known gradient), its baseline and entropy term, Gumbel-softmax
straight-through (Jang et al. 2017), and a tiny Seq2Seq that trains with it.

The references are written from the equations: the alignment in NumPy float64 from the additive score of
test_attention_reference, the exact gradient of E[r_s] = sum_s softmax(theta)_s r_s by jax.grad of that
closed form, dH/dtheta_k = -p_k (log p_k + H) for the entropy.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import orbax.checkpoint as ocp
import pytest

from attn_research.attention import FactoredAttention, HardAttention, build_attention
from attn_research.attention.hard import (
    ReinforceSettings,
    alignment_entropy,
    gumbel_straight_through,
    position_log_prob,
    reinforce_loss,
    reinforce_settings,
    sample_position,
    update_baseline,
)
from attn_research.data import load_dataset, make_batches
from attn_research.models import build_model
from attn_research.training.checkpoint import Checkpoints
from attn_research.training.optimizer import make_optimizer
from attn_research.training.state import create_train_state
from attn_research.training.steps import train_step
from tests.helpers import fast_jit, seq2seq_task, tiny_config
from tests.test_attention_reference import np_score

B, T, S, DIM, VDIM = 3, 4, 5, 4, 3
# batch 0: every key; batch 1: keys 1 and 4 padded; batch 2: fully masked.
MASK = np.array([[1, 1, 1, 1, 1], [1, 0, 1, 1, 0], [0, 0, 0, 0, 0]], bool)
TOL = dict(rtol=1e-5, atol=1e-6)


def inputs(seed: int):
    rng = np.random.default_rng(seed)
    return (
        jnp.asarray(rng.normal(size=(B, T, DIM)), jnp.float32),
        jnp.asarray(rng.normal(size=(B, S, DIM)), jnp.float32),
        jnp.asarray(rng.normal(size=(B, S, VDIM)), jnp.float32),
    )


def make(estimator: str = "reinforce", eval_mode: str = "argmax") -> HardAttention:
    return HardAttention(
        base=FactoredAttention(score="additive", dim=5),
        estimator=estimator,
        eval_mode=eval_mode,
        gumbel_temperature=0.5,
    )


def random_params(module, seed: int, q, k, v):
    shapes = jax.eval_shape(module.init, jax.random.key(0), q, k, v, jnp.asarray(MASK))
    rng = np.random.default_rng(seed)
    return jax.tree_util.tree_map(lambda x: jnp.asarray(rng.normal(size=x.shape) * 1.5, x.dtype), shapes)


def np_alignment(params, query, keys, mask) -> np.ndarray:
    """a[b, t, s] = softmax over the allowed keys of v^T tanh(W1 h_s + W2 h_t) (Bahdanau eq. 6); 0 elsewhere."""
    score_params = params["params"]["base"]["AdditiveScore_0"]
    query, keys = np.asarray(query, np.float64), np.asarray(keys, np.float64)
    a = np.zeros((B, query.shape[1], S))
    for b in range(B):
        for t in range(query.shape[1]):
            e = np.array([np_score("additive", score_params, query[b, t], keys[b, s], s) for s in range(S)])
            if mask[b].any():
                exps = np.where(mask[b], np.exp(e - e[mask[b]].max()), 0.0)
                a[b, t] = exps / exps.sum()
    return a


def np_entropy(a: np.ndarray) -> np.ndarray:
    return -np.sum(np.where(a > 0, a * np.log(np.where(a > 0, a, 1.0)), 0.0), axis=-1)


# ------------------------------------------------------------------------------------------------ module
def test_training_samples_one_allowed_key_and_reports_its_log_prob():
    q, k, v = inputs(0)
    module = make()
    params = random_params(module, 1, q, k, v)
    a = np_alignment(params, q, k, MASK)

    @fast_jit
    def sample(rng):
        return module.apply(params, q, k, v, jnp.asarray(MASK), train=True, rngs={"sampling": rng})

    out = sample(jax.random.key(3))
    weights = np.asarray(out.weights)
    assert set(np.unique(weights)) <= {0.0, 1.0}
    np.testing.assert_array_equal(weights.sum(-1), [[1.0] * T, [1.0] * T, [0.0] * T])
    assert np.all(weights[np.broadcast_to(~MASK[:, None, :], weights.shape)] == 0.0), "sampled a padding key"
    chosen = weights.argmax(-1)
    np.testing.assert_allclose(out.context[:2], np.asarray(v)[np.arange(2)[:, None], chosen[:2]], **TOL)
    assert np.all(np.asarray(out.context)[2] == 0.0)
    np.testing.assert_allclose(out.state["log_prob"][:2], np.log(a[[0, 1], -1, chosen[:2, -1]]), rtol=1e-5)
    np.testing.assert_allclose(out.state["entropy"], np_entropy(a[:, -1]), rtol=1e-5, atol=1e-6)
    assert out.state["log_prob"][2] == 0.0 and out.state["entropy"][2] == 0.0
    np.testing.assert_array_equal(out.state["position"], [T] * B)

    # The positions follow Multinoulli(a): frequencies over 3000 draws within 4 standard errors.
    draws = 3000
    counts = np.asarray(jax.vmap(lambda r: sample(r).weights)(jax.random.split(jax.random.key(4), draws))).sum(0)
    se = np.sqrt(a * (1 - a) / draws)
    assert np.all(np.abs(counts / draws - a) <= 4 * se + 1e-9)


def test_evaluation_modes_need_no_rng():
    q, k, v = inputs(5)
    mask = jnp.asarray(MASK)
    argmax, expectation = make(eval_mode="argmax"), make(eval_mode="expectation")
    params = random_params(argmax, 6, q, k, v)
    a = np_alignment(params, q, k, MASK)

    @fast_jit
    def run(params):  # no rngs: apply would raise if evaluation drew from 'sampling'
        state, steps = argmax.init_state(B, S), []
        for t in range(T):  # a decoder's step-by-step calls
            steps.append(argmax.apply(params, q[:, t : t + 1], k, v, mask, state))
            state = steps[-1].state
        return argmax.apply(params, q, k, v, mask), expectation.apply(params, q, k, v, mask), steps

    out, expected, steps = run(params)
    one_hot = np.where(MASK.any(-1)[:, None, None], np.eye(S)[a.argmax(-1)], 0.0)
    np.testing.assert_array_equal(out.weights, one_hot)
    np.testing.assert_allclose(expected.weights, a, **TOL)
    for t, step in enumerate(steps):  # equal one call over every query
        np.testing.assert_array_equal(step.weights[:, 0], out.weights[:, t])
    np.testing.assert_allclose(steps[-1].state["entropy"], out.state["entropy"], **TOL)
    np.testing.assert_allclose(out.state["entropy"], np_entropy(a[:, -1]), rtol=1e-5, atol=1e-6)


def test_bad_configuration_names_the_valid_choices():
    with pytest.raises(ValueError, match="reinforce"):
        build_attention({"family": "hard", "estimator": "reinforc"})
    with pytest.raises(ValueError, match="expectation"):
        build_attention({"family": "hard", "eval_mode": "mean"})
    config = ml_collections.ConfigDict(
        dict(family="hard", score="general", estimator="gumbel", eval_mode="expectation", gumbel_temperature=0.3)
    )
    module = build_attention(config)
    assert (module.base.score, module.estimator, module.eval_mode, module.gumbel_temperature) == (
        "general",
        "gumbel",
        "expectation",
        0.3,
    )
    q, k, v = inputs(0)
    with pytest.raises(ValueError, match="local_p"):
        HardAttention(base=FactoredAttention(window="local_p")).init(jax.random.key(0), q, k, v)


# ------------------------------------------------------------------------------------------- estimators
def test_reinforce_estimator_is_unbiased_on_a_toy_problem():
    """A categorical over K positions with logits theta and a fixed reward r_s: the mean of the estimator's
    gradient over 20000 samples matches -grad E[r_s] (E[r_s] = sum_s softmax(theta)_s r_s) within 4 standard
    errors, with any constant baseline."""
    theta = jnp.asarray([0.3, -1.0, 1.2, 0.0, 0.5], jnp.float32)
    reward = jnp.asarray([1.0, -2.0, 0.5, 3.0, -0.5], jnp.float32)
    samples = 20000
    exact = np.asarray(jax.grad(lambda th: -jnp.sum(jax.nn.softmax(th) * reward))(theta))
    positions = sample_position(jax.random.key(0), jnp.broadcast_to(jax.nn.softmax(theta), (samples, 5)))

    def surrogate(th, position):  # one sample: batch 1, one step
        log_prob = position_log_prob(jax.nn.softmax(th)[None, None, :], position[None, None])
        loss, _ = reinforce_loss(
            log_prob,
            jnp.zeros((1, 1)),
            jnp.ones((1, 1), bool),
            -reward[position][None],
            jnp.asarray(0.7),
            entropy_weight=0.0,
        )
        return loss

    per_sample = np.asarray(fast_jit(jax.vmap(jax.grad(surrogate), in_axes=(None, 0)))(theta, positions), np.float64)
    mean, se = per_sample.mean(0), per_sample.std(0, ddof=1) / np.sqrt(samples)
    assert np.linalg.norm(exact) > 20 * se.max(), "too few samples for the test to tell"
    assert np.all(np.abs(mean - exact) <= 4 * se), (mean, exact, se)

    # The trainer's batched form is the mean of the per-sample gradients.
    def batched(th):
        log_prob = position_log_prob(jnp.broadcast_to(jax.nn.softmax(th), (samples, 1, 5)), positions[:, None])
        return reinforce_loss(
            log_prob,
            jnp.zeros((samples, 1)),
            jnp.ones((samples, 1), bool),
            -reward[positions],
            jnp.asarray(0.7),
            entropy_weight=0.0,
        )[0]

    np.testing.assert_allclose(fast_jit(jax.grad(batched))(theta), mean, rtol=1e-4, atol=1e-5)


def test_reinforce_loss_terms_and_baseline():
    """Padding steps count for nothing; the entropy term's gradient is -lambda dH/dtheta with
    dH/dtheta_k = -p_k (log p_k + H); the reward is -NLL; the baseline is b = decay b + (1 - decay) R."""
    theta = jnp.asarray([0.2, 1.0, -0.5], jnp.float32)
    p = np.asarray(jax.nn.softmax(theta), np.float64)
    entropy = -np.sum(p * np.log(p))
    np.testing.assert_allclose(alignment_entropy(jnp.asarray(p)), entropy, rtol=1e-6)

    def entropy_term(th):
        h = alignment_entropy(jax.nn.softmax(th))
        steps = jnp.stack([h, 100.0 + h])[None]  # the second step is padding
        return reinforce_loss(
            jnp.zeros((1, 2)), steps, jnp.asarray([[True, False]]), jnp.zeros(1), jnp.asarray(0.0), entropy_weight=0.3
        )[0]

    value, grad = fast_jit(jax.value_and_grad(entropy_term))(theta)
    np.testing.assert_allclose(value, -0.3 * entropy, rtol=1e-6)
    np.testing.assert_allclose(grad, -0.3 * (-p * (np.log(p) + entropy)), rtol=1e-5)

    log_prob = jnp.asarray([[-1.0, -2.0, -4.0], [-0.5, -0.5, -9.0]])
    mask = jnp.asarray([[True, True, True], [True, True, False]])
    loss, mean_reward = reinforce_loss(
        log_prob, jnp.zeros((2, 3)), mask, jnp.asarray([3.0, 5.0]), jnp.asarray(-2.0), entropy_weight=0.0
    )
    # R = (-3, -5), R - b = (-1, -3), sum_t log p = (-7, -1): -mean((-1)(-7), (-3)(-1)) = -5
    np.testing.assert_allclose(loss, -5.0, rtol=1e-6)
    np.testing.assert_allclose(mean_reward, -4.0)
    np.testing.assert_allclose(update_baseline(jnp.asarray(-2.0), mean_reward, 0.9), 0.9 * -2.0 + 0.1 * -4.0)

    assert reinforce_settings(
        {"family": "hard", "estimator": "reinforce", "entropy_weight": 0.01, "baseline_decay": 0.95}
    ) == ReinforceSettings(0.01, 0.95)
    assert reinforce_settings({"family": "hard", "estimator": "gumbel"}) is None
    assert reinforce_settings({"family": "factored"}) is None
    with pytest.raises(ValueError, match="baseline_decay"):
        reinforce_settings({"family": "hard", "baseline_decay": 1.0})


def test_gumbel_straight_through_is_one_hot_forward_and_relaxed_backward():
    theta = jnp.asarray([[0.5, -0.3, 1.0, 0.2], [0.1, 0.4, -1.0, 0.0]], jnp.float32)
    allowed = np.array([[True, True, False, True], [True, True, True, True]])
    noise = jax.random.gumbel(jax.random.key(1), theta.shape)
    readout = jnp.asarray([[1.0, -2.0, 0.5, 3.0], [0.3, 0.2, -1.0, 2.0]])
    tau = 0.7

    def alignment(th):  # softmax over the allowed keys
        return jnp.where(allowed, jax.nn.softmax(jnp.where(allowed, th, -jnp.inf)), 0.0)

    def relaxed(th):  # softmax((log a + g) / tau) over the allowed keys, written out
        z = jnp.where(allowed, (jnp.log(jnp.where(allowed, alignment(th), 1.0)) + noise) / tau, -jnp.inf)
        return jnp.sum(jax.nn.softmax(z) * readout)

    @fast_jit
    def run(th):
        straight_through = lambda t: jnp.sum(gumbel_straight_through(alignment(t), noise, tau) * readout)
        return gumbel_straight_through(alignment(th), noise, tau), jax.grad(straight_through)(th), jax.grad(relaxed)(th)

    weights, grad, relaxed_grad = run(theta)
    a = np.asarray(alignment(theta), np.float64)
    logits = np.where(allowed, np.log(np.where(allowed, a, 1.0)) + np.asarray(noise), -np.inf)
    np.testing.assert_array_equal(weights, np.eye(4)[logits.argmax(-1)])  # exactly one-hot, never a masked key
    assert np.all(np.isfinite(grad)) and np.any(np.asarray(grad) != 0)
    np.testing.assert_allclose(grad, relaxed_grad, rtol=1e-5, atol=1e-6)


def test_module_gradients():
    """With padding and a fully masked row: the log-prob and entropy the trainer reads have finite, non-zero
    gradients; the context's gradient reaches the score through Gumbel straight-through, not through a
    sampled one-hot (REINFORCE)."""
    q, k, v = inputs(7)
    mask = jnp.asarray(MASK)

    def grads(module, read):
        params = random_params(module, 8, q, k, v)
        f = lambda p: read(module.apply(p, q, k, v, mask, train=True, rngs={"sampling": jax.random.key(2)}))
        return jax.tree_util.tree_leaves(fast_jit(jax.grad(f))(params)["params"]["base"])

    for read in (lambda out: jnp.sum(out.state["log_prob"]), lambda out: jnp.sum(out.state["entropy"])):
        leaves = grads(make("reinforce"), read)
        assert all(np.all(np.isfinite(g)) for g in leaves) and any(np.any(g != 0) for g in leaves)
    context = lambda out: jnp.sum(out.context)
    leaves = grads(make("gumbel"), context)
    assert all(np.all(np.isfinite(g)) for g in leaves)
    assert any(np.any(g != 0) for g in leaves), "straight-through must reach the score"
    assert all(np.all(g == 0) for g in grads(make("reinforce"), context)), "a sampled one-hot has no path gradient"


# ---------------------------------------------------------------------------------------------- training
def test_tiny_seq2seq_trains_with_reinforce_and_the_baseline_moves(tmp_path):
    config = tiny_config(tmp_path, steps=3, batch_size=8)
    config.data.update(dict(num_train=16, num_validation=8, num_test=8))
    config.model.attention.update(dict(family="hard", estimator="reinforce", entropy_weight=0.01))
    config.model.update(dict(bidirectional=False, bridge="zeros"))  # one encoder scan: a quicker compile
    data = load_dataset(config.data)
    model = build_model(config.model, data.source_vocab.size, data.target_vocab.size)
    batches = make_batches(data.splits["train"], 8, seed=0, epoch=0, shuffle=True)
    # create_train_state initializes with train=False and no 'sampling' rng: evaluation needs none
    task = seq2seq_task(config)
    state = create_train_state(task, model, make_optimizer(config.train, 10), batches[0], 0)
    # the term found through what the hard attention sows (training/terms.py), its baseline in term_state
    assert state.terms == (("reinforce", ReinforceSettings(0.01, 0.9)),)
    assert float(state.term_state["reinforce"]["baseline"]) == 0.0

    baseline = 0.0
    for _ in range(3):  # one batch shape: one compile
        state, metrics = train_step(state, task.step_arrays(batches[0]))
        assert np.isfinite(float(metrics["grad_norm"]))
        # the reported loss is the token loss: the REINFORCE surrogate adds its gradient only
        np.testing.assert_allclose(metrics["loss"], metrics["nll_sum"] / metrics["tokens"], rtol=1e-5)
        reward = float(metrics["mean_reward"])
        assert reward < 0  # log p(y | s, a) of a sequence
        baseline = 0.9 * baseline + 0.1 * reward  # b_k = 0.9 b_{k-1} + 0.1 R_k
        np.testing.assert_allclose(state.term_state["reinforce"]["baseline"], baseline, rtol=1e-5)
    assert all(np.all(np.isfinite(x)) for x in jax.tree_util.tree_leaves(state.params))

    checkpoints = Checkpoints(str(tmp_path / "work"))
    checkpoints.save_latest(3, state)
    checkpoints.wait()
    restored = checkpoints.restore_latest(state.replace(term_state={"reinforce": {"baseline": jnp.zeros(())}}))
    checkpoints.close()
    saved = float(state.term_state["reinforce"]["baseline"])
    assert float(restored.term_state["reinforce"]["baseline"]) == saved != 0.0 and restored.terms == state.terms

    # a checkpoint of the train state before the training terms held the baseline as a field of its own
    legacy = Checkpoints(str(tmp_path / "legacy"))
    fields = dict(step=state.step, params=state.params, opt_state=state.opt_state, rng=state.rng)
    legacy.latest.save(3, args=ocp.args.StandardSave({**fields, "baseline": jnp.asarray(-1.5, jnp.float32)}))
    legacy.wait()
    restored = legacy.restore_latest(state.replace(term_state={"reinforce": {"baseline": jnp.zeros(())}}))
    legacy.close()
    assert float(restored.term_state["reinforce"]["baseline"]) == -1.5 and int(restored.step) == 3
