"""The hybrid loss of Mnih et al. (2014), sec. 3.2: the REINFORCE surrogate's gradient on a tiny Gaussian policy
against the hand-derived score function, the baseline's squared error, and the sampled location kept out of the
classification gradient."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attn_research.tasks.glimpses.losses import baseline_loss, gaussian_log_prob, reinforce_surrogate


def test_gaussian_log_prob_against_the_density():
    sample, mean, std = np.array([[0.3, -0.2]]), np.array([[0.1, 0.4]]), 0.5
    density = np.prod(np.exp(-((sample - mean) ** 2) / (2 * std**2)) / (std * math.sqrt(2 * math.pi)))
    assert float(gaussian_log_prob(sample, mean, std)[0]) == pytest.approx(math.log(density), rel=1e-6)


def test_surrogate_gradient_equals_the_hand_derived_score_function():
    """Policy mu_bt = w * h_bt (one weight per coordinate), l_bt sampled. The surrogate
    -(1/B) sum_b sum_t (R_b - b_bt) log N(l_bt; mu_bt, s^2) has gradient in w_c
    -(1/B) sum_b sum_t (R_b - b_bt) (l_btc - mu_btc) h_btc / s^2 (padding rows excluded from sum and B)."""
    rng = np.random.default_rng(0)
    batch, steps, std = 4, 3, 0.2
    h = rng.normal(size=(batch, steps, 2))
    w = np.array([0.7, -0.4])
    samples = w * h + std * rng.normal(size=(batch, steps, 2))
    reward = np.array([1.0, 0.0, 1.0, 1.0])
    baselines = rng.uniform(size=(batch, steps))
    mask = np.array([True, True, True, False])

    def surrogate(w):
        log_probs = gaussian_log_prob(jnp.asarray(samples), w * jnp.asarray(h), std)
        return reinforce_surrogate(log_probs, jnp.asarray(reward), jnp.asarray(baselines), jnp.asarray(mask))

    got = np.asarray(jax.grad(surrogate)(jnp.asarray(w)))
    expected = np.zeros(2)
    for b in range(3):
        for t in range(steps):
            expected -= (reward[b] - baselines[b, t]) * (samples[b, t] - w * h[b, t]) * h[b, t] / std**2
    np.testing.assert_allclose(got, expected / 3, rtol=1e-5)


def test_surrogate_treats_reward_and_baseline_as_constants():
    log_probs = jnp.array([[-1.0, -2.0]])
    grad_b = jax.grad(lambda b: reinforce_surrogate(log_probs, jnp.array([1.0]), b, jnp.array([True])))(
        jnp.array([[0.3, 0.5]])
    )
    np.testing.assert_array_equal(np.asarray(grad_b), 0.0)


def test_baseline_loss_value_and_gradient():
    baselines = jnp.array([[0.2, 0.6], [0.9, 0.1], [5.0, 5.0]])
    reward, mask = jnp.array([1.0, 0.0, 1.0]), jnp.array([True, True, False])
    expected = ((0.8**2 + 0.4**2) / 2 + (0.9**2 + 0.1**2) / 2) / 2
    assert float(baseline_loss(baselines, reward, mask)) == pytest.approx(expected, rel=1e-6)
    grad = np.asarray(jax.grad(lambda b: baseline_loss(b, reward, mask))(baselines))
    # d/db_bt of (1 / (B T)) (R_b - b_bt)^2 = -2 (R_b - b_bt) / (B T), B = 2 counted rows, T = 2
    np.testing.assert_allclose(grad[:2], -2 * (np.array([[1.0], [0.0]]) - np.asarray(baselines[:2])) / 4, rtol=1e-6)
    np.testing.assert_array_equal(grad[2], 0.0)
    assert float(baseline_loss(jnp.zeros((2, 0)), reward[:2], mask[:2])) == 0.0


def test_the_sample_is_stopped_from_the_gradient():
    """gaussian_log_prob reads the sample as a constant: its gradient in the sample is 0, in the mean (l - mu) / s^2."""
    sample, mean = jnp.array([0.5, -0.5]), jnp.array([0.1, 0.2])
    assert np.all(np.asarray(jax.grad(lambda s: gaussian_log_prob(s, mean, 0.5))(sample)) == 0.0)
    np.testing.assert_allclose(
        np.asarray(jax.grad(lambda m: gaussian_log_prob(sample, m, 0.5))(mean)), (sample - mean) / 0.25, rtol=1e-6
    )
