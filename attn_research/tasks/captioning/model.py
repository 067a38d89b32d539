"""Show, Attend and Tell (Xu et al. 2015, sec. 3 and 4) on canvases: a CNN encoder and an attentive LSTM decoder.

Encoder (sec. 3.1.1): `encoder_channels` stages of conv 3x3 (SAME) + ReLU + 2x2 max-pool over the canvas
[batch, H, W, 1] (pixels / 255) give a grid [H', W', D] (H' = H / 2^stages, D = the last channel count),
then `grid_layers` more conv 3x3 (SAME) + ReLU at the grid's resolution (D channels each; a region's receptive
field grows from 22 to 38 pixels with one at 3 stages, so that each annotation vector sees a whole 28-pixel item,
as the conv5 features of Xu et al.'s VGG see a whole object), flattened to L = H' W' annotation vectors a_i
[batch, L, D]; computed once per image (the attention's key projection too: Encoded.attention_memory). With
`coordinates`, each a_i also carries its region's centre (row, column) scaled to [-1, 1] as two more features
(D + 2; the CoordConv idea of Liu et al. 2018, "An intriguing failing of convolutional neural networks and the
CoordConv solution", sec. 3): convolution features are translation-equivariant, so without them neither f_att nor
the LSTM can tell a left item from a right one, and a caption in reading order needs that.

Decoder (sec. 3.1.2, eqs. 1-7; one step, as decoding/greedy.py steps it):
    c_0 = f_init,c(mean_i a_i), h_0 = f_init,h(mean_i a_i)          two MLPs (one tanh layer each)
    alpha_t = attention(h_{t-1}, a)                                  f_att: any score / normalizer / family of the
                                                                     catalogue over the flattened grid (keys
                                                                     [batch, L, D]); 'hard' = sec. 4.1
    beta_t = sigmoid(f_beta(h_{t-1}))                                the gating scalar of sec. 4.2.1 (selector)
    z_t = beta_t sum_i alpha_ti a_i                                  (context 'mean': z_t = mean_i a_i, no alpha)
    (c_t, h_t) = LSTM((c_{t-1}, h_{t-1}), [E y_{t-1}; z_t])
    p(y_t) = softmax(L_o(E y_{t-1} + L_h h_t + L_z z_t))             the deep output layer, eq. 7
Dropout (rate `dropout`, rng 'dropout') acts on the deep output's input, as Xu et al.'s code does.

Model config keys (default_model_config): encoder_channels [(16, 32, 64)], grid_layers [1], coordinates [True],
embed_dim m [64], hidden n [128], context ['attention' | 'mean'], selector [True] (beta gate), dropout [0.0],
doubly_stochastic_weight lambda [1.0] (eq. 14, read by the task's loss), attention (attention_config('additive',
dim=128); family 'hard' with estimator 'reinforce' | 'gumbel' for hard attention).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from attn_research.attention import attention_config, attention_settings, build_attention
from attn_research.models.cells import hidden_state, make_cell
from attn_research.models.decoders import alignment_row
from attn_research.models.types import Encoded
from attn_research.training.terms import TERMS_COLLECTION
from attn_research.validation import check_choice

Array = jax.Array
F32 = jnp.float32
CONTEXTS = ("attention", "mean")
MODEL_KEYS = (
    "encoder_channels",
    "grid_layers",
    "coordinates",
    "embed_dim",
    "hidden",
    "context",
    "selector",
    "dropout",
    "doubly_stochastic_weight",
    "attention",
)


def default_model_config() -> ml_collections.ConfigDict:
    """config.model of the captioning task (module docstring)."""
    return ml_collections.ConfigDict(
        {
            "encoder_channels": (16, 32, 64),
            "grid_layers": 1,
            "coordinates": True,
            "embed_dim": 64,
            "hidden": 128,
            "context": "attention",
            "selector": True,
            "dropout": 0.0,
            "doubly_stochastic_weight": 1.0,
            "attention": attention_config("additive", dim=128),
        }
    )


def check_model_config(model: Any, height: int, width: int) -> None:
    """One-line ValueErrors: model.context, the sizes, the attention config (build_attention's errors), and a canvas
    that the encoder's pooling does not divide (naming model.encoder_channels and data.height / data.width)."""
    check_choice("captioning context (model.context)", model.get("context"), CONTEXTS)
    for key in ("embed_dim", "hidden"):
        if int(model[key]) < 1:
            raise ValueError(f"model.{key} must be >= 1, got {model[key]}")
    channels = tuple(int(c) for c in model.encoder_channels)
    if not channels or min(channels) < 1:
        raise ValueError(f"model.encoder_channels must be positive channel counts, got {model.encoder_channels}")
    if int(model.grid_layers) < 0:
        raise ValueError(f"model.grid_layers must be >= 0, got {model.grid_layers}")
    if not 0.0 <= float(model.dropout) < 1.0:
        raise ValueError(f"model.dropout must be in [0, 1), got {model.dropout}")
    if float(model.doubly_stochastic_weight) < 0:
        raise ValueError(f"model.doubly_stochastic_weight must be >= 0, got {model.doubly_stochastic_weight}")
    scale = 2 ** len(channels)
    if height % scale or width % scale:
        raise ValueError(
            f"{len(channels)} pooling stages (model.encoder_channels) need data.height and data.width divisible by "
            f"{scale}, got {height} x {width}"
        )
    if model.context == "attention":
        build_attention(model.attention)


def grid_shape(height: int, width: int, stages: int) -> tuple[int, int]:
    """(H', W') of the annotation grid: the canvas halved `stages` times."""
    return height // 2**stages, width // 2**stages


def recorded_keys(model: Any) -> dict[str, Any]:
    """config.model reduced to MODEL_KEYS (a missing key with its default), the attention as attention_settings
    gives it and only with context 'attention'."""
    defaults = default_model_config()
    recorded = {}
    for key in MODEL_KEYS:
        value = model[key] if key in model else defaults[key]
        recorded[key] = value.to_dict() if isinstance(value, ml_collections.ConfigDict) else value
    recorded["encoder_channels"] = [int(c) for c in recorded["encoder_channels"]]
    if recorded["context"] == "attention":
        recorded["attention"] = attention_settings(model.attention)
    else:
        del recorded["attention"]
    return recorded


class CaptionOutput(NamedTuple):
    """CaptionModel.__call__'s result: logits [batch, steps, vocab] float32; alignments [batch, steps, L] float32
    (the weights the context used: one-hot for hard attention; zeros for context 'mean'); betas [batch, steps]
    float32 (the gate; ones without a selector)."""

    logits: Array
    alignments: Array
    betas: Array


def region_coordinates(rows: int, columns: int) -> Array:
    """The centres of an H' x W' grid's regions in reading order (row-major, as the annotations are flattened):
    float32 [H' W', 2] = (row, column), each scaled from the first region's centre (-1) to the last's (+1); a
    one-region axis gives 0. rows, columns >= 1 (the grid of grid_shape). Source: the coordinate channels of
    CoordConv (Liu et al. 2018, sec. 3), appended here to the annotation vectors instead of the input."""

    def centres(n: int) -> Array:
        return jnp.zeros((n,), F32) if n == 1 else jnp.linspace(-1.0, 1.0, n, dtype=F32)

    row, column = jnp.meshgrid(centres(rows), centres(columns), indexing="ij")
    return jnp.stack([row.reshape(-1), column.reshape(-1)], axis=-1)


class ImageEncoder(nn.Module):
    """images uint8 or float [batch, H, W, 1] -> annotations [batch, H' W', D (+ 2 with coordinates)] float32
    (module docstring): len(channels) conv + pool stages, then grid_layers convs at the grid's resolution."""

    channels: tuple[int, ...]
    coordinates: bool = False
    grid_layers: int = 0

    @nn.compact
    def __call__(self, images: Array) -> Array:
        x = images.astype(F32) / 255.0
        for i, features in enumerate(self.channels):
            x = nn.relu(nn.Conv(int(features), (3, 3), padding="SAME", name=f"conv_{i}")(x))
            x = nn.max_pool(x, (2, 2), strides=(2, 2))
        for i in range(self.grid_layers):
            x = nn.relu(nn.Conv(x.shape[-1], (3, 3), padding="SAME", name=f"grid_conv_{i}")(x))
        batch, rows, columns, depth = x.shape
        annotations = x.reshape(batch, rows * columns, depth)
        if not self.coordinates:
            return annotations
        where = jnp.broadcast_to(region_coordinates(rows, columns), (batch, rows * columns, 2))
        return jnp.concatenate([annotations, where], axis=-1)


class ShowAttendTellDecoder(nn.Module):
    """One step of Xu et al.'s LSTM decoder (module docstring); the interface of models/decoders.py:
    init_carry(encoded) -> carry {"rnn": ((c, h),), "attention": state}; __call__(encoded, carry, token [batch],
    *, train) -> (carry, logits [batch, vocab] float32, weights [batch, L] float32, beta [batch] float32)."""

    vocab_size: int
    embed_dim: int
    hidden: int
    context: str = "attention"
    selector: bool = True
    dropout: float = 0.0
    attention_config: Any = None

    def setup(self) -> None:
        self.embed = nn.Embed(self.vocab_size, self.embed_dim)
        self.cell = make_cell("lstm", self.hidden)
        if self.context == "attention":
            self.attention = build_attention(self.attention_config)
        if self.selector:
            self.f_beta = nn.Dense(1, name="f_beta")
        self.L_h = nn.Dense(self.embed_dim, use_bias=False, name="L_h")
        self.L_z = nn.Dense(self.embed_dim, use_bias=False, name="L_z")
        self.L_o = nn.Dense(self.vocab_size, name="L_o")
        self.drop = nn.Dropout(self.dropout)

    def precompute(self, annotations: Array) -> Any:
        """The attention's key features, once per image (None for context 'mean')."""
        return self.attention.precompute(annotations) if self.context == "attention" else None

    def init_carry(self, encoded: Encoded) -> dict[str, Any]:
        carry = {"rnn": tuple(encoded.initial_state)}
        if self.context == "attention":
            batch, regions = encoded.mask.shape
            carry["attention"] = self.attention.init_state(batch, regions)
        return carry

    def __call__(self, encoded: Encoded, carry: dict[str, Any], token: Array, *, train: bool = False):
        y = self.embed(token)  # E y_{t-1} [batch, m]
        h_prev = hidden_state("lstm", carry["rnn"][0])
        new_carry = {}
        if self.context == "attention":
            out = self.attention(
                h_prev[:, None, :],
                encoded.annotations,
                encoded.annotations,
                encoded.mask,
                carry["attention"],
                precomputed=encoded.attention_memory,
                train=train,
            )
            context, weights = out.context[:, 0, :], alignment_row(out.weights)
            new_carry["attention"] = out.state
        else:
            context = encoded.final_state  # mean_i a_i
            weights = jnp.zeros(encoded.mask.shape, F32)
        beta = jax.nn.sigmoid(self.f_beta(h_prev))[:, 0] if self.selector else jnp.ones(h_prev.shape[:1], F32)
        z = beta[:, None] * context
        rnn, h = self.cell(carry["rnn"][0], jnp.concatenate([y, z], axis=-1))
        deep = y + self.L_h(h) + self.L_z(z)
        logits = self.L_o(self.drop(deep, deterministic=not train or self.dropout == 0)).astype(F32)
        new_carry["rnn"] = (rnn,)
        return new_carry, logits, weights, beta


class CaptionModel(nn.Module):
    """The encoder and the decoder of the module docstring, with the step interface decoding/greedy.py reads.

    config: config.model (default_model_config); vocab_size: the caption vocabulary (data.WORDS).
    __call__(images [batch, H, W, 1], target_input [batch, steps] int32 (BOS y_1 ..), *, train) -> CaptionOutput:
        teacher forcing under nn.scan; what a hard attention sows per step (training/terms.py) is stacked to
        [batch, steps]. train=True draws rngs 'dropout' and 'sampling' (hard attention).
    encode(images, region_mask [batch, L] bool, *, train=False) -> Encoded: annotations [batch, L, D], mask,
        initial_state ((c_0, h_0),) from the two MLPs, final_state = mean_i a_i [batch, D], attention_memory.
    init_carry(encoded); decode_step(encoded, carry, token [batch]) -> (carry, logits [batch, vocab], weights
        [batch, L]).
    Raises ValueError for an unknown context or attention (check_model_config).
    """

    config: ml_collections.ConfigDict
    vocab_size: int

    def __hash__(self) -> int:
        return hash((type(self).__name__, ml_collections.FrozenConfigDict(self.config), self.vocab_size))

    def setup(self) -> None:
        config = self.config
        check_choice("captioning context (model.context)", config.context, CONTEXTS)
        self.encoder = ImageEncoder(
            tuple(int(c) for c in config.encoder_channels), bool(config.coordinates), int(config.grid_layers)
        )
        hidden = int(config.hidden)
        self.f_init_c = nn.Dense(hidden, name="f_init_c")
        self.f_init_h = nn.Dense(hidden, name="f_init_h")
        attention = config.get("attention")
        self.decoder = ShowAttendTellDecoder(
            vocab_size=self.vocab_size,
            embed_dim=int(config.embed_dim),
            hidden=hidden,
            context=config.context,
            selector=bool(config.selector),
            dropout=float(config.dropout),
            attention_config=None if attention is None else ml_collections.FrozenConfigDict(attention),
        )

    def encode(self, images: Array, region_mask: Array | None = None, *, train: bool = False) -> Encoded:
        del train  # the encoder has no dropout
        annotations = self.encoder(images)
        batch, regions, _ = annotations.shape
        mask = jnp.ones((batch, regions), bool) if region_mask is None else region_mask.astype(bool)
        if mask.shape != (batch, regions):
            raise ValueError(f"region_mask must be [batch, L] = {(batch, regions)}, got {mask.shape}")
        mean = jnp.mean(annotations, axis=1)  # (1/L) sum_i a_i, the MLPs' input (sec. 3.1.2)
        initial = ((jnp.tanh(self.f_init_c(mean)), jnp.tanh(self.f_init_h(mean))),)
        return Encoded(annotations, mask, initial, mean, self.decoder.precompute(annotations))

    def init_carry(self, encoded: Encoded) -> dict[str, Any]:
        return self.decoder.init_carry(encoded)

    def decode_step(self, encoded: Encoded, carry: dict[str, Any], token: Array, *, train: bool = False):
        carry, logits, weights, _ = self.decoder(encoded, carry, token, train=train)
        return carry, logits, weights

    def __call__(self, images: Array, target_input: Array, *, train: bool = False) -> CaptionOutput:
        encoded = self.encode(images)
        carry = self.init_carry(encoded)

        def step(decoder, carry, token, encoded):
            carry, logits, weights, beta = decoder(encoded, carry, token, train=train)
            return carry, (logits, weights, beta)

        scan = nn.scan(
            step,
            variable_broadcast="params",
            variable_axes={TERMS_COLLECTION: 1},  # sown per step -> [batch, steps]
            split_rngs={"params": False, "dropout": True, "sampling": True},
            in_axes=(1, nn.broadcast),
            out_axes=1,
        )
        _, (logits, alignments, betas) = scan(self.decoder, carry, target_input, encoded)
        return CaptionOutput(logits, alignments, betas)
