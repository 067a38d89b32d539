"""The classifier baselines of Mnih et al. (2014), sec. 4.1, on the same canvases as RAM (model.py).

fc:   flatten -> Linear(fc_hidden) + ReLU -> Linear(fc_hidden) + ReLU -> Linear(classes)        (2 hidden layers)
conv: conv conv_kernel x conv_kernel, conv_filters filters, stride conv_stride (VALID) + ReLU ->
      Linear(fc_hidden) + ReLU -> Linear(classes)                      (2 layers: one convolutional, one dense)
Pixels read as / 255. The paper gives 256 units for the fully connected layers; its conv net (as we read sec.
4.1: 8 filters of 10 x 10 at stride 5, then 256 ReLU units) is not in the transcription of
../shared/docs/published_numbers.md: the defaults (8, 10, 5) follow that reading.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from attn_research.tasks.glimpses.model import GlimpseOutput

Array = jax.Array


class FullyConnected(nn.Module):
    """fc (module docstring): images [batch, H, W, 1] -> GlimpseOutput(logits [batch, classes])."""

    config: ml_collections.ConfigDict
    classes: int

    def __hash__(self) -> int:
        return hash((type(self).__name__, ml_collections.FrozenConfigDict(self.config), self.classes))

    @nn.compact
    def __call__(self, images: Array, *, train: bool = False) -> GlimpseOutput:
        x = images.astype(jnp.float32).reshape(images.shape[0], -1) / 255.0
        for i in range(2):
            x = nn.relu(nn.Dense(int(self.config.fc_hidden), name=f"hidden_{i}")(x))
        return GlimpseOutput(nn.Dense(self.classes, name="output")(x))


class ConvNet(nn.Module):
    """conv (module docstring): images [batch, H, W, 1] -> GlimpseOutput(logits [batch, classes])."""

    config: ml_collections.ConfigDict
    classes: int

    def __hash__(self) -> int:
        return hash((type(self).__name__, ml_collections.FrozenConfigDict(self.config), self.classes))

    @nn.compact
    def __call__(self, images: Array, *, train: bool = False) -> GlimpseOutput:
        x = images.astype(jnp.float32) / 255.0
        kernel, stride = int(self.config.conv_kernel), int(self.config.conv_stride)
        conv = nn.Conv(int(self.config.conv_filters), (kernel, kernel), (stride, stride), "VALID", name="conv")
        x = nn.relu(conv(x))
        x = nn.relu(nn.Dense(int(self.config.fc_hidden), name="hidden")(x.reshape(x.shape[0], -1)))
        return GlimpseOutput(nn.Dense(self.classes, name="output")(x))
