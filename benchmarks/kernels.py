"""Attention kernels with parallel queries: forward + backward time and memory of every score, beside a naive
reference in the same run.

    python -m benchmarks.kernels [--lengths 64,256,1024,4096] [--batch 2] [--dim 64] [--quick]

Parallel queries are the teacher-forced Luong decoder without input feeding and self-attention: query_len
= key_len = each of --lengths, keys = values, no padding. Each case is jitted value_and_grad of
sum(context^2) with respect to the parameters, queries and keys. Rows:
  <score>             our factored attention (build_attention({"score": ...})), weights included, for every
                      score registered in attn_research.attention.registry.SCORES;
  scaled_dot (fused)  jax.nn.dot_product_attention (the path our multi-head attention takes without weights).
References (`naive_*`): for additive and concat (one function: concat is additive with W_a split), the
unchunked energy, which materializes the whole [batch, query_len, key_len, dim] tanh; for the fused scaled
dot, an explicit softmax(q k^T / sqrt(d)) v. `temp_mb` is XLA's planned temporary memory of the compiled
program (memory_analysis), the peak beyond inputs and outputs. A case whose temporaries exceed
--memory_gb is compiled but not run, and reported as skipped with the reason.
"""

from __future__ import annotations

import os
import time

import jax
import jax.numpy as jnp

from attn_research.attention import build_attention
from attn_research.attention.registry import SCORES
from benchmarks.common import benchmark_arguments, output_dir, print_table, time_call, write_report

FUSED = "scaled_dot (fused)"
COLUMNS = ("score", "length", "ours_ms", "ours_temp_mb", "naive_ms", "naive_temp_mb", "naive_over_ours", "skipped")


def kernel_rows() -> tuple[str, ...]:
    """The rows of each length: every registered score (attention/registry.py SCORES, registration order), then
    the fused scaled dot."""
    return (*SCORES.names(), FUSED)


def naive_additive(params: dict, query, keys, values, mask):
    """v^T tanh(W1 h_s + W2 h_t) over the whole [batch, query_len, key_len, dim] block, softmax, context."""
    energy = jnp.tanh((query @ params["W2"])[:, :, None, :] + (keys @ params["W1"])[:, None, :, :])
    scores = jnp.einsum("bqkd,d->bqk", energy, params["v"])
    weights = jax.nn.softmax(jnp.where(mask[:, None, :], scores, -jnp.inf), axis=-1)
    return jnp.einsum("bqk,bkd->bqd", weights, values)


def naive_scaled_dot(params: dict, query, keys, values, mask):
    """softmax(q k^T / sqrt(d)) v with the weights spelled out (Vaswani et al. 2017, eq. 1)."""
    del params
    scores = jnp.einsum("bqd,bkd->bqk", query, keys) / jnp.sqrt(jnp.asarray(query.shape[-1], query.dtype))
    weights = jax.nn.softmax(jnp.where(mask[:, None, :], scores, -jnp.inf), axis=-1)
    return jnp.einsum("bqk,bkd->bqd", weights, values)


def fused_scaled_dot(params: dict, query, keys, values, mask):
    """jax.nn.dot_product_attention with one head (its default scale is 1 / sqrt(d))."""
    del params
    out = jax.nn.dot_product_attention(
        query[:, :, None, :], keys[:, :, None, :], values[:, :, None, :], mask=mask[:, None, None, :]
    )
    return out[:, :, 0, :]


def fwd_bwd(attend):
    """jit(value_and_grad(sum(attend(params, q, k, k, mask)^2))) over params, queries and keys."""

    def loss(params, query, keys, mask):
        return jnp.sum(attend(params, query, keys, keys, mask) ** 2)

    return jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2)))


def cases(score: str, dim: int, length: int, rng) -> tuple[tuple, tuple | None]:
    """((ours fn, ours params), (naive fn, naive params) or None) for one row."""
    if score == FUSED:
        return (fused_scaled_dot, {}), (naive_scaled_dot, {})
    attention = build_attention({"score": score, "dim": dim, "max_len": length})
    example = jnp.zeros((1, 1, dim))
    params = attention.init(rng, example, example, example, jnp.ones((1, 1), bool))
    ours = (lambda p, q, k, v, m: attention.apply(p, q, k, v, m).context, params)
    if score not in ("additive", "concat"):
        return ours, None
    keys = jax.random.split(rng, 3)
    naive = {
        "W1": jax.random.normal(keys[0], (dim, dim)) / dim**0.5,
        "W2": jax.random.normal(keys[1], (dim, dim)) / dim**0.5,
        "v": jax.random.normal(keys[2], (dim,)),
    }
    return ours, (naive_additive, naive)


def measure(fn_params: tuple, inputs: tuple, *, repeats: int, max_seconds: float, memory_bytes: float) -> dict:
    """{"ms", "p10_ms", "p90_ms", "temp_mb", "compile_s"} of one fwd + bwd, or {"temp_mb", "skipped"} when
    XLA plans more than memory_bytes of temporaries."""
    fn, params = fn_params
    step = fwd_bwd(fn)
    start = time.perf_counter()
    compiled = step.lower(params, *inputs).compile()
    compile_s = time.perf_counter() - start
    measured = time_compiled(
        compiled, (params, *inputs), repeats=repeats, max_seconds=max_seconds, memory_bytes=memory_bytes
    )
    return measured if "skipped" in measured else {**measured, "compile_s": compile_s}


def time_compiled(compiled, args: tuple, *, repeats: int, max_seconds: float, memory_bytes: float) -> dict:
    """{"ms", "p10_ms", "p90_ms", "temp_mb"} of compiled(*args), or {"temp_mb", "skipped"} without running it
    when XLA plans more than memory_bytes of temporaries (memory_analysis)."""
    temp = compiled.memory_analysis().temp_size_in_bytes
    if temp > memory_bytes:
        return {
            "temp_mb": temp / 2**20,
            "skipped": f"needs {temp / 2**30:.1f} GiB of temporaries (> {memory_bytes / 2**30:.1f} GiB budget)",
        }
    timing = time_call(lambda: compiled(*args), repeats=repeats, max_seconds=max_seconds)
    return {"ms": timing["median_ms"], "p10_ms": timing["p10_ms"], "p90_ms": timing["p90_ms"], "temp_mb": temp / 2**20}


def default_memory_gb() -> float:
    """40% of the host's memory on CPU; 80% of the first device's memory limit elsewhere."""
    stats = jax.devices()[0].memory_stats() if jax.default_backend() != "cpu" else None
    if stats and "bytes_limit" in stats:
        return 0.8 * stats["bytes_limit"] / 2**30
    return 0.4 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def main() -> None:
    parser = benchmark_arguments(__doc__)
    parser.add_argument("--lengths", default="64,256,1024,4096", help="query = key lengths (comma separated)")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--dim", type=int, default=64, help="query, key and attention dim")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--max_seconds", type=float, default=10.0, help="fewer repeats (>= 3) past this per case")
    parser.add_argument("--memory_gb", type=float, default=None, help="largest planned temporaries to run")
    args = parser.parse_args()
    lengths = [int(s) for s in args.lengths.split(",")]
    if args.quick:
        lengths, args.repeats = [16, 64], 3
    memory_bytes = (args.memory_gb or default_memory_gb()) * 2**30
    started = time.perf_counter()
    rng = jax.random.key(0)
    rows = []
    for length in lengths:
        query = jax.random.normal(jax.random.fold_in(rng, 1), (args.batch, length, args.dim))
        keys = jax.random.normal(jax.random.fold_in(rng, 2), (args.batch, length, args.dim))
        inputs = (query, keys, jnp.ones((args.batch, length), bool))
        for score in kernel_rows():
            ours, naive = cases(score, args.dim, length, rng)
            settings = dict(repeats=args.repeats, max_seconds=args.max_seconds, memory_bytes=memory_bytes)
            row = {
                "score": score,
                "length": length,
                **{f"ours_{k}": v for k, v in measure(ours, inputs, **settings).items()},
            }
            if naive is not None:
                row.update({f"naive_{k}": v for k, v in measure(naive, inputs, **settings).items()})
                if "ours_ms" in row and "naive_ms" in row:
                    row["naive_over_ours"] = row["naive_ms"] / row["ours_ms"]
            row["skipped"] = (
                "; ".join(f"{who}: {row.pop(f'{who}_skipped')}" for who in ("ours", "naive") if f"{who}_skipped" in row)
                or None
            )
            rows.append(row)
            print(row, flush=True)
    print_table(rows, COLUMNS)
    path = write_report(
        "kernels",
        description=(
            "Attention kernels with parallel queries (query_len = key_len): forward + backward time and XLA's "
            "planned temporary memory of each score, beside a naive reference in the same run."
        ),
        columns=COLUMNS,
        rows=rows,
        out_dir=output_dir(args),
        settings={
            "lengths": lengths,
            "batch": args.batch,
            "dim": args.dim,
            "repeats": args.repeats,
            "memory_gb": round(memory_bytes / 2**30, 1),
            "quick": args.quick,
        },
        wall_time_s=time.perf_counter() - started,
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
