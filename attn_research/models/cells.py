"""Recurrent cells shared by the encoder, the bridge and the decoders.

A cell carry is the pytree `flax.linen` keeps: a GRU carry is h [batch, hidden]; an LSTM carry is the
pair (c, h), each [batch, hidden]. `carry_parts` / `carry_from_parts` name them uniformly so the bridge
can treat "every part of every layer's state" in one loop (Bahdanau's s_0 and the LSTM cell state alike).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax

from attn_research.validation import check_choice

Array = jax.Array
Carry = Any

CELLS = ("gru", "lstm")


def check_cell(name: str) -> str:
    """Returns name if it is one of CELLS, else raises ValueError listing the valid choices."""
    return check_choice("cell", name, CELLS)


def make_cell(name: str, features: int, *, cell_name: str | None = None, dtype=None) -> nn.RNNCellBase:
    """nn.GRUCell or nn.OptimizedLSTMCell with `features` units. Raises ValueError for an unknown name.

    dtype: the dtype of the gate matmuls (None: inferred from inputs and parameters). A float32 carry stays
    float32 under a bfloat16 dtype: the state update (1 - z) n + z h, f c + i g mixes in the float32 carry.
    """
    check_cell(name)
    if name == "gru":
        return nn.GRUCell(features=features, dtype=dtype, name=cell_name)
    return nn.OptimizedLSTMCell(features=features, dtype=dtype, name=cell_name)


def carry_part_names(cell: str) -> tuple[str, ...]:
    """The names of a cell carry's parts: ('h',) for a GRU, ('c', 'h') for an LSTM (flax's order)."""
    return ("h",) if check_cell(cell) == "gru" else ("c", "h")


def carry_parts(cell: str, carry: Carry) -> dict[str, Array]:
    """A cell carry as {part name: [batch, hidden]}."""
    if check_cell(cell) == "gru":
        return {"h": carry}
    c, h = carry
    return {"c": c, "h": h}


def carry_from_parts(cell: str, parts: dict[str, Array]) -> Carry:
    """Inverse of carry_parts."""
    if check_cell(cell) == "gru":
        return parts["h"]
    return (parts["c"], parts["h"])


def hidden_state(cell: str, carry: Carry) -> Array:
    """The hidden state h [batch, hidden] of a cell carry (the LSTM's output, not its memory cell)."""
    return carry_parts(cell, carry)["h"]
