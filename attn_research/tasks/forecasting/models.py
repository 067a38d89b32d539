"""The forecasting models by name (config.model.name), their config keys and defaults.

config.model (default_model_config(); each model reads the keys of MODEL_KEYS[name]):
    name              ['dlinear']  repeat | dlinear | patch_attention | transformer | temporal_attention
    moving_average    [25]     DLinear's moving-average kernel (odd)
    individual        [False]  DLinear: one linear layer per channel (True) or shared (False, the ETT setting)
    linear_init       ['torch']  DLinear's initialization: torch (the reference code's: PyTorch nn.Linear's
                               default, linear.torch_linear_init) | lecun (Flax's Dense default)
    patch_len, stride [16, 8]  PatchTST's patches
    d_model, heads, ff_dim     [16, 4, 128]  PatchTST/42's sizes (the Transformer's config sets 512, 8, 2048)
    encoder_layers    [3]      Transformer encoder layers (PatchTST/42: 3)
    decoder_layers    [1]      the forecasting Transformer's decoder layers
    dropout           [0.3]    on sub-layer outputs and embeddings (PatchTST/42: 0.3)
    attention_dropout [0.0]    on the attention weights
    head_dropout      [0.0]    PatchTST: before the linear head
    norm              ['post'] 'post' | 'pre' (models/transformer_layers.py)
    final_norm        [True]   patch attention with norm 'pre': a norm after the last encoder layer (patch.py)
    normalization     ['layer']  patch attention's norms: 'layer' | 'batch' (PatchTST's reference: batch; patch.py)
    residual_attention [False]  patch attention: each layer adds the previous layer's attention scores (PatchTST's
                               reference res_attention; RealFormer, He et al. 2021)
    activation        ['relu']  patch attention's feed-forward activation: 'relu' | 'gelu' (PatchTST's reference)
    ff_dropout, projection_dropout  [0.0, 0.0]  patch attention: dropout inside the feed-forward network and on the
                               attention's output projection (PatchTST's reference: 0.3 each, its dropout)
    label_len         [48]     the Transformer decoder's start values (Informer / Autoformer: 48 at L = 96)
    cell, hidden      ['lstm', 64]  the temporal-attention model's recurrent cells
    step_len          [1]      the temporal-attention decoder's forecast hours per step (1: Qin et al.)
    attention         attention_config('additive', dim=64): its score (any of the catalogue)
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import ml_collections

from attn_research.attention import attention_config, attention_settings, build_attention
from attn_research.models.cells import check_cell
from attn_research.models.transformer_layers import ACTIVATIONS, NORMALIZATIONS, NORMS
from attn_research.registry import Registry
from attn_research.tasks.forecasting.linear import LINEAR_INITS, DLinear, Repeat
from attn_research.tasks.forecasting.patch import PatchAttention, num_patches
from attn_research.tasks.forecasting.temporal import TemporalAttentionForecaster
from attn_research.tasks.forecasting.transformer import TransformerForecaster
from attn_research.validation import check_choice, check_positive

MODELS = Registry("forecasting model")

TRANSFORMER_KEYS = ("d_model", "heads", "ff_dim", "encoder_layers", "dropout", "attention_dropout", "norm")
MODEL_KEYS = {
    "repeat": (),
    "dlinear": ("moving_average", "individual", "linear_init"),
    "patch_attention": (
        "patch_len",
        "stride",
        "head_dropout",
        "final_norm",
        "normalization",
        "residual_attention",
        "activation",
        "ff_dropout",
        "projection_dropout",
        *TRANSFORMER_KEYS,
    ),
    "transformer": ("label_len", "decoder_layers", *TRANSFORMER_KEYS),
    "temporal_attention": ("cell", "hidden", "step_len", "attention"),
}


def default_model_config() -> ml_collections.ConfigDict:
    """config.model with the defaults of the module docstring (DLinear)."""
    return ml_collections.ConfigDict(
        {
            "name": "dlinear",
            "moving_average": 25,
            "individual": False,
            "linear_init": "torch",
            "patch_len": 16,
            "stride": 8,
            "d_model": 16,
            "heads": 4,
            "ff_dim": 128,
            "encoder_layers": 3,
            "decoder_layers": 1,
            "dropout": 0.3,
            "attention_dropout": 0.0,
            "head_dropout": 0.0,
            "norm": "post",
            "final_norm": True,
            "normalization": "layer",
            "residual_attention": False,
            "activation": "relu",
            "ff_dropout": 0.0,
            "projection_dropout": 0.0,
            "label_len": 48,
            "cell": "lstm",
            "hidden": 64,
            "step_len": 1,
            "attention": attention_config("additive", dim=64),
        }
    )


def _transformer_sizes(model: Any) -> dict[str, Any]:
    return {key: model[key] for key in TRANSFORMER_KEYS if key != "encoder_layers"}


@MODELS.register("repeat", equation="x_hat_{L+h} = x_L", source="Zeng et al. 2023, Table 2")
def _repeat(model: Any, horizon: int) -> nn.Module:
    return Repeat(horizon)


@MODELS.register(
    "dlinear",
    equation="x_hat = W_t MA_k(x) + W_s (x - MA_k(x)) + b",
    source="Zeng et al. 2023, sec. 4",
)
def _dlinear(model: Any, horizon: int) -> nn.Module:
    return DLinear(
        horizon, kernel=int(model.moving_average), individual=bool(model.individual), linear_init=str(model.linear_init)
    )


@MODELS.register(
    "patch_attention",
    equation="x_hat = W_h flatten(Encoder(W_p patches + W_pos)), per channel, RevIN",
    source="Nie et al. 2023, sec. 3.1",
)
def _patch_attention(model: Any, horizon: int) -> nn.Module:
    return PatchAttention(
        horizon,
        patch_len=int(model.patch_len),
        stride=int(model.stride),
        layers=int(model.encoder_layers),
        head_dropout=float(model.head_dropout),
        final_norm=bool(model.final_norm),
        normalization=str(model.normalization),
        residual_attention=bool(model.residual_attention),
        activation=str(model.activation),
        ff_dropout=float(model.ff_dropout),
        projection_dropout=float(model.projection_dropout),
        **_transformer_sizes(model),
    )


@MODELS.register(
    "transformer",
    equation="x_hat = W_o Decoder([x_{L-l+1..L}; 0_H], Encoder(W_e x + PE))[l:]",
    source="Vaswani et al. 2017; Zhou et al. 2021, sec. 3.3",
)
def _transformer(model: Any, horizon: int) -> nn.Module:
    return TransformerForecaster(
        horizon,
        label_len=int(model.label_len),
        encoder_layers=int(model.encoder_layers),
        decoder_layers=int(model.decoder_layers),
        **_transformer_sizes(model),
    )


@MODELS.register(
    "temporal_attention",
    equation="c_t = sum_i beta_t^i h_i, beta_t = attention(d_{t-1}, h); d_t = f(d_{t-1}, w~[y_{t-1}; c_t])",
    source="Qin et al. 2017, sec. 3.2",
)
def _temporal_attention(model: Any, horizon: int) -> nn.Module:
    attention = model.attention
    config = attention.to_dict() if hasattr(attention, "to_dict") else dict(attention)
    return TemporalAttentionForecaster(
        horizon,
        cell=str(model.cell),
        hidden=int(model.hidden),
        attention_config=ml_collections.FrozenConfigDict(config),
        step_len=int(model.step_len),
    )


def build_model(model: Any, horizon: int) -> nn.Module:
    """The unbound Flax module of config.model for horizon H. Raises ValueError (check_model's)."""
    return MODELS.get(model.name)(model, horizon)


def check_model(model: Any, lookback: int) -> None:
    """Raises ValueError (one line, naming the key) for an unknown model name, cell, norm or attention, an even
    or non-positive moving-average kernel, an unknown DLinear linear_init, a patch longer than the look-back,
    label_len > L, step_len outside [1, L], or sizes < 1."""
    name = check_choice("forecasting model (model.name)", model.get("name"), MODELS)
    if name == "dlinear":
        if model.moving_average < 1 or model.moving_average % 2 == 0:
            raise ValueError(f"model.moving_average must be odd and >= 1, got {model.moving_average!r}")
        check_choice("model.linear_init", model.linear_init, LINEAR_INITS)
    if name in ("patch_attention", "transformer"):
        check_choice("model.norm", model.norm, NORMS)
        for key in ("d_model", "heads", "ff_dim", "encoder_layers"):
            check_positive(f"model.{key}", model[key])
        if model.d_model % model.heads:
            raise ValueError(f"model.d_model ({model.d_model}) must be divisible by model.heads ({model.heads})")
    if name == "patch_attention":
        num_patches(lookback, int(model.patch_len), int(model.stride))
        check_choice("model.normalization", model.normalization, NORMALIZATIONS)
        check_choice("model.activation", model.activation, tuple(ACTIVATIONS))
        for key in ("ff_dropout", "projection_dropout"):
            if not 0.0 <= float(model[key]) < 1.0:
                raise ValueError(f"model.{key} must be in [0, 1), got {model[key]}")
    if name == "transformer":
        check_positive("model.decoder_layers", model.decoder_layers)
        if not 0 <= model.label_len <= lookback:
            raise ValueError(f"model.label_len ({model.label_len}) must be in [0, data.lookback = {lookback}]")
    if name == "temporal_attention":
        check_cell(model.cell)
        check_positive("model.hidden", model.hidden)
        if not 1 <= model.step_len <= lookback:
            raise ValueError(f"model.step_len ({model.step_len}) must be in [1, data.lookback = {lookback}]")
        build_attention(model.attention)


def recorded_keys(model: Any) -> dict[str, Any]:
    """{"name", and the keys MODEL_KEYS lists for the model} as plain values (a results JSON's config.model;
    the attention as attention_settings records it)."""
    recorded = {"name": model.name}
    for key in MODEL_KEYS[check_choice("forecasting model (model.name)", model.name, MODELS)]:
        recorded[key] = attention_settings(model[key]) if key == "attention" else model[key]
    return recorded
