"""The train state: parameters, optimizer state, step, the base PRNG key, the model's statistics (e.g. BatchNorm's),
the task and its training terms."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct
from flax.training import train_state

from attn_research.models.precision import COMPUTE_DTYPES, cast_params, compute_dtype_name
from attn_research.training.terms import TERMS_COLLECTION, TRAINING_TERMS, active_terms


class TrainState(train_state.TrainState):
    """flax's TrainState plus `rng`: a raw uint32 [2] key; step s uses fold_in(rng, s) (resumable).

    task: the task (tasks/base.py; static): the steps ask it for the model inputs, the loss and the metrics.
    terms: ((name, settings), ...) of the training terms the model sows (training/terms.py; static), e.g.
    ("reinforce", ReinforceSettings) for the hard attention's REINFORCE estimator (Xu et al. 2015, sec. 4.1).
    term_state: {name: the term's variables}, e.g. {"reinforce": {"baseline": b}}, the moving-average reward
    baseline; a mutable collection that the train step replaces and the checkpoints keep.
    compute_dtype: the model's mixed-precision policy (models/precision.py), 'float32' or 'bfloat16' (static):
    params and opt_state are always float32; the steps cast the params to this dtype once per step.
    model_state: {collection: variables} of the model's variables that are not parameters and not training terms,
    e.g. {"batch_stats": ...}, BatchNorm's running mean and variance (Ioffe and Szegedy 2015, sec. 3.1): the train
    step runs the model with these collections mutable and keeps what it writes; evaluation reads them
    (eval_variables); the checkpoints keep them. {} for a model without any.
    """

    rng: jax.Array
    term_state: dict = struct.field(default_factory=dict)
    model_state: dict = struct.field(default_factory=dict)
    task: Any = struct.field(pytree_node=False, default=None)
    terms: tuple = struct.field(pytree_node=False, default=())
    compute_dtype: str = struct.field(pytree_node=False, default="float32")


def create_train_state(task, model, tx: optax.GradientTransformation, example_arrays: dict, seed: int) -> TrainState:
    """Initializes the model's params (float32) on `example_arrays` (task.step_arrays of a batch), with
    train=False, and finds the training terms the model sows (their settings from model.config).

    The state's compute_dtype is model.config.compute_dtype ('float32' without one); raises ValueError for an
    unknown one, and for a sown name that no training term registers.
    """
    # four keys, as ever: the same seed gives the same params and step keys as the runs recorded before
    init_rng, stream_rng, _, state_rng = jax.random.split(jax.random.PRNGKey(seed), 4)
    streams = {name: jax.random.fold_in(stream_rng, i) for i, name in enumerate(task.rng_streams)}
    rngs = {"params": init_rng, **streams}
    inputs = tuple(jnp.asarray(x) for x in task.model_inputs(example_arrays))
    variables = jax.jit(lambda rngs: model.init(rngs, *inputs, train=False))(rngs)
    model_config = getattr(model, "config", None) or {}
    terms = active_terms(variables.get(TERMS_COLLECTION), model_config)
    return TrainState.create(
        apply_fn=model.apply,
        params=variables["params"],
        tx=tx,
        rng=state_rng,
        term_state={name: TRAINING_TERMS.get(name).init_state() for name, _ in terms},
        model_state={name: value for name, value in variables.items() if name not in ("params", TERMS_COLLECTION)},
        task=task,
        terms=terms,
        compute_dtype=compute_dtype_name(model_config),
    )


def eval_variables(state: TrainState) -> dict:
    """The variables evaluation applies the model with: {"params": state.params cast once to state.compute_dtype,
    **state.model_state} (train=False reads BatchNorm's running statistics from model_state)."""
    return {"params": cast_params(state.params, COMPUTE_DTYPES[state.compute_dtype]), **state.model_state}


def count_params(params) -> int:
    """Number of scalar parameters."""
    return int(sum(x.size for x in jax.tree.leaves(params)))
