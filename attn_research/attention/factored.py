"""Factored attention: score x window x normalizer (DESIGN.md, "The one idea").

e = score(query, keys); (allowed, factor) = window(...); a = normalize(e, allowed & mask) * factor;
c = sum_s a_s values_s. The parts come from the registries (registry.py: SCORES, WINDOWS, NORMALIZERS),
so a new score, window or normalizer is one definition beside the others, registered where it is written.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from attn_research.attention.registry import FAMILIES, NORMALIZERS, SCORES, WINDOWS
from attn_research.attention.settings import fields_from_config
from attn_research.attention.types import (
    AttentionOutput,
    context_vector,
    default_mask,
    initial_position_state,
    query_positions,
)
from attn_research.validation import check_choice

Array = jax.Array


def projects_keys(score: str) -> bool:
    """True for the scores with a key-side projection W1 h_s (their class sets PROJECTS_KEYS): they take
    `projected_keys` and return it when called with query=None."""
    return bool(getattr(SCORES.get(score), "PROJECTS_KEYS", False))


def part_module(registry, name: str, owner: nn.Module) -> nn.Module:
    """The registered score or window `name` as a submodule of `owner`, its fields taken from the owner's fields
    of the same name (dim, max_len, half_width, ...). Named by the class's SCOPE_NAME (the parameter path
    checkpoints use, fixed so that renaming a class never moves a parameter), else by `name`."""
    part = registry.get(name)
    arguments = {
        field.name: getattr(owner, field.name)
        for field in dataclasses.fields(part)
        if field.name not in ("parent", "name") and hasattr(owner, field.name)
    }
    return part(**arguments, name=getattr(part, "SCOPE_NAME", name))


def normalize(name: str, scores: Array, allowed: Array, owner: nn.Module) -> Array:
    """The registered normalizer `name` applied to scores [batch, query_len, key_len] over `allowed` (same shape);
    its keyword arguments after `allowed` (softmax's temperature) are the owner's fields of the same name."""
    function = NORMALIZERS.get(name)
    keywords = list(inspect.signature(function).parameters)[2:]
    return function(scores, allowed, **{key: getattr(owner, key) for key in keywords if hasattr(owner, key)})


@FAMILIES.register(
    "factored",
    equation="c = sum_s normalize(window(score(q, k)))_s v_s",
    source="DESIGN.md",
)
class FactoredAttention(nn.Module):
    """Any score x window x normalizer combination, with the common interface of DESIGN.md.

    score: a name in SCORES; window: a name in WINDOWS; normalizer: a name in NORMALIZERS.
    dim: attention dimensionality d (multiplicative, additive, concat, local_p's W_p).
    half_width: window half-width D in source positions (local_m, local_p).
    max_len: most source positions the location score covers.
    temperature: softmax temperature T. normalize: weight normalization of the additive score.
    scale: initial scale g of the cosine score. query_chunk: queries per block of the additive energy.

    __call__(query [batch, query_len, query_dim], keys [batch, key_len, key_dim],
             values [batch, key_len, value_dim], mask [batch, key_len] bool or None, state or None)
      -> AttentionOutput(context [batch, query_len, value_dim], weights [batch, query_len, key_len],
                         state {"position": [batch] int32}).
    precomputed: the result of `precompute(keys)` (decoders compute it once per source sentence), or None.
    train: keyword of the common interface (True while training); stochastic attentions (hard, monotonic
    with noise) sample only then. The factored parts are deterministic and ignore it.
    The state carries the target position t of the next query (local-m's p_t = t). Weights are float32;
    the context has the dtype of values. Raises ValueError for unknown names or mismatched shapes.
    Params: the score's under its SCOPE_NAME (e.g. "AdditiveScore_0"), local_p's under "LocalPredictiveWindow_0".
    """

    score: str = "dot"
    window: str = "global"
    normalizer: str = "softmax"
    dim: int = 128
    half_width: int = 10
    max_len: int = 100
    temperature: float = 1.0
    normalize: bool = False
    scale: float = 10.0
    query_chunk: int = 64

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> FactoredAttention:
        """The module a config describes (keys: the fields; a missing or None key keeps the default).
        Raises ValueError for an unknown score, window or normalizer, naming the valid ones."""
        module = cls(**fields_from_config(cls, config))
        module.check_names()
        return module

    def check_names(self) -> None:
        """Raises ValueError (validation.check_choice) for an unknown score, window or normalizer."""
        check_choice(SCORES.kind, self.score, SCORES)
        check_choice(WINDOWS.kind, self.window, WINDOWS)
        check_choice(NORMALIZERS.kind, self.normalizer, NORMALIZERS)

    def init_state(self, batch_size: int, key_len: int) -> dict[str, Array]:
        """The state before the first decoder step: {"position": [batch] int32 zeros}."""
        del key_len
        return initial_position_state(batch_size)

    def precompute(self, keys: Array) -> Array | None:
        """The query-independent part of the score, once per source sentence (keys [batch, key_len, key_dim]).

        Returns W1 h_s [batch, key_len, dim] for the scores with a key projection (multiplicative, additive,
        concat), None for the others. Passing it back as `precomputed` at every decoder step gives the same
        scores without re-projecting the keys at each step (and its gradient is one matmul, not one per step).
        """
        if not projects_keys(self.score):
            return None
        return self(None, keys, keys)

    @nn.compact
    def __call__(
        self,
        query: Array | None,
        keys: Array,
        values: Array,
        mask: Array | None = None,
        state: Any = None,
        precomputed: Array | None = None,
        *,
        train: bool = False,
    ) -> AttentionOutput:
        del train  # no factored part is stochastic; the keyword is part of the common interface
        self.check_names()
        if (query is not None and query.ndim != 3) or keys.ndim != 3 or values.ndim != 3:
            raise ValueError(
                "query, keys and values must be [batch, length, dim] arrays, got shapes "
                f"{getattr(query, 'shape', None)}, {keys.shape}, {values.shape}"
            )
        if keys.shape[:2] != values.shape[:2]:
            raise ValueError(f"keys {keys.shape} and values {values.shape} differ in [batch, key_len]")
        score = part_module(SCORES, self.score, self)
        if query is None:  # precompute(): the key-side projection only
            return score(None, keys)
        batch, query_len, _ = query.shape
        key_len = keys.shape[1]
        key_mask = default_mask(mask, batch, key_len)
        positions = query_positions(state, batch, query_len)

        if projects_keys(self.score):
            energy = score(query, keys, precomputed)  # [batch, query_len, key_len] float32
        else:
            energy = score(query, keys)
        window = part_module(WINDOWS, self.window, self)(query, positions, jnp.sum(key_mask, axis=-1), key_len)
        allowed = jnp.broadcast_to(key_mask[:, None, :], energy.shape)
        if window.allowed is not None:
            allowed = allowed & window.allowed
        allowed = allowed & jnp.isfinite(energy)
        weights = normalize(self.normalizer, energy, allowed, self)
        if window.factor is not None:
            weights = weights * window.factor
        new_state = {"position": positions[:, -1] + 1}
        return AttentionOutput(context_vector(weights, values), weights, new_state)
