"""Jitted train and eval steps (teacher forcing). Metrics come back as sums, reduced over the global batch."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import optax

from attn_research.attention.hard import reinforce_loss, update_baseline
from attn_research.models.precision import COMPUTE_DTYPES, cast_params
from attn_research.training.loss import coverage_loss, token_cross_entropy
from attn_research.training.state import TrainState

MODEL_INPUTS = ("source", "source_mask", "target_input", "target_output", "target_mask")


def model_inputs(batch: dict) -> dict:
    """The arrays of a batch the steps read (drops host-only fields such as `index`)."""
    return {name: batch[name] for name in MODEL_INPUTS}


@partial(jax.jit, static_argnames=("label_smoothing", "coverage_loss_weight"), donate_argnums=(0,))
def train_step(
    state: TrainState, batch: dict, label_smoothing: float = 0.0, coverage_loss_weight: float = 0.0
) -> tuple[TrainState, dict]:
    """One optimizer step (_update, jitted): see _update for the arguments, the metrics and the errors."""
    return _update(state, batch, label_smoothing, coverage_loss_weight)


@partial(jax.jit, static_argnames=("label_smoothing", "coverage_loss_weight"), donate_argnums=(0,))
def train_steps(
    state: TrainState, batches: dict, label_smoothing: float = 0.0, coverage_loss_weight: float = 0.0
) -> tuple[TrainState, dict]:
    """K consecutive optimizer steps in one jitted call: jax.lax.scan of _update over the leading axis.

    batches: the arrays of K batches of one shape stacked on a new axis 0 (source [K, batch, src_len], ...).
    Step s of the K uses fold_in(state.rng, s) like train_step, so the result is train_step applied K times
    (up to float reassociation by the compiler). Returns the state after the K steps and train_step's metrics,
    each summed over the K steps (float32 scalars). Raises what _update raises.
    """

    def body(carry, batch):
        return _update(carry, batch, label_smoothing, coverage_loss_weight)

    state, metrics = jax.lax.scan(body, state, batches)
    return state, jax.tree.map(lambda m: jnp.sum(m, axis=0), metrics)


def _update(
    state: TrainState, batch: dict, label_smoothing: float, coverage_loss_weight: float
) -> tuple[TrainState, dict]:
    """One optimizer step on the mean token loss of the global batch (the body of train_step and train_steps).

    batch: source [batch, src_len], source_mask, target_input [batch, tgt_len], target_output, target_mask.
    coverage_loss_weight: lambda of See et al. (2017), eq. 13: the loss is the token loss + lambda * the mean
    coverage loss per target token (loss.coverage_loss on the model's alignments); 0 = none.
    Returns the new state and {"loss": mean training loss, "nll_sum", "tokens", "grad_norm"} (float32 scalars),
    with "coverage_loss" (the mean per target token) when coverage_loss_weight > 0.
    Raises ValueError if coverage_loss_weight > 0 and the model has no attention.
    Hard attention with the REINFORCE estimator (state.reinforce set): the gradient also gets Xu et al.'s
    (2015) eq. 12 term (attention.hard.reinforce_loss; reward log p(y | s, a) per sequence, baseline
    state.baseline, which then moves by update_baseline); "loss" stays the token loss, and the metrics add
    "mean_reward".
    Mixed precision (state.compute_dtype 'bfloat16', models/precision.py): the float32 params are cast to
    bfloat16 once, inside the differentiated loss, so the gradient, the optimizer state and the update stay
    float32; the loss is computed in float32.
    """
    rng = jax.random.fold_in(state.rng, state.step)
    dropout_rng, teacher_forcing_rng, sampling_rng = jax.random.split(rng, 3)
    tokens = jnp.maximum(jnp.sum(batch["target_mask"]), 1).astype(jnp.float32)

    def loss_fn(params):
        params = cast_params(params, COMPUTE_DTYPES[state.compute_dtype])  # once per step, not once per use
        output = state.apply_fn(
            {"params": params},
            batch["source"],
            batch["source_mask"],
            batch["target_input"],
            train=True,
            rngs={"dropout": dropout_rng, "teacher_forcing": teacher_forcing_rng, "sampling": sampling_rng},
        )
        loss, nll = token_cross_entropy(output.logits, batch["target_output"], batch["target_mask"], label_smoothing)
        total, aux = jnp.sum(loss) / tokens, {"nll_sum": jnp.sum(nll)}
        if coverage_loss_weight > 0:
            if output.alignments is None:
                raise ValueError("coverage_loss_weight > 0 needs a model with attention alignments")
            aux["coverage_loss"] = jnp.sum(coverage_loss(output.alignments, batch["target_mask"])) / tokens
            total = total + coverage_loss_weight * aux["coverage_loss"]
        if state.reinforce is not None and output.attention_aux is not None:
            surrogate, aux["mean_reward"] = reinforce_loss(
                output.attention_aux["log_prob"],
                output.attention_aux["entropy"],
                batch["target_mask"],
                jnp.sum(nll, axis=-1),
                state.baseline,
                state.reinforce.entropy_weight,
            )
            total = total + (surrogate - jax.lax.stop_gradient(surrogate))  # its gradient, not its value
        return total, aux

    (loss, aux), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
    new_state = state.apply_gradients(grads=grads)
    if "mean_reward" in aux:
        new_state = new_state.replace(
            baseline=update_baseline(state.baseline, aux["mean_reward"], state.reinforce.baseline_decay)
        )
    return new_state, {"loss": loss, "tokens": tokens, "grad_norm": optax.tree.norm(grads), **aux}


@jax.jit
def eval_step(state: TrainState, batch: dict) -> dict:
    """Teacher-forced evaluation: {"nll_sum", "tokens", "correct_tokens"} summed over the batch (float32), with
    the params cast once to state.compute_dtype."""
    params = cast_params(state.params, COMPUTE_DTYPES[state.compute_dtype])
    output = state.apply_fn(
        {"params": params}, batch["source"], batch["source_mask"], batch["target_input"], train=False
    )
    _, nll = token_cross_entropy(output.logits, batch["target_output"], batch["target_mask"])
    correct = (jnp.argmax(output.logits, -1) == batch["target_output"]) & batch["target_mask"]
    return {
        "nll_sum": jnp.sum(nll),
        "tokens": jnp.sum(batch["target_mask"]).astype(jnp.float32),
        "correct_tokens": jnp.sum(correct).astype(jnp.float32),
    }
