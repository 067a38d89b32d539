"""Acoustic encoders with time reduction: the pyramidal recurrent encoder (Chan et al. 2016, "Listen, Attend and
Spell", sec. 3.1) or strided convolutions below the recurrent layers.

    pyramid  h^j_i = BiRNN_j(h^j_{i-1}, [h^{j-1}_{2i}; h^{j-1}_{2i+1}]) for the top `reductions` layers (each
             halves the frame rate by joining two adjacent outputs of the layer below); the layers below them
             read every frame. Chan et al.: 1 BLSTM + 3 pBLSTM layers, 8x fewer steps.
    conv     `reductions` 1-D convolutions (width 3, stride 2, `encoder_hidden` channels, ReLU) on the features,
             then `encoder_layers` BiRNN layers at the reduced rate.

Padding: the frames are right-padded (mask True = real frame). Before every reduction the padded positions are
zeroed and an odd length is padded by one frame; the reduced mask is mask[:, 0::2] (a pair counts when its
first frame is real: ceil(n / 2) steps of an n-frame utterance), so an utterance's annotations never depend on
how much it was padded, and the reduced mask (EncoderOutput.mask, read by Seq2Seq.encode) keeps the attention
off every padded step.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from attn_research.models.cells import Carry, check_cell, make_cell
from attn_research.validation import check_choice

Array = jax.Array
REDUCTIONS = ("pyramid", "conv")


class SpeechEncoderOutput(NamedTuple):
    """annotations [batch, enc_len, enc_dim] (zero at padded steps); final_states as models/encoder.py's
    EncoderOutput (one {"forward", "backward"} dict of carries per recurrent layer); mask [batch, enc_len] bool,
    enc_len = ceil(frames / 2^reductions)."""

    annotations: Array
    final_states: tuple[dict[str, Carry], ...]
    mask: Array


def halve(x: Array, mask: Array) -> tuple[Array, Array]:
    """Joins adjacent frames: x [batch, T, d], mask [batch, T] -> ([batch, ceil(T/2), 2 d], mask[:, 0::2]).
    Padded frames are zeroed first (and an odd T padded by one zero frame)."""
    x = jnp.where(mask[..., None], x, 0.0)
    if x.shape[1] % 2:
        x = jnp.pad(x, ((0, 0), (0, 1), (0, 0)))
        mask = jnp.pad(mask, ((0, 0), (0, 1)))
    batch, frames, dim = x.shape
    return x.reshape(batch, frames // 2, 2 * dim), mask[:, 0::2]


def reduced_length(frames: int, reductions: int) -> int:
    """Steps after `reductions` halvings of `frames` frames: ceil applied each time."""
    for _ in range(reductions):
        frames = -(-frames // 2)
    return frames


class SpeechEncoder(nn.Module):
    """Recurrent acoustic encoder with time reduction (module docstring).

    reduction: 'pyramid' | 'conv'. reductions: number of 2x time reductions (pyramid: <= layers).
    cell: 'gru' | 'lstm'. layers: recurrent layers. hidden: units per direction. bidirectional. dropout: on
    every recurrent layer's input (rng 'dropout'). dtype: matmul dtype of the cells.

    __call__(features [batch, frames, feature_dim] float32, mask [batch, frames] bool, *, train)
      -> SpeechEncoderOutput. Raises ValueError for an unknown reduction or cell, layers < 1, reductions < 0,
      a pyramid with more reductions than layers, or features and mask of different [batch, frames].
    """

    reduction: str = "pyramid"
    reductions: int = 3
    cell: str = "gru"
    layers: int = 4
    hidden: int = 128
    bidirectional: bool = True
    dropout: float = 0.0
    dtype: Any = jnp.float32

    def check(self) -> None:
        check_choice("encoder time reduction (model.reduction)", self.reduction, REDUCTIONS)
        check_cell(self.cell)
        if self.layers < 1 or self.reductions < 0:
            raise ValueError(f"encoder layers must be >= 1 and reductions >= 0, got {self.layers}, {self.reductions}")
        if self.reduction == "pyramid" and self.reductions > self.layers:
            raise ValueError(
                f"a pyramid of {self.layers} layers halves the frame rate at most {self.layers} times, "
                f"got reductions={self.reductions}"
            )

    @nn.compact
    def __call__(self, features: Array, mask: Array, *, train: bool) -> SpeechEncoderOutput:
        self.check()
        if features.ndim != 3 or features.shape[:2] != mask.shape:
            raise ValueError(
                f"features must be [batch, frames, dim] and mask [batch, frames], got {features.shape} and {mask.shape}"
            )
        mask = mask.astype(bool)
        x = jnp.where(mask[..., None], features.astype(jnp.float32), 0.0)
        if self.reduction == "conv":
            for i in range(self.reductions):
                x = jnp.where(mask[..., None], x, 0.0)
                conv = nn.Conv(self.hidden, (3,), strides=(2,), padding=[(1, 1)], dtype=self.dtype, name=f"conv_{i}")
                x = jax.nn.relu(conv(x)).astype(jnp.float32)
                mask = mask[:, 0::2]
        finals = []
        first_reduced = self.layers - self.reductions if self.reduction == "pyramid" else self.layers
        for layer in range(self.layers):
            if layer >= first_reduced:
                x, mask = halve(x, mask)
            lengths = jnp.sum(mask, axis=-1).astype(jnp.int32)
            x = nn.Dropout(self.dropout, name=f"dropout_{layer}")(x, deterministic=not train or self.dropout == 0)
            forward = nn.RNN(make_cell(self.cell, self.hidden, cell_name=f"forward_{layer}", dtype=self.dtype))
            fwd_carry, out = forward(x, seq_lengths=lengths, return_carry=True)
            final = {"forward": fwd_carry}
            if self.bidirectional:
                backward = nn.RNN(make_cell(self.cell, self.hidden, cell_name=f"backward_{layer}", dtype=self.dtype))
                bwd_carry, bwd_out = backward(x, seq_lengths=lengths, return_carry=True, reverse=True, keep_order=True)
                final["backward"] = bwd_carry
                out = jnp.concatenate([out, bwd_out], axis=-1)
            x = jnp.where(mask[..., None], out.astype(jnp.float32), 0.0)
            finals.append(final)
        return SpeechEncoderOutput(x, tuple(finals), mask)
