"""optax optimizers and learning-rate schedules from the `train` config."""

from __future__ import annotations

import jax.numpy as jnp
import ml_collections
import optax

from attn_research.validation import check_choice

SCHEDULES = ("constant", "cosine", "warmup_rsqrt", "halving", "epoch_decay")
OPTIMIZERS = ("adam", "adamw", "sgd", "adadelta")


def learning_rate_schedule(config: ml_collections.ConfigDict, steps_per_epoch: int) -> optax.Schedule:
    """The learning rate per step.

    constant: lr. cosine: lr decayed to 0 over num_steps after warmup_steps of linear warmup.
    warmup_rsqrt: Vaswani et al. (2017), eq. 3 form: lr * min(step / warmup, sqrt(warmup / step)), steps
    counted from 1; lr = d_model^-0.5 * warmup^-0.5 gives eq. 3 exactly (lr is the peak, at step = warmup).
    halving: Luong et al. (2015), sec. 4.1: lr halved every epoch after `halving_start_epoch`: lr * 0.5^n at step
    s (counted from 0) with n = max(0, s // steps_per_epoch - halving_start_epoch + 1).
    epoch_decay: the same with lr * decay_rate^n; PatchTST's training (Nie et al. 2023, reference code's lradj
    "type3": lr for 4 epochs, then x 0.9 per epoch) is decay_rate 0.9 with halving_start_epoch 4.
    Raises ValueError for an unknown schedule name, or for epoch_decay with decay_rate outside (0, 1].
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
    start, per_epoch = int(config.get("halving_start_epoch", 5)), max(int(steps_per_epoch), 1)
    rate = 0.5 if name == "halving" else float(config.get("decay_rate", 0.9))
    if not 0 < rate <= 1:
        raise ValueError(f"train.decay_rate must be in (0, 1], got {rate!r}")

    def per_epoch_decay(step):
        # decayed at the first step of every epoch from `start`: a closed form, a few operations in the compiled
        # step (a boundary per epoch, as optax.piecewise_constant_schedule would take, unrolls into every kernel
        # that reads the learning rate)
        decays = jnp.maximum(step // per_epoch - start + 1, 0)
        return lr * jnp.float32(rate) ** decays.astype(jnp.float32)

    return per_epoch_decay


def make_optimizer(config: ml_collections.ConfigDict, steps_per_epoch: int) -> optax.GradientTransformation:
    """Gradient clipping by global norm (`clip_norm`, 0 = off), then the optimizer with the schedule.

    adam / adamw read beta_1, beta_2 and epsilon from `adam_b1`, `adam_b2`, `adam_eps` (optax's defaults
    0.9, 0.999, 1e-8 when absent; Vaswani et al. 2017, sec. 5.3, use 0.9, 0.98, 1e-9).
    `flatten_optimizer` (absent: False, the layout of checkpoints written before the key): the chain runs on
    the parameters raveled into one vector (optax.flatten), so its state holds one array per moment and the
    update compiles to a few fused loops instead of several per parameter array; the update is the same
    (elementwise, and the global norm up to summation order).
    """
    schedule = learning_rate_schedule(config, steps_per_epoch)
    name = check_choice("optimizer", config.optimizer, OPTIMIZERS)
    adam = dict(
        b1=float(config.get("adam_b1", 0.9)),
        b2=float(config.get("adam_b2", 0.999)),
        eps=float(config.get("adam_eps", 1e-8)),
    )
    optimizer = {
        "adam": lambda: optax.adam(schedule, **adam),
        "adamw": lambda: optax.adamw(schedule, weight_decay=config.get("weight_decay", 0.0), **adam),
        "sgd": lambda: optax.sgd(schedule),
        "adadelta": lambda: optax.adadelta(schedule),
    }[name]()
    chain = [optax.clip_by_global_norm(config.clip_norm)] if config.clip_norm else []
    transform = optax.chain(*chain, optimizer)
    return optax.flatten(transform) if config.get("flatten_optimizer", False) else transform
