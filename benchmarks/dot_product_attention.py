"""Scaled dot-product attention: ours against jax.nn.dot_product_attention (XLA, and cuDNN on a GPU), forward +
backward, in float32 and bfloat16.

    python -m benchmarks.dot_product_attention [--lengths 256,1024,4096] [--batch 4] [--heads 8] [--head_dim 64]
                                               [--quick]

Multi-head self-attention without projections (Vaswani et al. 2017, eq. 1 per head): queries, keys and values
[batch, length, heads, head_dim], no padding. Rows per dtype and length:
  ours   our factored scaled-dot attention (build_attention({"score": "scaled_dot"})), heads folded into the
         batch axis; it materializes the [length, length] alignment, which the interface returns;
  xla    jax.nn.dot_product_attention(implementation="xla");
  cudnn  jax.nn.dot_product_attention(implementation="cudnn") (cuDNN's fused attention): GPU only, and cuDNN
         takes float16 / bfloat16 only, so other cases are reported as skipped with the reason.
Each is jitted value_and_grad of sum(context^2) with respect to queries, keys and values (keys = values).
`over_ours` is ours' time over the row's (above 1: faster than ours); `max_abs_diff` is the largest absolute
difference of the row's context vectors from ours on the same inputs (a correctness check of the fast paths).
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp

from attn_research.attention import build_attention
from benchmarks.common import benchmark_arguments, output_dir, print_table, spread, write_report
from benchmarks.kernels import default_memory_gb, time_compiled

IMPLEMENTATIONS = ("ours", "xla", "cudnn")
DTYPES = ("float32", "bfloat16")
COLUMNS = ("dtype", "length", "implementation", "ms", "temp_mb", "over_ours", "max_abs_diff", "skipped")


def attend_fn(implementation: str, head_dim: int):
    """context = attend(queries, keys, values), each [batch, length, heads, head_dim] -> [batch, length, heads,
    head_dim]: softmax(q k^T / sqrt(head_dim)) v per head (Vaswani et al. 2017, eq. 1), by one implementation.

    Raises ValueError (one line) if implementation is not one of IMPLEMENTATIONS.
    """
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(f"unknown implementation {implementation!r}; valid: {', '.join(IMPLEMENTATIONS)}")
    if implementation != "ours":
        return lambda q, k, v: jax.nn.dot_product_attention(q, k, v, implementation=implementation)
    attention = build_attention({"score": "scaled_dot", "dim": head_dim})
    example = jnp.zeros((1, 1, head_dim))
    params = attention.init(jax.random.key(0), example, example, example, jnp.ones((1, 1), bool))

    def ours(q, k, v):
        batch, length, heads, dim = q.shape
        fold = lambda x: x.transpose(0, 2, 1, 3).reshape(batch * heads, -1, dim)  # noqa: E731
        mask = jnp.ones((batch * heads, k.shape[1]), bool)
        context = attention.apply(params, fold(q), fold(k), fold(v), mask).context
        return context.reshape(batch, heads, length, dim).transpose(0, 2, 1, 3)

    return ours


def fwd_bwd(attend):
    """jit(value_and_grad(sum(attend(q, k, k)^2))) over queries and keys (keys = values)."""

    def loss(query, keys):
        return jnp.sum(attend(query, keys, keys).astype(jnp.float32) ** 2)

    return jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))


def measure(implementation: str, query, keys, *, repeats: int, max_seconds: float, memory_bytes: float) -> dict:
    """{"ms", "p10_ms", "p90_ms", "temp_mb", "context"} of one implementation, or {"skipped": reason} when it
    does not compile here (cuDNN off a GPU, or with float32), or {"temp_mb", "skipped"} when it plans more than
    memory_bytes of temporaries (kernels.time_compiled)."""
    attend = attend_fn(implementation, query.shape[-1])
    try:
        compiled = fwd_bwd(attend).lower(query, keys).compile()
        context = jax.jit(attend)(query, keys, keys)
    except Exception as error:  # noqa: BLE001  (XLA and cuDNN raise several types; the reason is recorded)
        return {"skipped": f"{type(error).__name__}: {' '.join(str(error).split())[:160]}"}
    measured = time_compiled(
        compiled, (query, keys), repeats=repeats, max_seconds=max_seconds, memory_bytes=memory_bytes
    )
    return measured if "skipped" in measured else {**measured, "context": context}


def compare(rows: list[dict], ours: dict) -> None:
    """Fills each row's over_ours and max_abs_diff from ours' measurement (in place)."""
    for row in rows:
        context = row.pop("context", None)
        if context is None or "context" not in ours:
            continue
        row["over_ours"] = ours["ms"] / row["ms"]
        diff = jnp.abs(context.astype(jnp.float32) - ours["context"].astype(jnp.float32))
        row["max_abs_diff"] = float(jnp.max(diff))


def main() -> None:
    parser = benchmark_arguments(__doc__)
    parser.add_argument("--lengths", default="256,1024,4096", help="query = key lengths (comma separated)")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--head_dim", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--max_seconds", type=float, default=10.0, help="fewer repeats (>= 3) past this per case")
    args = parser.parse_args()
    lengths = [int(s) for s in args.lengths.split(",")]
    if args.quick:
        lengths, args.repeats, args.batch, args.heads = [16, 64], 3, 2, 2
    memory_bytes = default_memory_gb() * 2**30
    started = time.perf_counter()
    rows = []
    for dtype in DTYPES:
        for length in lengths:
            shape = (args.batch, length, args.heads, args.head_dim)
            query = jax.random.normal(jax.random.key(1), shape).astype(dtype)
            keys = jax.random.normal(jax.random.key(2), shape).astype(dtype)
            settings = dict(repeats=args.repeats, max_seconds=args.max_seconds, memory_bytes=memory_bytes)
            measured = {name: measure(name, query, keys, **settings) for name in IMPLEMENTATIONS}
            group = [
                {"dtype": dtype, "length": length, "implementation": name, **measured[name]} for name in IMPLEMENTATIONS
            ]
            compare(group, measured["ours"])
            for row in group:
                row.setdefault("skipped", None)
                print(row, flush=True)
            rows += group
    print_table(rows, COLUMNS)
    summary = {}
    for name in ("xla", "cudnn"):
        ratios = [row["over_ours"] for row in rows if row["implementation"] == name and "over_ours" in row]
        if ratios:
            summary[f"{name}_over_ours"] = spread(ratios)
    skipped = sorted({row["skipped"] for row in rows if row["skipped"]})
    path = write_report(
        "dot_product_attention",
        description=(
            "Multi-head scaled dot-product self-attention, forward + backward: ours against "
            "jax.nn.dot_product_attention (XLA, and cuDNN on a GPU), in float32 and bfloat16."
        ),
        columns=COLUMNS,
        rows=rows,
        out_dir=output_dir(args),
        summary=summary,
        notes=[f"Skipped: {reason}" for reason in skipped],
        settings={
            "lengths": lengths,
            "batch": args.batch,
            "heads": args.heads,
            "head_dim": args.head_dim,
            "repeats": args.repeats,
            "quick": args.quick,
        },
        wall_time_s=time.perf_counter() - started,
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
