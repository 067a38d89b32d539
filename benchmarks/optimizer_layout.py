"""The optimizer state per parameter array against one flat vector (train.flatten_optimizer), in one run.

    ATTN_RESEARCH_DATA_DIR=../shared/data python -m benchmarks.optimizer_layout [--rounds 5] [--quick]

Two training steps, each built twice from the same config that differs only in train.flatten_optimizer
(training/optimizer.py: False = optax's state per parameter array, True = optax.flatten, the chain on the
parameters raveled into one vector):
- `scan_batch1`: SCAN's 1 x 100 GRU with attention at the paper's batch of 1 (benchmarks/small_updates.py's
  model and recipe), on --updates training batches padded to the split's longest (one shape);
- `multi30k_luong`: the Multi30k benchmark model (benchmarks/multi30k.py: Luong's general score, the model the
  OpenNMT-py peer trains) on a batch of its most common padded shape, the step repeated.
Per layout: `compile_cpu_s`, the process CPU seconds of lowering and compiling the jitted train step
(ahead of time; CPU seconds, as the wall clock on shared cores counts other jobs' time); `kernels`, the
fusions in the compiled program (XLA:CPU emits one kernel each); `state_arrays`, the arrays of the
optimizer state; `updates_per_s`, the median over --rounds rounds, the two layouts alternating within
each round so both see the same load. Summary: per step, the flat layout's updates/s over the per-array
layout's within each round (a spread over the rounds) and the ratio of the compile CPU seconds.
"""

from __future__ import annotations

import re
import time

import jax
import numpy as np

from attn_research.data import load_dataset, make_batches
from attn_research.models import build_model
from attn_research.tasks.seq2seq import Seq2SeqTask, step_arrays
from attn_research.training.mesh import make_mesh, replicate, shard_batch
from attn_research.training.optimizer import make_optimizer
from attn_research.training.state import create_train_state
from attn_research.training.steps import train_step
from benchmarks import multi30k
from benchmarks.common import benchmark_arguments, output_dir, print_table, spread, write_report
from benchmarks.small_updates import scan_config

COLUMNS = ("step", "layout", "updates_per_s", "compile_cpu_s", "kernels", "state_arrays")
LAYOUTS = {"per_array": False, "flat": True}


def count_kernels(hlo_text: str) -> int:
    """The fusion instructions of an optimized HLO module's text (one emitted kernel each on XLA:CPU)."""
    shape = r"(?:\([^()]*\)|\S+)"  # an array shape, or a tuple of array shapes
    return len(re.findall(rf"^\s*(?:ROOT\s+)?%?[\w.-]+\s*=\s*{shape}\s+fusion\(", hlo_text, re.M))


def with_layout(config, flat: bool):
    """A copy of `config` whose train.flatten_optimizer is `flat`."""
    config = config.copy_and_resolve_references()
    config.train.flatten_optimizer = flat
    return config


def scan_case(updates: int):
    """(config, model, the sharded step arrays of `updates` batch-1 SCAN batches of one shape, mesh)."""
    config = scan_config()
    data = load_dataset(config.data)
    model = build_model(config.model, data.source_vocab.size, data.target_vocab.size)
    mesh = make_mesh()
    batches = make_batches(data.splits["train"], 1, seed=0, epoch=0, shuffle=True, fixed_shape=True)[:updates]
    return config, model, [shard_batch(step_arrays(b), mesh) for b in batches], mesh


def multi30k_case(quick: bool, updates: int):
    """(config, model, one sharded batch of the most common shape repeated `updates` times, mesh)."""
    config, data, _, batch = multi30k.typical_batch(quick)
    model = build_model(config.model, data.source_vocab.size, data.target_vocab.size)
    mesh = make_mesh()
    return config, model, [shard_batch(batch, mesh)] * updates, mesh


def compiled_step(config, model, arrays: list[dict], mesh):
    """(the AOT-compiled train step, its replicated initial state, compile CPU seconds, kernels, state arrays)."""
    task = Seq2SeqTask(config)
    host = {k: np.asarray(v) for k, v in arrays[0].items()}
    state = replicate(create_train_state(task, model, make_optimizer(config.train, 1), host, config.seed), mesh)
    cpu = time.process_time()
    compiled = train_step.lower(state, arrays[0]).compile()
    compile_cpu = time.process_time() - cpu
    return compiled, state, compile_cpu, count_kernels(compiled.as_text()), len(jax.tree.leaves(state.opt_state))


def timed_round(compiled, state, arrays: list[dict]):
    """(state after one update per entry of `arrays`, updates per second)."""
    start = time.perf_counter()
    for batch in arrays:
        state, metrics = compiled(state, batch)
    jax.block_until_ready(metrics)
    return state, len(arrays) / (time.perf_counter() - start)


def measure(name: str, case, rounds: int) -> tuple[list[dict], dict]:
    """The rows of one step (one per layout) and its summary entry (the paired ratios)."""
    config, model, arrays, mesh = case
    built = {layout: compiled_step(with_layout(config, flat), model, arrays, mesh) for layout, flat in LAYOUTS.items()}
    states = {layout: timed_round(built[layout][0], built[layout][1], arrays[:2])[0] for layout in LAYOUTS}  # warm
    rates: dict[str, list[float]] = {layout: [] for layout in LAYOUTS}
    for _ in range(rounds):
        for layout in LAYOUTS:
            states[layout], rate = timed_round(built[layout][0], states[layout], arrays)
            rates[layout].append(rate)
    rows = [
        {
            "step": name,
            "layout": layout,
            "updates_per_s": float(np.median(rates[layout])),
            "compile_cpu_s": built[layout][2],
            "kernels": built[layout][3],
            "state_arrays": built[layout][4],
            "rounds": rates[layout],
        }
        for layout in LAYOUTS
    ]
    summary = {
        "flat_over_per_array_updates": spread([f / p for f, p in zip(rates["flat"], rates["per_array"])]),
        "flat_over_per_array_compile_cpu": built["flat"][2] / built["per_array"][2],
        "kernels_removed": built["per_array"][3] - built["flat"][3],
    }
    return rows, summary


def main() -> None:
    parser = benchmark_arguments(__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds, the layouts alternating in each")
    parser.add_argument("--updates", type=int, default=300, help="updates per timed round")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.updates = 1, 4
    if args.rounds < 1 or args.updates < 1:
        parser.error(f"--rounds and --updates must be >= 1, got {args.rounds} and {args.updates}")
    started = time.perf_counter()
    rows, summary = [], {}
    steps = {
        "scan_batch1": lambda: scan_case(args.updates),
        "multi30k_luong": lambda: multi30k_case(args.quick, max(args.updates // 20, 2)),
    }
    for name, case in steps.items():
        step_rows, summary[name] = measure(name, case(), args.rounds)
        rows += step_rows
        print_table(step_rows, COLUMNS)
    path = write_report(
        "optimizer_layout",
        description=(
            "Training steps with the optimizer state per parameter array against one flat vector "
            "(train.flatten_optimizer), built from the same config and timed alternately in one run."
        ),
        columns=COLUMNS,
        rows=rows,
        out_dir=output_dir(args),
        summary=summary,
        notes=[
            "updates_per_s: median over the rounds; summary ratios are paired within each round (flat / per array).",
            "compile_cpu_s: process CPU seconds to lower and compile the train step ahead of time; kernels: fusions "
            "in the compiled program.",
            f"multi30k_luong times {max(args.updates // 20, 2)} updates a round (a step costs about 20 of SCAN's).",
        ],
        settings={"rounds": args.rounds, "updates": args.updates, "quick": args.quick},
        wall_time_s=time.perf_counter() - started,
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
