"""The hybrid loss of Mnih et al. (2014), sec. 3.2: cross-entropy for the action network, REINFORCE for the
location policy, squared error for the learned baseline.

    pi(l_t | h_t) = N(l_t; mu_t, sigma^2 I),  mu_t = f_l(h_t)                       (Gaussian policy, fixed sigma)
    R = 1[argmax_y p(y | h_T) = y*]                                                (reward: the final answer right)
    L_reinforce = -(1/B) sum_b sum_t (R_b - b_bt) log pi(l_bt | h_bt)              (eq. 2 with a baseline)
    L_baseline  = (1 / (B T)) sum_b sum_t (R_b - b_bt)^2                           (b_t ~ E[R_t], sec. 3.2)
    L = -(1/B) sum_b log p(y*_b | h_T) + w L_reinforce + L_baseline
The sampled locations l_t are constants (stop_gradient): the classification gradient never flows through them;
the reward and the advantage's baseline are constants too, so L_reinforce's gradient is the REINFORCE estimate
-(R - b_t) grad log pi(l_t) and L_baseline trains only the baseline.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

Array = jax.Array


def gaussian_log_prob(sample: Array, mean: Array, std: float) -> Array:
    """log N(sample; mean, std^2 I) summed over the last axis (the location's 2 coordinates).

    sample, mean: [..., 2] (the sample is read as a constant: stop_gradient); std: the policy's fixed standard
    deviation (> 0). Returns [...]."""
    z = (jax.lax.stop_gradient(sample) - mean) / std
    return jnp.sum(-0.5 * z**2 - math.log(std) - 0.5 * math.log(2 * math.pi), axis=-1)


def reinforce_surrogate(log_probs: Array, reward: Array, baselines: Array, mask: Array) -> Array:
    """-(1/B) sum_b sum_t (R_b - b_bt) log pi_bt over the counted examples (module docstring).

    log_probs, baselines: [batch, steps]; reward: [batch]; mask: [batch] bool (False: a padding row). Reward and
    baselines are constants here. B = the counted examples (at least 1). Returns a float32 scalar."""
    advantage = jax.lax.stop_gradient(reward[:, None] - baselines)
    per_example = jnp.sum(advantage * log_probs, axis=-1)
    return -jnp.sum(jnp.where(mask, per_example, 0.0)) / jnp.maximum(jnp.sum(mask), 1)


def baseline_loss(baselines: Array, reward: Array, mask: Array) -> Array:
    """(1 / (B T)) sum_b sum_t (R_b - b_bt)^2 over the counted examples: the learned baseline's squared error.

    baselines: [batch, steps]; reward: [batch] (a constant); mask: [batch] bool. Returns a float32 scalar (0 for
    steps = 0)."""
    error = (jax.lax.stop_gradient(reward)[:, None] - baselines) ** 2
    per_example = jnp.mean(error, axis=-1) if baselines.shape[-1] else jnp.zeros(error.shape[:1])
    return jnp.sum(jnp.where(mask, per_example, 0.0)) / jnp.maximum(jnp.sum(mask), 1)
