"""Compute efficiency of a training step of the Multi30k Luong model: model FLOPs over step time against the
machine's matmul peak (MFU), all measured in the same run.

    python -m benchmarks.mfu [--repeats 5] [--peak_size 2048] [--quick]

FLOPs: the matmul FLOPs of one train_step (forward, backward and optimizer) on a batch of the most common
padded Multi30k shape, counted from its jaxpr with every scan body times its length (benchmarks/flops.py;
XLA's cost analysis, shown beside it, counts a loop body once). Step time: the median over --repeats
compiled steps. Peak: the median throughput of a float32 [n, n] @ [n, n] jnp.dot, n = --peak_size
(8192 on a GPU). MFU = FLOPs / step time / peak.
"""

from __future__ import annotations

import time

import jax

from attn_research.training.steps import train_step
from benchmarks import multi30k
from benchmarks.common import benchmark_arguments, output_dir, print_table, time_call, write_report
from benchmarks.flops import matmul_flops, matmul_peak, xla_flops

COLUMNS = (
    "model",
    "batch",
    "src_len",
    "tgt_len",
    "gflop_per_step",
    "xla_gflop_per_step",
    "step_ms",
    "gflop_per_s",
    "peak_gflop_per_s",
    "mfu",
)


def main() -> None:
    parser = benchmark_arguments(__doc__)
    parser.add_argument("--repeats", type=int, default=5, help="timed training steps")
    parser.add_argument("--peak_size", type=int, default=None, help="n of the peak's [n, n] matmul")
    args = parser.parse_args()
    peak_size = args.peak_size or (8192 if jax.default_backend() == "gpu" else 2048)
    if args.quick:
        args.repeats, peak_size = 3, 256
    started = time.perf_counter()
    peak = matmul_peak(peak_size, repeats=args.repeats)
    config, shape, batch, state = multi30k.typical_step(args.quick)
    flops = matmul_flops(train_step, state, batch)
    flops_xla = xla_flops(train_step, state, batch)
    current = {"state": state}

    def step():  # the state is donated to every step, so each step takes the one before's
        current["state"], metrics = train_step(current["state"], batch)
        return metrics

    timing = time_call(step, repeats=args.repeats)
    seconds = timing["median_ms"] / 1e3
    row = {
        "model": "multi30k luong_general",
        "batch": config.train.batch_size,
        "src_len": shape[0],
        "tgt_len": shape[1],
        "gflop_per_step": flops / 1e9,
        "xla_gflop_per_step": None if flops_xla is None else flops_xla / 1e9,
        "step_ms": timing["median_ms"],
        "step_p10_ms": timing["p10_ms"],
        "step_p90_ms": timing["p90_ms"],
        "gflop_per_s": flops / seconds / 1e9,
        "peak_gflop_per_s": peak["flops_per_s"] / 1e9,
        "mfu": flops / seconds / peak["flops_per_s"],
    }
    print_table([row], COLUMNS)
    path = write_report(
        "mfu",
        description=(
            "Model FLOPs utilization of a training step of the Multi30k Luong model: matmul FLOPs per step (jaxpr, "
            "scan bodies times their length) over the median step time, against a measured float32 matmul peak."
        ),
        columns=COLUMNS,
        rows=[row],
        settings={"repeats": args.repeats, "peak_size": peak_size, "quick": args.quick},
        summary={"mfu": row["mfu"], "peak": peak},
        out_dir=output_dir(args),
        wall_time_s=time.perf_counter() - started,
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
