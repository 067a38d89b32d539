"""Compiled shapes under each padding policy, and the compilations of each epoch of a Multi30k run.

    ATTN_RESEARCH_DATA_DIR=../shared/data python -m benchmarks.compilations [--examples N] [--epochs 2] [--quick]

Policies (rows; numbers only, nothing compiled): make_batches over the Multi30k de-en training split at
--batch_size 128, epoch 0: padding="multiple" (each batch to its longest source and target + 1, rounded up
to 8; what the recorded results used) and padding="buckets" with 3-8 grid lengths per axis
(data.batching.bucket_order). `shapes`: distinct (src_len, tgt_len); `real_source` / `real_target`: the
share of the padded positions (padding rows included) that hold a real token (target: the words + eos).

The run (summary): configs/multi30k.py:model=bahdanau (bi-GRU encoder, GRU decoder with additive attention, the
recorded model) trained for --epochs epochs on the first --examples training sentences (all by default;
the grid is that subset's) with padding="buckets", --buckets lengths per axis, through the training loop's
path (train_step on mesh-sharded batches, a fresh process, no persistent cache). attn_research.compilation
counts every XLA compilation in each epoch (after the model and optimizer state are built):
`compilations_per_epoch` must be > 0 in epoch 0 and 0 afterwards, as every bucket shape occurs in every
epoch. `compile_s_per_shape`: backend compile seconds of each train_step shape (the spread over shapes);
`compile_cpu_s_per_shape`: the process CPU seconds of each compiling step less
those of the median compiled step (on shared cores the wall clock counts other jobs' time; the CPU seconds
do not). `step_s`: the seconds of a compiled step. --quick: embeddings 32, encoder 2 x 32, decoder 64,
512 sentences at batch 16, for smoke runs.
"""

from __future__ import annotations

import os
import time

import jax
import numpy as np

from attn_research.compilation import CompilationLog
from attn_research.data.batching import make_batches
from attn_research.tasks.seq2seq import step_arrays
from attn_research.training.mesh import make_mesh, replicate, shard_batch
from attn_research.training.steps import train_step
from benchmarks import multi30k
from benchmarks.common import benchmark_arguments, output_dir, print_table, spread, write_report

COLUMNS = ("padding", "buckets", "shapes", "real_source", "real_target", "batches")
GRID_SIZES = (3, 4, 5, 6, 8)
TARGET_COMPILE_S = 5.0  # issue 24: training step compile time per shape <= 5 s on 2 cores


def policy_row(split, batch_size: int, padding: str, buckets: int | None) -> dict:
    """Shapes and real-token shares of epoch 0 of `split` under one padding policy (see the module docstring)."""
    kwargs = {"padding": padding} if buckets is None else {"padding": padding, "buckets": buckets}
    batches = make_batches(split, batch_size, seed=0, epoch=0, shuffle=True, **kwargs)
    real = lambda key: float(sum(b[key].sum() for b in batches) / sum(b[key].size for b in batches))
    return {
        "padding": padding,
        "buckets": buckets,
        "shapes": len({multi30k.batch_shape(b) for b in batches}),
        "real_source": real("source_mask"),
        "real_target": real("target_mask"),
        "batches": len(batches),
    }


def run_config(quick: bool):
    """configs/multi30k.py:model=bahdanau; quick: the tiny sizes of the module docstring."""
    config = multi30k.get_config("model=bahdanau")
    if quick:
        config.model.update(dict(embed_dim=32, encoder_hidden=32, decoder_hidden=64))
        config.model.attention.dim = 64
        config.train.batch_size = 16
    return config


def run_epochs(config, data, split, epochs: int, buckets: int) -> dict:
    """Trains `epochs` epochs of `split` with bucket padding; returns the counts and timings of the summary."""
    batch_size = config.train.batch_size
    epoch_batches = lambda epoch: make_batches(
        split, batch_size, seed=config.seed, epoch=epoch, shuffle=True, padding="buckets", buckets=buckets
    )
    mesh = make_mesh()
    first = epoch_batches(0)
    with CompilationLog() as setup:
        _, state = multi30k.model_and_state(config, data.source_vocab.size, data.target_vocab.size, first[0])
        state = replicate(state, mesh)
        jax.block_until_ready(state)
    per_epoch, step_seconds, step_cpu, shape_seconds, shape_cpu, epoch_seconds = [], [], [], {}, {}, []
    for epoch in range(epochs):
        batches = first if epoch == 0 else epoch_batches(epoch)
        started = time.perf_counter()
        with CompilationLog() as log:
            for batch in batches:
                before, start, cpu = log.count, time.perf_counter(), time.process_time()
                state, metrics = train_step(state, shard_batch(step_arrays(batch), mesh))
                jax.block_until_ready(metrics)
                if log.count == before:
                    step_seconds.append(time.perf_counter() - start)
                    step_cpu.append(time.process_time() - cpu)
                else:
                    shape = multi30k.batch_shape(batch)
                    shape_seconds[shape] = sum(c.seconds for c in log.compilations[before:])
                    shape_cpu[shape] = time.process_time() - cpu  # the step's own run included
        epoch_seconds.append(time.perf_counter() - started)
        per_epoch.append(log)
        print(f"epoch {epoch}: {log.count} compilations ({log.seconds:.1f} s), {epoch_seconds[-1]:.0f} s", flush=True)
    return {
        "compilations_per_epoch": [log.count for log in per_epoch],
        "compile_s_per_epoch": [log.seconds for log in per_epoch],
        "compiled_after_epoch_0": sum(log.count for log in per_epoch[1:]),
        "compiled_functions_epoch_0": per_epoch[0].by_function(),
        "setup_compilations": setup.count,
        "setup_compile_s": setup.seconds,
        "train_step_shapes": len(shape_seconds),
        "compile_s_per_shape": spread(list(shape_seconds.values())),
        "compile_s_by_shape": {f"{s}x{t}": seconds for (s, t), seconds in sorted(shape_seconds.items())},
        "compile_cpu_s_per_shape": spread([cpu - np.median(step_cpu) for cpu in shape_cpu.values()]),
        "step_cpu_s": spread(step_cpu),
        "shapes_within_target": sum(s <= TARGET_COMPILE_S for s in shape_seconds.values()),
        "step_s": spread(step_seconds) if step_seconds else None,
        "epoch_s": epoch_seconds,
        "final_loss": float(metrics["loss"]),
    }


def main() -> None:
    parser = benchmark_arguments(__doc__)
    parser.add_argument("--examples", type=int, default=0, help="training sentences of the run (0: all)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--buckets", type=int, default=6, help="grid lengths per axis of the run")
    parser.add_argument("--batch_size", type=int, default=128, help="batch of the policy rows")
    args = parser.parse_args()
    if args.epochs < 2:
        raise ValueError(f"--epochs must be >= 2 (epoch 1 shows what is compiled after epoch 0), got {args.epochs}")
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    config = run_config(args.quick)
    data = multi30k.load(config)
    train = data.splits["train"]
    rows = [policy_row(train, args.batch_size, "multiple", None)]
    rows += [policy_row(train, args.batch_size, "buckets", n) for n in GRID_SIZES]
    print_table(rows, COLUMNS)
    examples = 512 if args.quick and not args.examples else args.examples
    split = train.select(np.arange(min(examples, len(train)))) if examples else train
    run = run_epochs(config, data, split, args.epochs, args.buckets)
    multiple, buckets = rows[0], next(r for r in rows if r["buckets"] == args.buckets)
    summary = {
        "compilations_per_epoch": run["compilations_per_epoch"],
        "compiled_after_epoch_0": run["compiled_after_epoch_0"],
        "train_step_shapes": run["train_step_shapes"],
        "compile_s_per_shape_median": run["compile_s_per_shape"]["median"],
        "compile_s_per_shape_max": run["compile_s_per_shape"]["max"],
        "compile_cpu_s_per_shape_median": run["compile_cpu_s_per_shape"]["median"],
        "compile_cpu_s_per_shape_max": run["compile_cpu_s_per_shape"]["max"],
        "real_target_multiple": multiple["real_target"],
        "real_target_buckets": buckets["real_target"],
        "shapes_multiple": multiple["shapes"],
        "shapes_buckets": buckets["shapes"],
    }
    path = write_report(
        "compilations",
        description=(
            "Compiled shapes and real-token shares of Multi30k de-en batches under each padding policy, and the "
            "XLA compilations of each epoch of a bucket-padded Multi30k training run."
        ),
        columns=COLUMNS,
        rows=rows,
        out_dir=output_dir(args),
        summary=summary,
        notes=[
            f"The run: {config.name} on {len(split)} training sentences, batch {config.train.batch_size}, "
            f"{args.buckets} grid lengths per axis, {args.epochs} epochs; compilations counted with "
            "attn_research.compilation (jax.monitoring's backend-compile events), setup excluded.",
            f"Compile time per shape target: <= {TARGET_COMPILE_S:g} s on 2 cores; "
            f"{run['shapes_within_target']} of {run['train_step_shapes']} shapes within it "
            f"(1-minute load average before the run {load_before:.1f}: other work on the cores, not the run's own).",
        ],
        settings={
            "batch_size_rows": args.batch_size,
            "run": {
                "model": config.name,
                "examples": len(split),
                "batch_size": config.train.batch_size,
                "buckets": args.buckets,
                "epochs": args.epochs,
                "quick": args.quick,
            },
            "run_details": run,
        },
        wall_time_s=time.perf_counter() - started,
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
