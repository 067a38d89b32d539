"""Factored attention: score x window x normalizer (DESIGN.md, "The one idea").

e = score(query, keys); (allowed, factor) = window(...); a = normalize(e, allowed & mask) * factor;
c = sum_s a_s values_s.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from attn_research.attention import normalizers, scores, windows
from attn_research.attention.types import (
    AttentionOutput,
    context_vector,
    default_mask,
    initial_position_state,
    query_positions,
)

Array = jax.Array

SCORES = {
    "dot": lambda a: scores.DotScore(),
    "scaled_dot": lambda a: scores.ScaledDotScore(),
    "general": lambda a: scores.GeneralScore(),
    "multiplicative": lambda a: scores.MultiplicativeScore(dim=a.dim),
    "additive": lambda a: scores.AdditiveScore(dim=a.dim, normalize=a.normalize, query_chunk=a.query_chunk),
    "concat": lambda a: scores.ConcatScore(dim=a.dim, query_chunk=a.query_chunk),
    "location": lambda a: scores.LocationScore(max_len=a.max_len),
    "cosine": lambda a: scores.CosineScore(scale=a.scale),
}
WINDOWS = {
    "global": lambda a: windows.GlobalWindow(),
    "local_m": lambda a: windows.LocalMonotonicWindow(half_width=a.half_width),
    "local_p": lambda a: windows.LocalPredictiveWindow(half_width=a.half_width, dim=a.dim),
}
NORMALIZERS = tuple(normalizers.NORMALIZERS)
PROJECTED_KEY_SCORES = ("multiplicative", "additive", "concat")  # scores with a key-side projection W1 h_s


class Attention(nn.Module):
    """Any score x window x normalizer combination, with the common interface of DESIGN.md.

    score: one of SCORES; window: one of WINDOWS; normalizer: one of NORMALIZERS.
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

    def init_state(self, batch_size: int, key_len: int) -> dict[str, Array]:
        """The state before the first decoder step: {"position": [batch] int32 zeros}."""
        del key_len
        return initial_position_state(batch_size)

    def precompute(self, keys: Array) -> Array | None:
        """The query-independent part of the score, once per source sentence (keys [batch, key_len, key_dim]).

        Returns W1 h_s [batch, key_len, dim] for the multiplicative, additive and concat scores, None for the
        others. Passing it back as `precomputed` at every decoder step gives the same scores without
        re-projecting the keys at each step (and its gradient is one matmul, not one per step).
        """
        if self.score not in PROJECTED_KEY_SCORES:
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
        for kind, name, valid in (
            ("score", self.score, SCORES),
            ("window", self.window, WINDOWS),
            ("normalizer", self.normalizer, NORMALIZERS),
        ):
            if name not in valid:
                raise ValueError(f"unknown attention {kind} {name!r}; valid: {sorted(valid)}")
        if (query is not None and query.ndim != 3) or keys.ndim != 3 or values.ndim != 3:
            raise ValueError(
                "query, keys and values must be [batch, length, dim] arrays, got shapes "
                f"{getattr(query, 'shape', None)}, {keys.shape}, {values.shape}"
            )
        if keys.shape[:2] != values.shape[:2]:
            raise ValueError(f"keys {keys.shape} and values {values.shape} differ in [batch, key_len]")
        score = SCORES[self.score](self)
        if query is None:  # precompute(): the key-side projection only
            return score(None, keys)
        batch, query_len, _ = query.shape
        key_len = keys.shape[1]
        key_mask = default_mask(mask, batch, key_len)
        positions = query_positions(state, batch, query_len)

        if self.score in PROJECTED_KEY_SCORES:
            energy = score(query, keys, precomputed)  # [batch, query_len, key_len] float32
        else:
            energy = score(query, keys)
        window = WINDOWS[self.window](self)(query, positions, jnp.sum(key_mask, axis=-1), key_len)
        allowed = jnp.broadcast_to(key_mask[:, None, :], energy.shape)
        if window.allowed is not None:
            allowed = allowed & window.allowed
        allowed = allowed & jnp.isfinite(energy)
        if self.normalizer == "softmax":
            weights = normalizers.softmax(energy, allowed, self.temperature)
        else:
            weights = normalizers.NORMALIZERS[self.normalizer](energy, allowed)
        if window.factor is not None:
            weights = weights * window.factor
        new_state = {"position": positions[:, -1] + 1}
        return AttentionOutput(context_vector(weights, values), weights, new_state)
