"""Jitted train and eval steps (teacher forcing). Metrics come back as sums, reduced over the global batch."""
from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import optax

from attn_research.training.loss import token_cross_entropy
from attn_research.training.state import TrainState

MODEL_INPUTS = ("source", "source_mask", "target_input", "target_output", "target_mask")


def model_inputs(batch: dict) -> dict:
    """The arrays of a batch the steps read (drops host-only fields such as `index`)."""
    return {name: batch[name] for name in MODEL_INPUTS}


@partial(jax.jit, static_argnames=("label_smoothing",), donate_argnums=(0,))
def train_step(state: TrainState, batch: dict, label_smoothing: float = 0.0) -> tuple[TrainState, dict]:
    """One optimizer step on the mean token loss of the global batch.

    batch: source [batch, src_len], source_mask, target_input [batch, tgt_len], target_output, target_mask.
    Returns the new state and {"loss": mean training loss, "nll_sum", "tokens", "grad_norm"} (float32 scalars).
    """
    rng = jax.random.fold_in(state.rng, state.step)
    dropout_rng, teacher_forcing_rng = jax.random.split(rng)
    tokens = jnp.maximum(jnp.sum(batch["target_mask"]), 1).astype(jnp.float32)

    def loss_fn(params):
        output = state.apply_fn({"params": params}, batch["source"], batch["source_mask"], batch["target_input"],
                                train=True, rngs={"dropout": dropout_rng, "teacher_forcing": teacher_forcing_rng})
        loss, nll = token_cross_entropy(output.logits, batch["target_output"], batch["target_mask"], label_smoothing)
        return jnp.sum(loss) / tokens, jnp.sum(nll)

    (loss, nll_sum), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
    new_state = state.apply_gradients(grads=grads)
    return new_state, {"loss": loss, "nll_sum": nll_sum, "tokens": tokens, "grad_norm": optax.tree.norm(grads)}


@jax.jit
def eval_step(state: TrainState, batch: dict) -> dict:
    """Teacher-forced evaluation: {"nll_sum", "tokens", "correct_tokens"} summed over the batch."""
    output = state.apply_fn({"params": state.params}, batch["source"], batch["source_mask"], batch["target_input"],
                            train=False)
    _, nll = token_cross_entropy(output.logits, batch["target_output"], batch["target_mask"])
    correct = (jnp.argmax(output.logits, -1) == batch["target_output"]) & batch["target_mask"]
    return {"nll_sum": jnp.sum(nll), "tokens": jnp.sum(batch["target_mask"]).astype(jnp.float32),
            "correct_tokens": jnp.sum(correct).astype(jnp.float32)}
