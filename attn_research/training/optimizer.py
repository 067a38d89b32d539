"""optax optimizers and learning-rate schedules from the `train` config."""
from __future__ import annotations

import jax.numpy as jnp
import ml_collections
import optax

from attn_research.attention import check_choice

SCHEDULES = ("constant", "cosine", "warmup_rsqrt", "halving")
OPTIMIZERS = ("adam", "adamw", "sgd", "adadelta")


def learning_rate_schedule(config: ml_collections.ConfigDict, steps_per_epoch: int) -> optax.Schedule:
    """The learning rate per step.

    constant: lr. cosine: lr decayed to 0 over num_steps after warmup_steps of linear warmup.
    warmup_rsqrt: Vaswani et al. (2017), eq. 3 form: lr * min(step / warmup, sqrt(warmup / step)).
    halving: Luong et al. (2015), sec. 4.1: lr halved every epoch after `halving_start_epoch`.
    Raises ValueError for an unknown schedule name.
    """
    name = check_choice("learning-rate schedule", config.schedule, SCHEDULES)
    lr, warmup = config.learning_rate, max(int(config.get("warmup_steps", 0)), 0)
    if name == "constant":
        return optax.constant_schedule(lr)
    if name == "cosine":
        return optax.warmup_cosine_decay_schedule(0.0, lr, max(warmup, 1), max(config.num_steps, warmup + 1))
    if name == "warmup_rsqrt":
        warm = max(warmup, 1)

        def warmup_rsqrt(step):
            s = jnp.maximum(step + 1, 1).astype(jnp.float32)  # steps counted from 1
            return lr * jnp.minimum(s / warm, jnp.sqrt(warm / s))

        return warmup_rsqrt
    start = int(config.get("halving_start_epoch", 5))
    boundaries = {steps_per_epoch * epoch: 0.5 for epoch in range(start, 1000)}
    return optax.piecewise_constant_schedule(lr, boundaries)


def make_optimizer(config: ml_collections.ConfigDict, steps_per_epoch: int) -> optax.GradientTransformation:
    """Gradient clipping by global norm (`clip_norm`, 0 = off), then the optimizer with the schedule."""
    schedule = learning_rate_schedule(config, steps_per_epoch)
    name = check_choice("optimizer", config.optimizer, OPTIMIZERS)
    optimizer = {
        "adam": lambda: optax.adam(schedule),
        "adamw": lambda: optax.adamw(schedule, weight_decay=config.get("weight_decay", 0.0)),
        "sgd": lambda: optax.sgd(schedule),
        "adadelta": lambda: optax.adadelta(schedule),
    }[name]()
    chain = [optax.clip_by_global_norm(config.clip_norm)] if config.clip_norm else []
    return optax.chain(*chain, optimizer)
