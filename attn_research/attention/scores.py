"""Score functions e_t(s) = score(h_t, h_s) between every query and every key.

Each score module maps query [batch, query_len, query_dim] and keys [batch, key_len, key_dim] to
scores [batch, query_len, key_len] in float32 (inputs are promoted, so bfloat16 models score in float32).
The scores with a key-side projection (multiplicative, additive, concat) also take
`projected_keys` [batch, key_len, d], and return it when called with query=None: a decoder computes
W1 h_s once per source sentence instead of once per target step (forward and backward).
Names follow Luong et al. (2015), sec. 3.1, Bahdanau et al. (2015), sec. 3.1 and Britz et al. (2017), sec. 4.5.

Each score registers itself in SCORES (registry.py) with its equation and source. Its fields are filled from
the factored attention's fields of the same name (factored.part_module); SCOPE_NAME is its parameter path
(fixed, so renaming a class never moves a checkpoint's parameters); PROJECTS_KEYS marks the scores with a
key-side projection.
"""

from __future__ import annotations

from typing import ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp

from attn_research.attention.registry import SCORES

Array = jax.Array
F32 = jnp.float32


def _same_dim(name: str, query: Array, keys: Array) -> None:
    if query.shape[-1] != keys.shape[-1]:
        raise ValueError(
            f"the {name!r} score needs query_dim == key_dim, got {query.shape[-1]} and {keys.shape[-1]}; "
            "use 'general', 'multiplicative' or 'additive' for different sizes"
        )


@SCORES.register("dot", equation="e = h_t^T h_s", source="Luong et al. 2015, eq. 8")
class DotScore(nn.Module):
    """Luong et al. (2015), eq. 8, dot: e_t(s) = h_t^T h_s. Raises ValueError if query_dim != key_dim."""

    SCOPE_NAME: ClassVar[str] = "DotScore_0"

    @nn.compact
    def __call__(self, query: Array, keys: Array) -> Array:
        _same_dim("dot", query, keys)
        return jnp.einsum("bqd,bkd->bqk", query.astype(F32), keys.astype(F32))


@SCORES.register("scaled_dot", equation="e = q^T k / sqrt(d_k)", source="Vaswani et al. 2017, eq. 1")
class ScaledDotScore(nn.Module):
    """Vaswani et al. (2017), eq. 1: e_t(s) = q_t^T k_s / sqrt(d_k). Raises ValueError if query_dim != key_dim."""

    SCOPE_NAME: ClassVar[str] = "ScaledDotScore_0"

    @nn.compact
    def __call__(self, query: Array, keys: Array) -> Array:
        _same_dim("scaled_dot", query, keys)
        scale = 1.0 / jnp.sqrt(jnp.asarray(keys.shape[-1], F32))
        return jnp.einsum("bqd,bkd->bqk", query.astype(F32), keys.astype(F32)) * scale


@SCORES.register("general", equation="e = h_t^T W_a h_s", source="Luong et al. 2015, eq. 8")
class GeneralScore(nn.Module):
    """Luong et al. (2015), eq. 8, general: e_t(s) = h_t^T W_a h_s, W_a: [query_dim, key_dim].

    Computed as (h_t^T W_a) h_s: one projection per query rather than per key.
    """

    SCOPE_NAME: ClassVar[str] = "GeneralScore_0"

    @nn.compact
    def __call__(self, query: Array, keys: Array) -> Array:
        w_a = self.param("W_a", nn.initializers.lecun_normal(), (query.shape[-1], keys.shape[-1]), F32)
        projected = jnp.einsum("bqd,de->bqe", query.astype(F32), w_a)
        return jnp.einsum("bqe,bke->bqk", projected, keys.astype(F32))


@SCORES.register(
    "multiplicative", equation="e = <W1 h_s, W2 h_t>, d = attention dim", source="Britz et al. 2017, sec. 4.5"
)
class MultiplicativeScore(nn.Module):
    """Britz et al. (2017), sec. 4.5, Mul-d: e_t(s) = <W1 h_s, W2 h_t>, W1: [key_dim, d], W2: [query_dim, d].

    dim: the attention dimensionality d.
    """

    SCOPE_NAME: ClassVar[str] = "MultiplicativeScore_0"
    PROJECTS_KEYS: ClassVar[bool] = True

    dim: int

    @nn.compact
    def __call__(self, query: Array | None, keys: Array, projected_keys: Array | None = None) -> Array:
        query_d, keys_d = _project(self.dim, query, keys, projected_keys)
        if query_d is None:
            return keys_d
        return jnp.einsum("bqd,bkd->bqk", query_d, keys_d)


def _project(dim: int, query: Array | None, keys: Array, projected_keys: Array | None) -> tuple[Array | None, Array]:
    """(W2 h_t [batch, query_len, dim] or None when query is None, W1 h_s [batch, key_len, dim]).

    W1 h_s is taken from projected_keys when a decoder computed it once per sentence (precompute).
    """
    keys_d = projected_keys
    if keys_d is None:
        keys_d = nn.Dense(dim, use_bias=False, dtype=F32, param_dtype=F32, name="W1")(keys.astype(F32))
    if query is None:
        return None, keys_d
    return nn.Dense(dim, use_bias=False, dtype=F32, param_dtype=F32, name="W2")(query.astype(F32)), keys_d


def _symmetric_uniform(limit: float):
    """Initializer U(-limit, limit) (tfa's BahdanauAttention uses limit = 1/sqrt(d) for v)."""

    def init(key, shape, dtype=F32):
        return jax.random.uniform(key, shape, dtype, -limit, limit)

    return init


def _tanh_energy(query_d: Array, keys_d: Array, v: Array, bias: Array | None, query_chunk: int) -> Array:
    """sum_d v_d tanh(keys_d[s, d] + query_d[t, d] + b_d) for every (t, s): [batch, query_len, key_len].

    Never builds the whole [batch, query_len, key_len, d] array: queries are processed in chunks of
    query_chunk (the chunk's [batch, chunk, key_len, d] block is the peak), and each chunk's tanh is
    recomputed in the backward pass (jax.checkpoint) instead of being stored for it, so the gradient
    does not hold every chunk at once either.
    """
    if bias is not None:
        keys_d = keys_d + bias

    def energy(q_block: Array) -> Array:  # [batch, chunk, d] -> [batch, chunk, key_len]
        return jnp.einsum("bqkd,d->bqk", jnp.tanh(q_block[:, :, None, :] + keys_d[:, None, :, :]), v)

    batch, query_len, dim = query_d.shape
    if query_len <= query_chunk:
        return energy(query_d)
    pad = (-query_len) % query_chunk
    blocks = jnp.pad(query_d, ((0, 0), (0, pad), (0, 0))).reshape(batch, -1, query_chunk, dim)
    scores = jax.lax.map(jax.checkpoint(energy), jnp.swapaxes(blocks, 0, 1))  # [num_chunks, batch, chunk, key_len]
    return jnp.swapaxes(scores, 0, 1).reshape(batch, -1, keys_d.shape[1])[:, :query_len]


@SCORES.register(
    "additive",
    equation="e = v^T tanh(W1 h_s + W2 s_{t-1}) (normalize: v -> g v / norm(v), + b)",
    source="Bahdanau et al. 2015, eq. 6 / A.1.2; Salimans & Kingma 2016",
)
class AdditiveScore(nn.Module):
    """Bahdanau et al. (2015), eq. 6 / appendix A.1.2: e_t(s) = v^T tanh(W1 h_s + W2 s_{t-1}).

    dim: the attention dimensionality d (Britz et al. 2017, Add-d).
    normalize: weight normalization as tfa's BahdanauAttention(normalize=True) (Salimans & Kingma 2016):
      v is replaced by g v / ||v|| with a learned scalar g (init sqrt(1/d)), and a learned bias b enters the tanh.
    query_chunk: queries scored at once; bounds the [batch, chunk, key_len, d] intermediate.
    """

    SCOPE_NAME: ClassVar[str] = "AdditiveScore_0"
    PROJECTS_KEYS: ClassVar[bool] = True

    dim: int
    normalize: bool = False
    query_chunk: int = 64

    @nn.compact
    def __call__(self, query: Array | None, keys: Array, projected_keys: Array | None = None) -> Array:
        query_d, keys_d = _project(self.dim, query, keys, projected_keys)
        if query_d is None:
            return keys_d
        v = self.param("v", _symmetric_uniform(1.0 / self.dim**0.5), (self.dim,), F32)
        bias = None
        if self.normalize:
            g = self.param("g", nn.initializers.constant(jnp.sqrt(1.0 / self.dim)), (), F32)
            bias = self.param("b", nn.initializers.zeros, (self.dim,), F32)
            v = g * v / jnp.linalg.norm(v)
        return _tanh_energy(query_d, keys_d, v, bias, self.query_chunk)


@SCORES.register(
    "concat",
    equation="e = v_a^T tanh(W_a [h_t; h_s]) (= additive with W_a = [W2; W1])",
    source="Luong et al. 2015, eq. 8",
)
class ConcatScore(nn.Module):
    """Luong et al. (2015), eq. 8, concat: e_t(s) = v_a^T tanh(W_a [h_t; h_s]), W_a: [d, query_dim + key_dim].

    Params: W_a_query [query_dim, d] and W_a_key [key_dim, d], the two column blocks of W_a^T (stored apart so
    the key block can be applied once per sentence); v_a [d, 1].

    Relation to `additive`: splitting W_a = [W2; W1] row-wise gives W_a [h_t; h_s] = W2 h_t + W1 h_s, so
    concat is Bahdanau's additive score (without weight normalization) as a function; the papers differ in
    which decoder state is the query (Luong: the current h_t; Bahdanau: the previous s_{t-1}), which the
    decoder decides, not the score. Kept as its own name so configs read like Luong's tables.
    """

    SCOPE_NAME: ClassVar[str] = "ConcatScore_0"
    PROJECTS_KEYS: ClassVar[bool] = True

    dim: int
    query_chunk: int = 64

    @nn.compact
    def __call__(self, query: Array | None, keys: Array, projected_keys: Array | None = None) -> Array:
        keys_d = projected_keys
        if keys_d is None:
            w_key = self.param("W_a_key", nn.initializers.lecun_normal(), (keys.shape[-1], self.dim), F32)
            keys_d = jnp.einsum("bki,id->bkd", keys.astype(F32), w_key)
        if query is None:
            return keys_d
        w_query = self.param("W_a_query", nn.initializers.lecun_normal(), (query.shape[-1], self.dim), F32)
        v_a = self.param("v_a", nn.initializers.lecun_normal(), (self.dim, 1), F32)[:, 0]
        query_d = jnp.einsum("bqi,id->bqd", query.astype(F32), w_query)
        return _tanh_energy(query_d, keys_d, v_a, None, self.query_chunk)


@SCORES.register(
    "location", equation="a_t = softmax(W_a h_t) over positions < max_len", source="Luong et al. 2015, eq. 8"
)
class LocationScore(nn.Module):
    """Luong et al. (2015), eq. 8, location: a_t = softmax(W_a h_t), W_a: [max_len, query_dim].

    The score depends on the query alone: one logit per source position up to max_len. Positions at or
    beyond max_len get -inf (so zero weight). Raises ValueError if max_len < 1.
    """

    SCOPE_NAME: ClassVar[str] = "LocationScore_0"

    max_len: int

    @nn.compact
    def __call__(self, query: Array, keys: Array) -> Array:
        if self.max_len < 1:
            raise ValueError(f"location score needs max_len >= 1, got {self.max_len}")
        logits = nn.Dense(self.max_len, use_bias=False, dtype=F32, param_dtype=F32, name="W_a")(query.astype(F32))
        key_len = keys.shape[1]
        if key_len <= self.max_len:
            return logits[..., :key_len]
        pad = jnp.full(logits.shape[:-1] + (key_len - self.max_len,), -jnp.inf, F32)
        return jnp.concatenate([logits, pad], axis=-1)


@SCORES.register("cosine", equation="e = g cos(h_t, h_s), g learned", source="Graves et al. 2014, sec. 3.3.1")
class CosineScore(nn.Module):
    """Scaled cosine similarity: e_t(s) = g * h_t^T h_s / (||h_t|| ||h_s||), g learned (init `scale`).

    As in Graves et al. (2014), sec. 3.3.1 (content addressing with key strength beta) and Luo et al. (2018).
    eps guards zero vectors. Raises ValueError if query_dim != key_dim.
    """

    SCOPE_NAME: ClassVar[str] = "CosineScore_0"

    scale: float = 10.0
    eps: float = 1e-6

    @nn.compact
    def __call__(self, query: Array, keys: Array) -> Array:
        _same_dim("cosine", query, keys)
        g = self.param("g", nn.initializers.constant(self.scale), (), F32)
        q = query.astype(F32)
        k = keys.astype(F32)
        q = q / jnp.sqrt(jnp.sum(q * q, -1, keepdims=True) + self.eps**2)
        k = k / jnp.sqrt(jnp.sum(k * k, -1, keepdims=True) + self.eps**2)
        return g * jnp.einsum("bqd,bkd->bqk", q, k)
