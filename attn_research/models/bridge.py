"""Bridges: the decoder's initial state(s) from the encoder's final states (config `bridge`).

    bahdanau  s_0 = tanh(W_s h<-_1): the backward RNN's state at the first source position
              (Bahdanau et al. 2015, appendix A.2.2). Unidirectional encoders have no backward RNN;
              there the forward state after the last word, h->_{T_x}, stands in for it.
    last      the encoder's last state [h->_{T_x}; h<-_1] (or h->_{T_x}), through a linear map (with
              bias) when its size differs from the decoder's (Sutskever et al. 2014; Britz et al. 2017,
              sec. 4.5 "None-State").
    zeros     all zeros (Britz et al. 2017's attention models; tf-seq2seq's ZeroBridge).
    learned   a learned vector per layer and part, shared by every sequence (initialized at zero).

Every decoder layer gets its own initial state, and so does an LSTM's memory cell c (from the
encoder's memory cells). Decoder layer l reads encoder layer l when both stacks have the same
depth, otherwise the encoder's top layer.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from attn_research.models.cells import Carry, carry_from_parts, carry_part_names, carry_parts
from attn_research.validation import check_choice

Array = jax.Array

BRIDGES = ("bahdanau", "last", "zeros", "learned")


def check_bridge(name: str) -> str:
    """Returns name if it is one of BRIDGES, else raises ValueError listing the valid choices."""
    return check_choice("bridge", name, BRIDGES)


class Bridge(nn.Module):
    """Maps EncoderOutput.final_states to one initial cell carry per decoder layer.

    kind: one of BRIDGES. cell: 'gru' | 'lstm' (the encoder's and the decoder's). layers, hidden: the
    decoder's depth and units.

    __call__(final_states (EncoderOutput.final_states), batch_size) -> tuple of `layers` carries, each
    h [batch, hidden] (GRU) or (c [batch, hidden], h [batch, hidden]) (LSTM), float32.
    Parameters: bahdanau: W_s_{l} (h) and W_c_{l} (LSTM c), no bias; last: project_{l}_{part} when
    sizes differ; learned: initial_{part}_{l} [hidden]. Raises ValueError for an unknown kind.
    """

    kind: str
    cell: str
    layers: int
    hidden: int

    @nn.compact
    def __call__(self, final_states: tuple[dict[str, Carry], ...], batch_size: int) -> tuple[Carry, ...]:
        check_bridge(self.kind)
        carries = []
        for layer in range(self.layers):
            source = final_states[layer] if len(final_states) == self.layers else final_states[-1]
            forward = carry_parts(self.cell, source["forward"])
            backward = carry_parts(self.cell, source["backward"]) if "backward" in source else None
            parts = {}
            for part in carry_part_names(self.cell):
                if self.kind == "zeros":
                    value = jnp.zeros((batch_size, self.hidden), jnp.float32)
                elif self.kind == "learned":
                    vector = self.param(f"initial_{part}_{layer}", nn.initializers.zeros, (self.hidden,), jnp.float32)
                    value = jnp.broadcast_to(vector, (batch_size, self.hidden))
                elif self.kind == "bahdanau":
                    first = backward[part] if backward is not None else forward[part]
                    name = f"W_s_{layer}" if part == "h" else f"W_c_{layer}"
                    value = jnp.tanh(nn.Dense(self.hidden, use_bias=False, name=name)(first))
                else:  # last
                    value = forward[part] if backward is None else jnp.concatenate([forward[part], backward[part]], -1)
                    if value.shape[-1] != self.hidden:
                        value = nn.Dense(self.hidden, name=f"project_{layer}_{part}")(value)
                parts[part] = value.astype(jnp.float32)
            carries.append(carry_from_parts(self.cell, parts))
        return tuple(carries)
