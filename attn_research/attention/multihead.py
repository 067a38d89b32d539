"""Multi-head scaled dot-product attention (Vaswani et al. 2017, sec. 3.2.2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp

from attn_research.attention import normalizers
from attn_research.attention.registry import FAMILIES
from attn_research.attention.types import AttentionOutput, default_mask, initial_position_state, query_positions
from attn_research.validation import check_positive

Array = jax.Array
F32 = jnp.float32


@FAMILIES.register(
    "multi_head",
    equation="Concat(head_1..h) W^O, head_i = softmax(QW^Q (KW^K)^T / sqrt(d_k)) VW^V; sinusoidal positions",
    source="Vaswani et al. 2017, sec. 3.2.2, 3.5",
)
class MultiHeadAttention(nn.Module):
    """MultiHead(Q, K, V) = Concat(head_1..head_h) W^O, head_i = softmax(Q W_i^Q (K W_i^K)^T / sqrt(d_k)) V W_i^V.

    heads: h. qk_dim: h * d_k (total query/key projection size). v_dim: h * d_v. out_dim: size of W^O's
    output (None: the query's dim). causal: a query at target position t may only see keys at
    positions <= t (decoder self-attention; positions come from `state`, so incremental decoding over a
    key cache works). dropout_rate: on the attention weights when `train=True` is passed or the module is
    built with deterministic=False (needs the 'dropout' rng). return_weights: when False the context comes
    from jax.nn.dot_product_attention (fused kernels where the backend has them) and weights is None.
    residual_scores: residual attention (He et al. 2021, "RealFormer", sec. 3.2, eq. 4; PatchTST's res_attention,
    Nie et al. 2023): the scores S' = Q W^Q (K W^K)^T / sqrt(d_k) + prior_scores go through the softmax, and S'
    [batch, heads, query_len, key_len] float32 comes back as state["scores"] for the next layer's prior_scores
    (prior_scores None: S' is the layer's own scores, as in the first layer).

    __call__(query [batch, query_len, query_dim], keys [batch, key_len, key_dim], values
             [batch, key_len, value_dim], mask [batch, key_len] bool or None, state or None, *, prior_scores
             [batch, heads, query_len, key_len] or None (residual_scores only), train)
      -> AttentionOutput(context [batch, query_len, out_dim], weights [batch, heads, query_len, key_len]
                         float32 or None, state {"position": [batch] int32, and "scores" with residual_scores}).
    Rows with no allowed key give a zero context. Raises ValueError if qk_dim or v_dim is not
    divisible by heads, or for prior_scores without residual_scores.
    """

    heads: int = 8
    qk_dim: int = 512
    v_dim: int = 512
    out_dim: int | None = None
    causal: bool = False
    dropout_rate: float = 0.0
    deterministic: bool = True
    return_weights: bool = True
    residual_scores: bool = False
    dtype: Any = F32

    NOT_CONFIGURED: ClassVar[tuple[str, ...]] = (
        "deterministic",
        "return_weights",
        "residual_scores",
    )  # set by the code, not a config

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MultiHeadAttention:
        """The module a config describes: heads, qk_dim (default: the config's dim, else the field's), v_dim
        (default: qk_dim), out_dim, causal, dropout_rate; a missing or None key keeps the default. Raises
        ValueError unless the config's score (if any) is 'scaled_dot', for sizes < 1 or a dropout_rate outside
        [0, 1)."""
        score = config.get("score")
        if score not in (None, "scaled_dot"):
            raise ValueError(f"multi_head attention uses the 'scaled_dot' score, got {score!r}")

        def read(key: str, default: Any) -> Any:
            value = config.get(key)
            return default if value is None else value

        qk_dim = int(read("qk_dim", read("dim", cls.qk_dim)))
        module = cls(
            heads=int(read("heads", cls.heads)),
            qk_dim=qk_dim,
            v_dim=int(read("v_dim", qk_dim)),
            out_dim=config.get("out_dim"),
            causal=bool(read("causal", cls.causal)),
            dropout_rate=float(read("dropout_rate", cls.dropout_rate)),
        )
        for kind in ("heads", "qk_dim", "v_dim"):
            check_positive(f"multi_head attention {kind}", getattr(module, kind))
        if not 0.0 <= module.dropout_rate < 1.0:
            raise ValueError(f"multi_head attention dropout_rate must be in [0, 1), got {module.dropout_rate!r}")
        return module

    def init_state(self, batch_size: int, key_len: int) -> dict[str, Array]:
        """{"position": [batch] int32 zeros}: the target position of the next query."""
        del key_len
        return initial_position_state(batch_size)

    def precompute(self, keys: Array) -> None:
        """Nothing is cached across decoder steps yet (the key/value projections are recomputed): None."""
        del keys
        return None

    @nn.compact
    def __call__(
        self,
        query: Array,
        keys: Array,
        values: Array,
        mask: Array | None = None,
        state: Any = None,
        precomputed: Any = None,
        *,
        prior_scores: Array | None = None,
        train: bool = False,
    ) -> AttentionOutput:
        if self.qk_dim % self.heads or self.v_dim % self.heads:
            raise ValueError(
                f"qk_dim ({self.qk_dim}) and v_dim ({self.v_dim}) must be divisible by heads ({self.heads})"
            )
        if prior_scores is not None and not self.residual_scores:
            raise ValueError("prior_scores needs a MultiHeadAttention built with residual_scores=True")
        batch, query_len, query_dim = query.shape
        key_len = keys.shape[1]
        d_k, d_v = self.qk_dim // self.heads, self.v_dim // self.heads

        def project(x: Array, size: int, name: str) -> Array:
            dense = nn.DenseGeneral((self.heads, size), dtype=self.dtype, name=name)
            return dense(x)  # [batch, length, heads, size]

        q = project(query, d_k, "query")
        k = project(keys, d_k, "key")
        v = project(values, d_v, "value")

        positions = query_positions(state, batch, query_len)
        allowed = jnp.broadcast_to(default_mask(mask, batch, key_len)[:, None, :], (batch, query_len, key_len))
        if self.causal:
            allowed = allowed & (jnp.arange(key_len)[None, None, :] <= positions[:, :, None])
        has_key = jnp.any(allowed, axis=-1)  # [batch, query_len]

        use_dropout = self.dropout_rate > 0.0 and (train or not self.deterministic)
        # jax.nn.dot_product_attention needs d_v == d_k; otherwise the explicit path computes the context.
        scores = None
        if self.return_weights or use_dropout or d_k != d_v or self.residual_scores:
            logits = jnp.einsum("bqhd,bkhd->bhqk", q.astype(F32), k.astype(F32)) / jnp.sqrt(jnp.asarray(d_k, F32))
            if prior_scores is not None:
                logits = logits + prior_scores.astype(F32)
            if self.residual_scores:
                scores = logits
            weights = normalizers.softmax(logits, jnp.broadcast_to(allowed[:, None], logits.shape))
            attended = weights
            if use_dropout:
                attended = nn.Dropout(self.dropout_rate)(weights, deterministic=False)
            heads_out = jnp.einsum("bhqk,bkhd->bqhd", attended.astype(v.dtype), v)
            if not self.return_weights:
                weights = None
        else:
            weights = None
            heads_out = jax.nn.dot_product_attention(q, k, v, mask=allowed[:, None, :, :])
            heads_out = jnp.where(has_key[:, :, None, None], heads_out, 0.0)
        out_dim = self.out_dim or query_dim
        context = nn.DenseGeneral(out_dim, axis=(-2, -1), dtype=self.dtype, name="out")(heads_out)
        context = jnp.where(has_key[:, :, None], context, 0.0)
        state = {"position": positions[:, -1] + 1}
        if scores is not None:
            state["scores"] = scores
        return AttentionOutput(context, weights, state)
