"""Windows: which source positions each query may attend to (Luong et al. 2015, sec. 3.2).

A window module maps query [batch, query_len, query_dim], the queries' target positions t
[batch, query_len] int32, the source lengths S [batch] and key_len to a `Window`:
  allowed: [batch, query_len, key_len] bool, or None for no restriction;
  factor:  [batch, query_len, key_len] float32 multiplied into the normalized weights, or None.
Each window registers itself in WINDOWS (registry.py); its fields are filled from the factored attention's
fields of the same name, and SCOPE_NAME is its parameter path (as the scores', scores.py).
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from attn_research.attention.registry import WINDOWS

Array = jax.Array
F32 = jnp.float32


class Window(NamedTuple):
    """A window's result; the shapes are in the module docstring."""

    allowed: Array | None
    factor: Array | None
    aligned_position: Array | None  # p_t: [batch, query_len] float32, in source positions


def _check_half_width(half_width: int) -> None:
    if half_width < 0:
        raise ValueError(f"window half_width D must be >= 0, got {half_width}")


@WINDOWS.register("global", equation="all source positions", source="Luong et al. 2015, sec. 3.1")
class GlobalWindow(nn.Module):
    """Global attention (Luong et al. 2015, sec. 3.1): every source position is considered."""

    SCOPE_NAME: ClassVar[str] = "GlobalWindow_0"

    @nn.compact
    def __call__(self, query: Array, positions: Array, source_lengths: Array, key_len: int) -> Window:
        return Window(None, None, None)


@WINDOWS.register("local_m", equation="p_t = t; abs(s - p_t) <= D", source="Luong et al. 2015, sec. 3.2")
class LocalMonotonicWindow(nn.Module):
    """local-m (Luong et al. 2015, sec. 3.2): p_t = t; attend to source positions s with |s - p_t| <= D.

    half_width: D, in source positions. Raises ValueError if D < 0.
    """

    SCOPE_NAME: ClassVar[str] = "LocalMonotonicWindow_0"

    half_width: int

    @nn.compact
    def __call__(self, query: Array, positions: Array, source_lengths: Array, key_len: int) -> Window:
        _check_half_width(self.half_width)
        p_t = positions.astype(F32)
        s = jnp.arange(key_len, dtype=F32)
        allowed = jnp.abs(s[None, None, :] - p_t[:, :, None]) <= self.half_width
        return Window(allowed, None, p_t)


@WINDOWS.register(
    "local_p",
    equation="p_t = S sigmoid(v_p^T tanh(W_p h_t)); a_t(s) *= exp(-(s-p_t)^2 / (2 (D/2)^2))",
    source="Luong et al. 2015, eqs. 9-10",
)
class LocalPredictiveWindow(nn.Module):
    """local-p (Luong et al. 2015, eqs. 9-10): p_t = S sigmoid(v_p^T tanh(W_p h_t)), S = source length.

    Attends to |s - p_t| <= D and multiplies the normalized weights by exp(-(s - p_t)^2 / (2 sigma^2)),
    sigma = D / 2, so the weights of a row sum to at most 1.
    half_width: D, in source positions; dim: size of W_p's output. Raises ValueError if D < 1.
    """

    SCOPE_NAME: ClassVar[str] = "LocalPredictiveWindow_0"

    half_width: int
    dim: int

    @nn.compact
    def __call__(self, query: Array, positions: Array, source_lengths: Array, key_len: int) -> Window:
        if self.half_width < 1:
            raise ValueError(f"local_p needs half_width D >= 1 (sigma = D/2), got {self.half_width}")
        hidden = jnp.tanh(nn.Dense(self.dim, use_bias=False, dtype=F32, param_dtype=F32, name="W_p")(query.astype(F32)))
        logit = nn.Dense(1, use_bias=False, dtype=F32, param_dtype=F32, name="v_p")(hidden)[..., 0]
        p_t = source_lengths.astype(F32)[:, None] * jax.nn.sigmoid(logit)  # [batch, query_len]
        distance = jnp.arange(key_len, dtype=F32)[None, None, :] - p_t[:, :, None]
        sigma = self.half_width / 2.0
        allowed = jnp.abs(distance) <= self.half_width
        factor = jnp.exp(-(distance**2) / (2.0 * sigma**2))
        return Window(allowed, factor, p_t)
