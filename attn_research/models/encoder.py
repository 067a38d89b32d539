"""The recurrent encoder: embeddings, then stacked uni- or bidirectional GRU/LSTM layers.

Bahdanau et al. (2015), sec. 3.2 and appendix A.2.1: the annotation of source word j is
h_j = [h->_j; h<-_j], the forward RNN having read x_1..x_j and the backward RNN x_{T_x}..x_j.
Luong et al. (2015) and Britz et al. (2017) stack several layers; dropout on the non-recurrent
connections as Zaremba et al. (2014), sec. 3.
"""

from __future__ import annotations

from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from attn_research.models.cells import Carry, check_cell, hidden_state, make_cell

Array = jax.Array


class EncoderOutput(NamedTuple):
    """What the encoder returns.

    annotations:  [batch, src_len, enc_dim] top layer outputs h_j, enc_dim = 2 * hidden if bidirectional
                  else hidden; exactly zero at padding positions.
    final_states: one dict per layer (bottom first): {"forward": carry, "backward": carry} ("backward"
                  only when bidirectional). "forward" is the state after the last real source word
                  (h->_{T_x}); "backward" is the state after reading back to the first word (h<-_1).
                  A carry is h [batch, hidden] (GRU) or (c, h) (LSTM).
    """

    annotations: Array
    final_states: tuple[dict[str, Carry], ...]


class Encoder(nn.Module):
    """Embedding + `layers` recurrent layers over a right-padded source.

    vocab_size, embed_dim: source embedding table. cell: 'gru' | 'lstm'. layers: number of stacked RNN
    layers (>= 1). hidden: units per direction. bidirectional: forward and backward RNNs, concatenated.
    dropout: rate on every layer's input (the embeddings and the outputs of the layer below); needs the
    'dropout' rng when train=True and dropout > 0. dtype: the matmul dtype of the embedding and the cells
    (models/precision.py); the carries and the annotations stay float32.

    __call__(source [batch, src_len] int32, mask [batch, src_len] bool (True = real token; padding must
    be at the end), *, train) -> EncoderOutput. Padding is handled with `seq_lengths`: the backward RNN
    starts at each sequence's last real word, final states are taken at the real ends, and the outputs
    at padding positions are set to zero, so a sequence's annotations do not depend on how much it is
    padded. Parameters: embed, forward_{l} and backward_{l} (the cells of layer l).
    Raises ValueError for an unknown cell or layers < 1.
    """

    vocab_size: int
    embed_dim: int
    cell: str = "gru"
    layers: int = 1
    hidden: int = 512
    bidirectional: bool = True
    dropout: float = 0.0
    dtype: jnp.dtype = jnp.float32

    @property
    def output_dim(self) -> int:
        """enc_dim: the annotation size."""
        return 2 * self.hidden if self.bidirectional else self.hidden

    @nn.compact
    def __call__(self, source: Array, mask: Array, *, train: bool) -> EncoderOutput:
        check_cell(self.cell)
        if self.layers < 1:
            raise ValueError(f"encoder layers must be >= 1, got {self.layers}")
        if source.shape != mask.shape:
            raise ValueError(f"source {source.shape} and mask {mask.shape} must both be [batch, src_len]")
        mask = mask.astype(bool)
        lengths = jnp.sum(mask, axis=-1).astype(jnp.int32)  # [batch]
        keep = mask[:, :, None].astype(jnp.float32)
        x = nn.Embed(self.vocab_size, self.embed_dim, dtype=self.dtype, name="embed")(source)
        finals = []
        for layer in range(self.layers):
            x = nn.Dropout(self.dropout, name=f"dropout_{layer}")(x, deterministic=not train or self.dropout == 0)
            forward = nn.RNN(make_cell(self.cell, self.hidden, cell_name=f"forward_{layer}", dtype=self.dtype))
            fwd_carry, fwd_out = forward(x, seq_lengths=lengths, return_carry=True)
            final = {"forward": fwd_carry}
            if self.bidirectional:
                backward = nn.RNN(make_cell(self.cell, self.hidden, cell_name=f"backward_{layer}", dtype=self.dtype))
                bwd_carry, bwd_out = backward(x, seq_lengths=lengths, return_carry=True, reverse=True, keep_order=True)
                final["backward"] = bwd_carry
                out = jnp.concatenate([fwd_out, bwd_out], axis=-1)
            else:
                out = fwd_out
            x = out * keep  # zero the outputs at padding positions
            finals.append(final)
        return EncoderOutput(x, tuple(finals))


def top_summary(cell: str, final_states: tuple[dict[str, Carry], ...]) -> Array:
    """The last encoder state of the top layer as one vector: [h->_{T_x}; h<-_1] (or h->_{T_x}).

    Returns [batch, enc_dim]; the hidden states h only (not an LSTM's memory cell).
    """
    top = final_states[-1]
    parts = [hidden_state(cell, top["forward"])]
    if "backward" in top:
        parts.append(hidden_state(cell, top["backward"]))
    return jnp.concatenate(parts, axis=-1)


__all__ = ["Encoder", "EncoderOutput", "top_summary"]
