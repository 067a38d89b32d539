"""Many tiny updates: batch-1 training of SCAN's 1 x 100 GRU with attention, K updates per jitted call.

    ATTN_RESEARCH_DATA_DIR=../shared/data python -m benchmarks.small_updates [--calls 1,100,1000] [--quick]

Lake & Baroni (2018) train SCAN with 100,000 updates of batch 1. The model is configs/scan.py's
addprim_turn_left top model with the paper recipe (GRU, 1 layer x 100 units, additive attention, dropout
0.1, teacher forcing 0.5, Adam 1e-3, clipping 5), trained on the first --updates batches of that split's
training set (SCAN, through attn_research.data.load_dataset), padded as the training loop pads them:
`per_batch` (train.steps_per_call = 1: each batch to its own lengths rounded up to 8, a handful of
shapes, each compiled before timing) or `fixed` (what steps_per_call > 1 needs: every batch to the
split's longest, 16 source and 56 target positions). For each row, the updates go through the training
loop's own path: K = 1 calls the jitted train_step once per update on a sharded batch; K > 1 stacks K
batches (training.loop.stack_batches) and calls train_steps (jax.lax.scan over the K updates).
`updates_per_s` is the median over --repeats rounds (compilation excluded: `compile_s`, all shapes);
`projected_100k_min` = 100,000 / updates_per_s / 60, the paper's run without its evaluations.
"""

from __future__ import annotations

import importlib.util
import os
import time

import jax

from attn_research import provenance
from attn_research.data import load_dataset, make_batches
from attn_research.models import build_model
from attn_research.tasks.seq2seq import Seq2SeqTask, step_arrays
from attn_research.training.loop import stack_batches
from attn_research.training.mesh import make_mesh, replicate, shard_batch
from attn_research.training.optimizer import make_optimizer
from attn_research.training.state import create_train_state
from attn_research.training.steps import train_step, train_steps
from benchmarks.common import benchmark_arguments, output_dir, print_table, spread, write_report

COLUMNS = ("steps_per_call", "padding", "updates_per_s", "ms_per_update", "compile_s", "speedup", "projected_100k_min")
PAPER_UPDATES = 100_000
TARGET_MINUTES = 15.0  # issue 24: a 100,000-update run in under 15 minutes on 2 cores


def scan_config():
    """configs/scan.py:split=addprim_turn_left,recipe=paper (the 1 x 100 GRU with attention, paper recipe)."""
    path = os.path.join(provenance.REPO_ROOT, "configs", "scan.py")
    spec = importlib.util.spec_from_file_location("scan_config", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config("split=addprim_turn_left,recipe=paper")


def updates_per_second(state, batches: list[dict], steps_per_call: int, mesh, repeats: int):
    """(state, median updates/s over `repeats` rounds of len(batches) updates, compile seconds)."""

    def run(state):
        if steps_per_call == 1:
            for batch in batches:
                state, metrics = train_step(state, shard_batch(step_arrays(batch), mesh))
        else:
            for start in range(0, len(batches), steps_per_call):
                state, metrics = train_steps(
                    state, stack_batches([step_arrays(b) for b in batches[start : start + steps_per_call]], mesh)
                )
        jax.block_until_ready(metrics)
        return state

    start = time.perf_counter()  # the first calls compile (each shape once)
    if steps_per_call == 1:
        shapes = {(b["source"].shape, b["target_input"].shape): b for b in batches}
        for batch in shapes.values():
            state, _ = train_step(state, shard_batch(step_arrays(batch), mesh))
    else:
        state, _ = train_steps(state, stack_batches([step_arrays(b) for b in batches[:steps_per_call]], mesh))
    jax.block_until_ready(state.params)
    compile_s = time.perf_counter() - start
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        state = run(state)
        rates.append(len(batches) / (time.perf_counter() - start))
    return state, spread(rates)["median"], compile_s


def main() -> None:
    parser = benchmark_arguments(__doc__)
    parser.add_argument("--calls", default="1,100,1000", help="updates per jitted call K (comma separated)")
    parser.add_argument("--updates", type=int, default=3000, help="updates per timed round (a multiple of each K)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    calls = [int(k) for k in args.calls.split(",")]
    if args.quick:
        calls, args.updates, args.repeats = [1, 10], 40, 1
    bad = [k for k in calls if k < 1 or args.updates % k]
    if bad:
        parser.error(f"--updates ({args.updates}) must be a positive multiple of every K in --calls; not of {bad}")
    started = time.perf_counter()
    config = scan_config()
    data = load_dataset(config.data)
    model = build_model(config.model, data.source_vocab.size, data.target_vocab.size)
    mesh = make_mesh()
    rows = []
    for steps_per_call, padding in [(1, "per_batch")] + [(k, "fixed") for k in calls]:
        batches = make_batches(data.splits["train"], 1, seed=0, epoch=0, shuffle=True, fixed_shape=padding == "fixed")[
            : args.updates
        ]
        state = replicate(
            create_train_state(
                Seq2SeqTask(config),
                model,
                make_optimizer(config.train, len(batches)),
                step_arrays(batches[0]),
                config.seed,
            ),
            mesh,
        )
        _, rate, compile_s = updates_per_second(state, batches, steps_per_call, mesh, args.repeats)
        rows.append(
            {
                "steps_per_call": steps_per_call,
                "padding": padding,
                "updates_per_s": rate,
                "ms_per_update": 1e3 / rate,
                "compile_s": compile_s,
                "projected_100k_min": PAPER_UPDATES / rate / 60,
            }
        )
    base = rows[0]["updates_per_s"]  # train.steps_per_call = 1 as the loop runs it
    for row in rows:
        row["speedup"] = row["updates_per_s"] / base
    print_table(rows, COLUMNS)
    best = max(rows, key=lambda row: row["updates_per_s"])
    fixed = [row for row in rows if row["padding"] == "fixed"]
    summary = {
        "best_steps_per_call": best["steps_per_call"],
        "best_padding": best["padding"],
        "best_updates_per_s": best["updates_per_s"],
        "projected_100k_min": best["projected_100k_min"],
        "under_15_min": bool(best["projected_100k_min"] < TARGET_MINUTES),
        "fixed_best_over_fixed_one_per_call": max(r["updates_per_s"] for r in fixed) / fixed[0]["updates_per_s"],
    }
    shapes = batches[0]["source"].shape, batches[0]["target_input"].shape
    path = write_report(
        "small_updates",
        description=(
            "Batch-1 training updates per second of SCAN's 1 x 100 GRU with attention (paper recipe), one jitted "
            "call per update against K updates per call (jax.lax.scan)."
        ),
        columns=COLUMNS,
        rows=rows,
        summary=summary,
        out_dir=output_dir(args),
        notes=[
            f"projected_100k_min: {PAPER_UPDATES:,} updates at the measured rate, compilation and the run's "
            "evaluations not included; target < 15 min on 2 cores (issue 24).",
            f"SCAN {config.data.split} training examples; fixed padding: source {shapes[0]} and target "
            f"{shapes[1]} per batch, per_batch padding: each batch's own lengths rounded up to 8.",
        ],
        settings={
            "calls": calls,
            "updates": args.updates,
            "repeats": args.repeats,
            "quick": args.quick,
            "model": config.model.to_dict(),
            "batch_size": 1,
            "devices": jax.device_count(),
        },
        wall_time_s=time.perf_counter() - started,
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
