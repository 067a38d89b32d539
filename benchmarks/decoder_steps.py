"""The decoder's attention pattern: one query per step, keys projected once per sentence or at every step.

    python -m benchmarks.decoder_steps [--lengths 64,256] [--batch 8] [--dim 128] [--quick]

For the scores with a key projection W1 h_s (multiplicative, additive, concat), a scan of single-query
steps over --length steps and keys, forward + backward: `per_step_ms` re-projects the keys at every step,
`precompute_ms` projects them once (`FactoredAttention.precompute`, as the decoders do); `speedup` is their
ratio, measured in the same run.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp

from attn_research.attention import build_attention
from benchmarks.common import benchmark_arguments, output_dir, print_table, time_call, write_report

SCORES = ("multiplicative", "additive", "concat")
COLUMNS = ("score", "length", "per_step_ms", "precompute_ms", "speedup")


def decoder_steps(attention, queries, keys, mask, precompute: bool):
    """jit(value_and_grad) of a scan of single-query steps over queries [steps, batch, 1, dim]."""

    def loss(params):
        memory = attention.apply(params, keys, method=attention.precompute) if precompute else None

        def step(total, query):
            out = attention.apply(params, query, keys, keys, mask, precomputed=memory)
            return total + jnp.sum(out.context**2), None

        return jax.lax.scan(step, 0.0, queries)[0]

    return jax.jit(jax.value_and_grad(loss))


def main() -> None:
    parser = benchmark_arguments(__doc__)
    parser.add_argument("--lengths", default="64,256", help="decoder steps = key lengths (comma separated)")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    lengths = [int(s) for s in args.lengths.split(",")]
    if args.quick:
        lengths, args.repeats = [16], 3
    started = time.perf_counter()
    rng = jax.random.key(0)
    rows = []
    for length in lengths:
        query = jax.random.normal(rng, (args.batch, length, args.dim))
        keys = jax.random.normal(jax.random.fold_in(rng, 1), (args.batch, length, args.dim))
        mask = jnp.ones((args.batch, length), bool)
        steps = jnp.swapaxes(query, 0, 1)[:, :, None, :]  # [steps, batch, 1, dim]
        for score in SCORES:
            attention = build_attention({"score": score, "dim": args.dim})
            params = attention.init(rng, query, keys, keys, mask)
            timings = {}
            for precompute in (False, True):
                fn = decoder_steps(attention, steps, keys, mask, precompute)
                timings[precompute] = time_call(lambda fn=fn, params=params: fn(params), repeats=args.repeats)
            rows.append(
                {
                    "score": score,
                    "length": length,
                    "per_step_ms": timings[False]["median_ms"],
                    "precompute_ms": timings[True]["median_ms"],
                    "precompute_p10_ms": timings[True]["p10_ms"],
                    "precompute_p90_ms": timings[True]["p90_ms"],
                    "speedup": timings[False]["median_ms"] / timings[True]["median_ms"],
                }
            )
    print_table(rows, COLUMNS)
    path = write_report(
        "decoder_steps",
        description=(
            "The decoder's attention pattern (one query per step, forward + backward): keys projected at every "
            "step against once per sentence (FactoredAttention.precompute)."
        ),
        columns=COLUMNS,
        rows=rows,
        out_dir=output_dir(args),
        settings={
            "lengths": lengths,
            "batch": args.batch,
            "dim": args.dim,
            "repeats": args.repeats,
            "quick": args.quick,
        },
        wall_time_s=time.perf_counter() - started,
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
