"""Mixed precision: the policy of config.model.compute_dtype (Micikevicius et al. 2018, "Mixed Precision
Training", sec. 3; bfloat16 needs no loss scaling, as its exponent range is float32's).

    "float32"   everything in float32 (the default).
    "bfloat16"  parameters and optimizer state stay float32 (the master copy the optimizer updates); a training
                step casts the whole parameter pytree to bfloat16 ONCE, at the start of its loss function
                (`cast_params`), and the gradient flows back through that cast to the float32 master copy.
                Embeddings are looked up in bfloat16, and the matmuls of recurrent cells, feed-forward layers,
                multi-head projections and output projections read bfloat16 operands (their modules get
                `dtype=bfloat16`; the output projections accumulate into float32 logits). Attention scores
                (computed in float32 from the bfloat16-rounded weights), the softmax and every attention
                normalization, layer norms, the recurrent carries (c, h), the Transformer's residual stream and
                the losses stay float32.

Casting the weights inside each use instead (a module with float32 parameters and a bfloat16 dtype) gives
the same numbers but re-casts every weight at every time step of a scan, which on a CPU cancels the gain of
the bfloat16 matmuls (issue 24).
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp

COMPUTE_DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}

# lax.dot_general with a float32 result whatever the operands (flax Dense(dot_general=...)): a bfloat16 matmul
# that accumulates and returns float32 (on a CPU also faster than one that rounds its result to bfloat16).
dot_general_f32 = functools.partial(jax.lax.dot_general, preferred_element_type=jnp.float32)


def compute_dtype_name(model_config: Any) -> str:
    """model_config.compute_dtype ('float32' when the key is absent). Raises ValueError for another value."""
    name = model_config.get("compute_dtype", "float32")
    if name not in COMPUTE_DTYPES:
        raise ValueError(f"unknown model compute_dtype {name!r}; valid: {', '.join(COMPUTE_DTYPES)}")
    return name


def compute_dtype(model_config: Any) -> jnp.dtype:
    """The dtype matmul operands take under model_config's policy (jnp.float32 or jnp.bfloat16)."""
    return COMPUTE_DTYPES[compute_dtype_name(model_config)]


def cast_params(params: Any, dtype: Any) -> Any:
    """params with every float32 leaf cast to dtype (other leaves unchanged); a no-op for float32.

    Used once per step, inside the differentiated function, so the gradient arrives in float32.
    """
    if jnp.dtype(dtype) == jnp.float32:
        return params
    return jax.tree.map(lambda p: p.astype(dtype) if p.dtype == jnp.float32 else p, params)
