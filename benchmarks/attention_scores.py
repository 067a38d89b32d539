"""Forward + backward time of every score with parallel queries (self-attention-like shapes).

    python -m benchmarks.attention_scores [--sizes 64,256] [--batch 8] [--dim 128]

For the scores with a key projection it also times the decoder pattern the models use: keys projected
once (`Attention.precompute`) versus re-projected for every single-query step, as a ratio in one run.
"""
from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp

from attn_research.attention import build_attention
from benchmarks.common import print_table, time_call, write_report

SCORES = ("dot", "scaled_dot", "general", "multiplicative", "additive", "concat", "location", "cosine")


def _loss_and_grad(attention, params, query, keys, mask):
    def loss(p, q):
        return jnp.sum(attention.apply(p, q, keys, keys, mask).context ** 2)

    return jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))


def _decoder_steps(attention, params, queries, keys, mask, precompute: bool):
    """Scans single-query steps over queries [steps, batch, 1, dim] (a decoder's pattern), fwd + bwd."""

    def loss(p):
        memory = attention.apply(p, keys, method=attention.precompute) if precompute else None

        def step(total, q):
            out = attention.apply(p, q, keys, keys, mask, precomputed=memory)
            return total + jnp.sum(out.context ** 2), None

        return jax.lax.scan(step, 0.0, queries)[0]

    return jax.jit(jax.value_and_grad(loss))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="64,256", help="query and key lengths (comma separated)")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = jax.random.key(0)
    rows = []
    for length in sizes:
        query = jax.random.normal(rng, (args.batch, length, args.dim))
        keys = jax.random.normal(jax.random.fold_in(rng, 1), (args.batch, length, args.dim))
        mask = jnp.ones((args.batch, length), bool)
        for score in SCORES:
            attention = build_attention({"score": score, "dim": args.dim, "max_len": length})
            params = attention.init(rng, query, keys, keys, mask)
            fn = _loss_and_grad(attention, params, query, keys, mask)
            timing = time_call(lambda: fn(params, query), repeats=args.repeats)
            rows.append({"case": "parallel", "score": score, "length": length, **timing})
        for score in ("multiplicative", "additive", "concat"):
            attention = build_attention({"score": score, "dim": args.dim})
            params = attention.init(rng, query, keys, keys, mask)
            steps = jnp.swapaxes(query, 0, 1)[:, :, None, :]  # [steps, batch, 1, dim]
            timings = {}
            for precompute in (False, True):
                fn = _decoder_steps(attention, params, steps, keys, mask, precompute)
                timings[precompute] = time_call(lambda: fn(params), repeats=max(args.repeats // 2, 3))
            rows.append({"case": "decoder_steps", "score": score, "length": length,
                         **{f"per_step_{k}": v for k, v in timings[False].items()},
                         **timings[True], "speedup": timings[False]["median_ms"] / timings[True]["median_ms"]})
    print_table(rows, ["case", "score", "length", "median_ms", "p10_ms", "p90_ms", "compile_ms", "speedup"])
    path = write_report("attention_scores", rows, vars(args))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
