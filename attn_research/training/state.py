"""The train state: parameters, optimizer state, step, the base PRNG key and the REINFORCE baseline."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax
from flax import struct
from flax.training import train_state

from attn_research.attention.hard import ReinforceSettings, reinforce_settings
from attn_research.models.precision import compute_dtype_name


class TrainState(train_state.TrainState):
    """flax's TrainState plus `rng`: a raw uint32 [2] key; step s uses fold_in(rng, s) (resumable).

    baseline: float32 scalar, the moving-average reward baseline b of the hard attention's REINFORCE
    estimator (Xu et al. 2015, sec. 4.1); checkpointed with the rest, 0 and unused for other models.
    reinforce: the estimator's settings (static) when the model's attention is family 'hard' with estimator
    'reinforce', else None; train_step adds the REINFORCE term only then.
    compute_dtype: the model's mixed-precision policy (models/precision.py), 'float32' or 'bfloat16' (static):
    params and opt_state are always float32; the steps cast the params to this dtype once per step.
    """

    rng: jax.Array
    baseline: jax.Array = 0.0
    reinforce: ReinforceSettings | None = struct.field(pytree_node=False, default=None)
    compute_dtype: str = struct.field(pytree_node=False, default="float32")


def create_train_state(model, tx: optax.GradientTransformation, example_batch: dict, seed: int) -> TrainState:
    """Initializes the model's params (float32) on `example_batch` (source, source_mask, target_input arrays).

    The state's compute_dtype is model.config.compute_dtype ('float32' when absent); raises ValueError for
    an unknown one.
    """
    init_rng, dropout_rng, tf_rng, state_rng = jax.random.split(jax.random.PRNGKey(seed), 4)
    variables = jax.jit(
        lambda rngs: model.init(
            rngs,
            jnp.asarray(example_batch["source"]),
            jnp.asarray(example_batch["source_mask"]),
            jnp.asarray(example_batch["target_input"]),
            train=False,
        )
    )({"params": init_rng, "dropout": dropout_rng, "teacher_forcing": tf_rng})
    return TrainState.create(
        apply_fn=model.apply,
        params=variables["params"],
        tx=tx,
        rng=state_rng,
        baseline=jnp.zeros((), jnp.float32),
        reinforce=reinforce_settings(model.config.get("attention")),
        compute_dtype=compute_dtype_name(model.config),
    )


def count_params(params) -> int:
    """Number of scalar parameters."""
    return int(sum(x.size for x in jax.tree.leaves(params)))
