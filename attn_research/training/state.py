"""The train state: parameters, optimizer state, step and the base PRNG key."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import optax
from flax.training import train_state


class TrainState(train_state.TrainState):
    """flax's TrainState plus `rng`: a raw uint32 [2] key; step s uses fold_in(rng, s) (resumable)."""

    rng: jax.Array


def create_train_state(model, tx: optax.GradientTransformation, example_batch: dict, seed: int) -> TrainState:
    """Initializes the model's params on `example_batch` (source, source_mask, target_input arrays)."""
    init_rng, dropout_rng, tf_rng, state_rng = jax.random.split(jax.random.PRNGKey(seed), 4)
    variables = jax.jit(lambda rngs: model.init(
        rngs, jnp.asarray(example_batch["source"]), jnp.asarray(example_batch["source_mask"]),
        jnp.asarray(example_batch["target_input"]), train=False))(
        {"params": init_rng, "dropout": dropout_rng, "teacher_forcing": tf_rng})
    return TrainState.create(apply_fn=model.apply, params=variables["params"], tx=tx, rng=state_rng)


def count_params(params) -> int:
    """Number of scalar parameters."""
    return int(sum(x.size for x in jax.tree.leaves(params)))
