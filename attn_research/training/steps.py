"""Jitted train and eval steps of any task (tasks/base.py). Metrics come back as sums over the global batch.

The task (TrainState.task, static) gives the model inputs of a batch, the loss and its metrics; the training
terms the model sows (training/terms.py; TrainState.terms) add theirs. Neither step knows which task runs.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.flatten_util
import jax.numpy as jnp

from attn_research.models.precision import COMPUTE_DTYPES, cast_params
from attn_research.training.state import TrainState, eval_variables
from attn_research.training.terms import TERMS_COLLECTION, TRAINING_TERMS, sown_values


@partial(jax.jit, donate_argnums=(0,))
def train_step(state: TrainState, arrays: dict) -> tuple[TrainState, dict]:
    """One optimizer step (_update, jitted): see _update for the arguments, the metrics and the errors."""
    return _update(state, arrays)


@partial(jax.jit, donate_argnums=(0,))
def train_steps(state: TrainState, stacked: dict) -> tuple[TrainState, dict]:
    """K consecutive optimizer steps in one jitted call: jax.lax.scan of _update over the leading axis.

    stacked: the step arrays of K batches of one shape stacked on a new axis 0 ([K, batch, ...] each).
    Step s of the K uses fold_in(state.rng, s) like train_step, so the result is train_step applied K times
    (up to float reassociation by the compiler). Returns the state after the K steps and train_step's metrics,
    each summed over the K steps (float32 scalars). Raises what _update raises.
    """
    state, metrics = jax.lax.scan(_update, state, stacked)
    return state, jax.tree.map(lambda m: jnp.sum(m, axis=0), metrics)


def _update(state: TrainState, arrays: dict) -> tuple[TrainState, dict]:
    """One optimizer step on the task's loss plus the training terms (the body of train_step and train_steps).

    arrays: the task's step arrays ([batch, ...] each, task.step_arrays). The rngs of the task's streams
    (task.rng_streams) are split from fold_in(state.rng, state.step). The model runs with the training-term
    collection mutable; each term of state.terms adds its loss from what was sown under its name and the
    task's signals, and replaces its term_state. The model's other collections (state.model_state, e.g.
    BatchNorm's batch_stats) are mutable too, and the new state keeps what the step wrote into them.
    Returns the new state and {"loss": the task's loss + the terms' loss values, "grad_norm", the task's and
    the terms' metrics} (float32 scalars). Raises what the task's loss raises.
    Mixed precision (state.compute_dtype 'bfloat16', models/precision.py): the float32 params are cast to
    bfloat16 once, inside the differentiated loss, so the gradient, the optimizer state and the update stay
    float32; the task computes its loss in float32.
    """
    task = state.task
    rng = jax.random.fold_in(state.rng, state.step)
    rngs = dict(zip(task.rng_streams, jax.random.split(rng, len(task.rng_streams))))

    def loss_fn(params):
        params = cast_params(params, COMPUTE_DTYPES[state.compute_dtype])  # once per step, not once per use
        output, collections = state.apply_fn(
            {"params": params, **state.model_state},
            *task.model_inputs(arrays),
            train=True,
            rngs=rngs,
            mutable=[TERMS_COLLECTION, *state.model_state],
        )
        model_state = {name: collections[name] for name in state.model_state}
        result = task.loss(output, arrays)
        total, metrics, term_state = result.loss, dict(result.metrics), {}
        for name, settings in state.terms:
            sown = sown_values(collections.get(TERMS_COLLECTION), name)
            if not sown:  # sown at init, not in this call (e.g. a branch taken in training only)
                term_state[name] = state.term_state[name]
                continue
            term = TRAINING_TERMS.get(name).loss(sown, result.signals, state.term_state[name], settings)
            total, term_state[name] = total + term.loss, term.state
            metrics.update(term.metrics)
        return total, (metrics, term_state, model_state)

    (loss, (metrics, term_state, model_state)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
    new_state = state.apply_gradients(grads=grads).replace(
        term_state=jax.lax.stop_gradient(term_state), model_state=jax.lax.stop_gradient(model_state)
    )
    # the gradients' global L2 norm over one raveled vector: the concatenation train.flatten_optimizer's chain
    # makes too (XLA computes it once), then one reduction instead of a square and a sum per parameter array
    flat_grads, _ = jax.flatten_util.ravel_pytree(grads)
    return new_state, {"loss": loss, "grad_norm": jnp.sqrt(jnp.sum(jnp.square(flat_grads))), **metrics}


@jax.jit
def eval_step(state: TrainState, arrays: dict) -> dict:
    """Teacher-forced evaluation (train=False): the task's eval_metrics, sums over the batch (float32), with the
    params cast once to state.compute_dtype and the model's running statistics (eval_variables)."""
    output = state.apply_fn(eval_variables(state), *state.task.model_inputs(arrays), train=False)
    return state.task.eval_metrics(output, arrays)
