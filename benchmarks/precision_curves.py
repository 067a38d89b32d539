"""Mixed precision against float32 on Multi30k: training loss curves of the benchmark model, same batches.

    python -m benchmarks.precision_curves [--steps 100] [--window 10] [--quick] [--out_dir DIR]

The model is benchmarks.multi30k's (configs/multi30k.py:model=luong_general, teacher forcing 1; --quick: the tiny
dims). It trains --steps steps from scratch three times on the same batches: float32 with seed 0, mixed
precision (config.model.compute_dtype 'bfloat16', models/precision.py) with seed 0, and float32 with seed 1,
whose distance from seed 0 is the noise a precision change is measured against. The batches are those of
epoch 0 that have its most common padded shape, in order (one compilation per run). Each curve is the mean
loss over consecutive windows of --window steps; the summary gives the largest window-by-window gap of the
bfloat16 curve and of the seed-1 curve from the float32 seed-0 curve, and whether the first is within the
noise (at most 1.5 times the second). Loss values do not depend on the machine's load, only the times do.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from attn_research.tasks.seq2seq import step_arrays
from attn_research.training.steps import train_step
from benchmarks import multi30k
from benchmarks.common import benchmark_arguments, output_dir, print_table, write_report

COLUMNS = ("run", "compute_dtype", "seed", "first_window_loss", "last_window_loss", "max_gap_from_f32", "seconds")
RUNS = (("f32 seed 0", "float32", 0), ("bf16 seed 0", "bfloat16", 0), ("f32 seed 1", "float32", 1))


def training_curve(config, data, batches: list[dict], steps: int, window: int) -> tuple[np.ndarray, float]:
    """(mean loss per window of `window` steps [steps // window], seconds) of `steps` train_steps from scratch
    on `batches` (cycled), with config's seed and compute_dtype."""
    _, state = multi30k.model_and_state(config, data.source_vocab.size, data.target_vocab.size, batches[0])
    inputs = [step_arrays(b) for b in batches]
    losses = []
    start = time.perf_counter()
    for step in range(steps):
        state, metrics = train_step(state, inputs[step % len(inputs)])
        losses.append(float(metrics["loss"]))
    seconds = time.perf_counter() - start
    usable = (steps // window) * window
    return np.asarray(losses[:usable]).reshape(-1, window).mean(axis=1), seconds


def main() -> None:
    parser = benchmark_arguments(__doc__)
    parser.add_argument("--steps", type=int, default=None, help="training steps per run (100; --quick: 60)")
    parser.add_argument("--window", type=int, default=10, help="steps averaged into one point of a curve")
    args = parser.parse_args()
    args.steps = args.steps or (60 if args.quick else 100)
    if args.window < 1 or args.steps < args.window:
        print(f"error: need 1 <= --window <= --steps, got {args.window} and {args.steps}", file=sys.stderr)
        raise SystemExit(2)
    started = time.perf_counter()
    config = multi30k.benchmark_config(args.quick)
    data = multi30k.load(config)
    epoch = multi30k.train_batches(config, data, len(data.splits["train"]) // config.train.batch_size)
    shape = multi30k.most_common_shape(epoch)
    batches = [b for b in epoch if multi30k.batch_shape(b) == shape]
    curves, rows = {}, []
    for name, dtype, seed in RUNS:
        variant = config.copy_and_resolve_references()
        variant.model.compute_dtype, variant.seed = dtype, seed
        curves[name], seconds = training_curve(variant, data, batches, args.steps, args.window)
        rows.append(
            {
                "run": name,
                "compute_dtype": dtype,
                "seed": seed,
                "first_window_loss": float(curves[name][0]),
                "last_window_loss": float(curves[name][-1]),
                "seconds": seconds,
                "curve": curves[name].tolist(),
            }
        )
    reference = curves["f32 seed 0"]
    for row in rows:
        row["max_gap_from_f32"] = float(np.max(np.abs(curves[row["run"]] - reference)))
    precision_gap, seed_gap = rows[1]["max_gap_from_f32"], rows[2]["max_gap_from_f32"]
    summary = {
        "precision_gap": precision_gap,
        "seed_gap": seed_gap,
        "within_noise": precision_gap <= 1.5 * seed_gap,
        "shape": "{}x{}".format(*shape),
        "batches": len(batches),
    }
    print_table(rows, COLUMNS)
    print(summary)
    path = write_report(
        "precision_curves",
        description=(
            "Mixed precision (bfloat16 matmuls, float32 master weights) against float32 on Multi30k: the largest gap "
            "between windowed training loss curves, against the gap between two float32 seeds."
        ),
        columns=COLUMNS,
        rows=rows,
        settings={
            "steps": args.steps,
            "window": args.window,
            "quick": args.quick,
            "model_dims": config.model.to_dict(),
        },
        out_dir=output_dir(args),
        summary=summary,
        wall_time_s=time.perf_counter() - started,
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
