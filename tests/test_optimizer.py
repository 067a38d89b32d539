"""training/optimizer.py and the step's grad_norm: both optimizer layouts (train.flatten_optimizer) against a
NumPy Adam with global-norm clipping (Kingma & Ba 2015, Algorithm 1; Pascanu et al. 2013, eq. 4), the flat
state, the config key and its resume rule; the halving schedule (Luong et al. 2015, sec. 4.1)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from attn_research.config_defaults import base_config
from attn_research.config_validation import ConfigError, validate_config
from attn_research.training.optimizer import learning_rate_schedule, make_optimizer
from attn_research.training.run_config import model_changing_differences


def train_config(flatten: bool) -> ml_collections.ConfigDict:
    """base_config's train keys with clipping at global norm 1, learning rate 0.1 and the given layout."""
    config = ml_collections.ConfigDict(base_config().train)
    config.update(dict(flatten_optimizer=flatten, clip_norm=1.0, learning_rate=0.1))
    return config


def params_and_grads(seed: int):
    """A pytree of three arrays of mixed shapes, and a gradient per step whose norm exceeds the clip."""
    rng = np.random.default_rng(seed)
    params = {"w": rng.normal(size=(3, 4)), "b": rng.normal(size=(4,)), "deep": {"v": rng.normal(size=(2, 2, 2))}}
    grads = [jax.tree.map(lambda p: 3.0 * rng.normal(size=p.shape), params) for _ in range(5)]
    return jax.tree.map(np.float32, params), [jax.tree.map(np.float32, g) for g in grads]


def numpy_adam(params, grads, lr=0.1, clip=1.0, b1=0.9, b2=0.999, eps=1e-8):
    """Algorithm 1 of Kingma & Ba on the gradients rescaled to global norm <= clip, in float64."""
    leaves, treedef = jax.tree.flatten(params)
    theta = [np.asarray(p, np.float64) for p in leaves]
    m = [np.zeros_like(p) for p in theta]
    v = [np.zeros_like(p) for p in theta]
    for t, step_grads in enumerate(grads, start=1):
        g = [np.asarray(x, np.float64) for x in jax.tree.leaves(step_grads)]
        norm = np.sqrt(sum((x**2).sum() for x in g))
        g = [x * min(1.0, clip / norm) for x in g]
        for i, gi in enumerate(g):
            m[i] = b1 * m[i] + (1 - b1) * gi
            v[i] = b2 * v[i] + (1 - b2) * gi**2
            m_hat, v_hat = m[i] / (1 - b1**t), v[i] / (1 - b2**t)
            theta[i] = theta[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
    return jax.tree.unflatten(treedef, theta)


def run(tx, params, grads):
    state = tx.init(params)
    for g in grads:
        updates, state = tx.update(g, state, params)
        params = optax.apply_updates(params, updates)
    return params, state


@pytest.mark.parametrize("flatten", [False, True])
def test_both_layouts_are_adam_after_global_norm_clipping(flatten):
    params, grads = params_and_grads(0)
    assert all(np.sqrt(sum((x**2).sum() for x in jax.tree.leaves(g))) > 1.0 for g in grads)  # clipping acts
    ours, _ = run(make_optimizer(train_config(flatten), steps_per_epoch=1), params, grads)
    reference = numpy_adam(params, grads)
    for got, want in zip(jax.tree.leaves(ours), jax.tree.leaves(reference)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-5)  # float32 against float64


def test_the_flat_state_holds_one_array_per_moment_and_the_per_array_state_one_per_parameter():
    params, grads = params_and_grads(1)
    _, flat = run(make_optimizer(train_config(True), 1), params, grads)
    _, per_array = run(make_optimizer(train_config(False), 1), params, grads)
    is_adam = lambda s: isinstance(s, optax.ScaleByAdamState)
    adam_states = lambda state: [s for s in jax.tree.leaves(state, is_leaf=is_adam) if is_adam(s)]
    (flat_adam,), (per_array_adam,) = adam_states(flat), adam_states(per_array)
    assert [x.shape for x in jax.tree.leaves(flat_adam.mu)] == [(12 + 4 + 8,)]
    assert len(jax.tree.leaves(per_array_adam.mu)) == 3


def test_the_flat_layout_keeps_each_parameter_dtype():
    params = {"f32": jnp.ones((2,), jnp.float32), "bf16": jnp.ones((3,), jnp.bfloat16)}
    new, _ = run(make_optimizer(train_config(True), 1), params, [jax.tree.map(jnp.ones_like, params)])
    assert {k: v.dtype for k, v in new.items()} == {"f32": jnp.float32, "bf16": jnp.bfloat16}


def test_a_non_boolean_flatten_optimizer_is_a_one_line_config_error():
    config = base_config()  # ConfigDict refuses a str for its bool; a config built without base_config may not
    del config.train["flatten_optimizer"]
    config.train.flatten_optimizer = "yes"
    with pytest.raises(ConfigError, match="train.flatten_optimizer must be True or False, got 'yes'"):
        validate_config(config)


def test_a_workdir_saved_before_the_key_resumes_only_with_the_per_array_layout_it_checkpointed():
    old = {"seed": 0, "train": {"clip_norm": 1.0}}
    assert model_changing_differences(old, {"seed": 0, "train": {"clip_norm": 1.0, "flatten_optimizer": False}}) == []
    assert model_changing_differences(old, {"seed": 0, "train": {"clip_norm": 1.0, "flatten_optimizer": True}}) == [
        "train.flatten_optimizer False -> True"
    ]


def test_the_step_grad_norm_is_the_l2_norm_of_what_plain_sgd_subtracts(tmp_path):
    """SGD at learning rate 1 without clipping subtracts the gradient itself: its global norm is the metric."""
    from attn_research.data import load_dataset, make_batches
    from attn_research.models import build_model
    from attn_research.training.state import create_train_state
    from attn_research.training.steps import train_step
    from tests.helpers import seq2seq_task, tiny_config

    config = tiny_config(tmp_path)
    config.train.update(dict(optimizer="sgd", learning_rate=1.0, clip_norm=0.0))
    data = load_dataset(config.data)
    model = build_model(config.model, data.source_vocab.size, data.target_vocab.size)
    batch = make_batches(data.splits["train"], 8, seed=0, epoch=0, shuffle=True)[0]
    task = seq2seq_task(config)
    state = create_train_state(task, model, make_optimizer(config.train, 1), batch, seed=0)
    before = [np.asarray(p, np.float64) for p in jax.tree.leaves(state.params)]
    state, metrics = train_step(state, task.step_arrays(batch))
    after = [np.asarray(p, np.float64) for p in jax.tree.leaves(state.params)]
    norm = np.sqrt(sum(((b - a) ** 2).sum() for b, a in zip(before, after)))
    assert norm > 1e-3 and float(metrics["grad_norm"]) == pytest.approx(norm, rel=1e-4)


@pytest.mark.parametrize("start, steps_per_epoch", [(5, 7), (2, 1), (0, 3)])
def test_halving_halves_at_the_first_step_of_every_epoch_from_the_start_epoch(start, steps_per_epoch):
    """Luong et al. (2015), sec. 4.1; against optax's piecewise-constant schedule with a boundary per epoch."""
    config = train_config(False)
    config.update(dict(schedule="halving", halving_start_epoch=start, learning_rate=0.8))
    ours = learning_rate_schedule(config, steps_per_epoch)
    epochs = 12
    reference = optax.piecewise_constant_schedule(0.8, {steps_per_epoch * e: 0.5 for e in range(start, epochs)})
    steps = np.arange(steps_per_epoch * epochs)
    expected = []
    for step in steps:  # the learning rate of each epoch, halved on entering every epoch >= start
        rate = 0.8
        for epoch in range(step // steps_per_epoch + 1):
            rate = rate / 2 if epoch >= start else rate
        expected.append(rate)
    got = np.array([float(ours(jnp.int32(s))) for s in steps])
    np.testing.assert_allclose(got, expected, rtol=1e-7)
    np.testing.assert_allclose(got, [float(reference(s)) for s in steps], rtol=1e-7)


def test_epoch_decay_is_patchtst_type3():
    """PatchTST's reference code (lradj "type3") sets, after each epoch e counted from 1, lr if e < 3 else
    lr * 0.9^(e - 3): epochs 1-4 train at lr, epoch 5 at 0.9 lr, epoch 6 at 0.81 lr; decay_rate 0.9 with
    halving_start_epoch 4 (counted from 0) is that."""
    config = train_config(False)
    config.update(dict(schedule="epoch_decay", decay_rate=0.9, halving_start_epoch=4, learning_rate=1e-4))
    schedule = learning_rate_schedule(config, steps_per_epoch=3)
    rate, expected = 1e-4, []
    for epoch in range(1, 9):  # the reference: the rate each epoch trains at, then its update after the epoch
        expected += [rate] * 3
        rate = 1e-4 if epoch < 3 else 1e-4 * 0.9 ** (epoch - 3)
    got = [float(schedule(jnp.int32(s))) for s in range(24)]
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    config.decay_rate = 1.5
    with pytest.raises(ValueError, match="train.decay_rate"):
        learning_rate_schedule(config, steps_per_epoch=3)


def test_halving_compiles_to_a_few_operations_whatever_the_epoch_count():
    """A boundary per epoch (what optax's piecewise-constant schedule takes) unrolls into every kernel that reads
    the learning rate: patch attention's train step compiled for 200 CPU-s with 1,000 of them."""
    config = train_config(False)
    config.update(dict(schedule="halving", halving_start_epoch=2))
    schedule = learning_rate_schedule(config, steps_per_epoch=10)
    assert len(jax.make_jaxpr(schedule)(jnp.int32(0)).jaxpr.eqns) <= 12
