"""Where a training step of the Multi30k Luong model spends its time: a jax.profiler trace, summed by part.

    python -m benchmarks.step_profile [--steps 5] [--trace-dir DIR] [--quick]

The model, batch and step are those of benchmarks.mfu (configs/multi30k.py:luong_general, the most common
padded shape). --steps compiled steps run under jax.profiler.trace; every XLA operation the trace records
(events with an `hlo_op`) gets its exclusive time (its duration less its nested operations'), summed over
the worker threads, and is attributed through the compiled HLO:
  kind       matmul (a dot, or a fusion whose computation holds a dot or convolution) or other;
  part       from the operation's jax source path (HLO metadata op_name): dropout masks (threefry PRNG),
             attention, encoder, output layer, decoder cells, scan plumbing (the dynamic slices that read
             and stack each time step), loss and optimizer;
  pass       forward (jvp), backward (transpose) or update (gradient clipping and Adam).
Thread time is core time: a step of `step_ms` on a machine of 2 cores has 2 x step_ms of it; what the
operations do not use is idle (waiting between the many small operations of the recurrent loops). Run it on
an otherwise quiet machine: another process's time shows up as idle. The trace itself is kept
under --trace-dir when given (opens in ui.perfetto.dev or xprof).
"""
from __future__ import annotations

import collections
import glob
import gzip
import json
import os
import re
import tempfile
import time

import jax

from attn_research.training.steps import model_inputs, train_step
from benchmarks import multi30k
from benchmarks.common import benchmark_arguments, output_dir, print_table, write_report

COLUMNS = ("part", "matmul_ms", "other_ms", "core_ms", "share_of_core_time")
# (part, pattern on the jax source path); the first match wins
PARTS = (("dropout masks (threefry PRNG)", r"_dropout|threefry|random_bits"),
         ("attention", r"attention|_attend"),
         ("encoder", r"encode"),
         ("output layer", r"_logits"),
         ("decoder cells", r"decoder"),
         ("scan plumbing", r"dynamic_index_in_dim|dynamic_update_index_in_dim|dynamic_slice|dynamic_update_slice"),
         ("loss and optimizer", r""))
_INSTRUCTION = re.compile(r"^\s*(?:ROOT )?%([\w.-]+) = .*?\s([a-z][a-z0-9-]*)\((.*)$")
_COMPUTATION = re.compile(r"^(?:ENTRY )?%([\w.-]+) .*\{\s*$")


def hlo_operations(hlo_text: str) -> dict[str, dict]:
    """name -> {"matmul": bool, "source": op_name metadata, "opcode"} for every instruction of an HLO module.

    A fusion counts as a matmul when the computation it calls holds a dot or convolution (on CPU, XLA's
    `__ynn_fusion` custom fusions are dots with their epilogue).
    """
    computations: dict[str, list[str]] = {}
    current = None
    for line in hlo_text.splitlines():
        header = _COMPUTATION.match(line)
        if header:
            current = computations.setdefault(header.group(1), [])
        elif current is not None:
            current.append(line)
    dot_computations = {name for name, lines in computations.items()
                        if any(re.search(r"\s(dot|convolution)\(", line) for line in lines)}
    operations = {}
    for lines in computations.values():
        for line in lines:
            match = _INSTRUCTION.match(line)
            if not match:
                continue
            name, opcode, rest = match.groups()
            called = re.search(r"calls=%([\w.-]+)", rest)
            source = re.search(r'op_name="([^"]*)"', rest)
            matmul = opcode in ("dot", "convolution") or (
                opcode == "fusion" and called is not None and called.group(1) in dot_computations)
            operations[name] = {"matmul": matmul, "source": source.group(1) if source else "", "opcode": opcode}
    return operations


def part_of(source: str) -> str:
    """The PARTS name for an operation's jax source path."""
    return next(name for name, pattern in PARTS if re.search(pattern, source))


def pass_of(source: str) -> str:
    """'backward' (transpose of the jvp), 'forward' (the jvp) or 'update' (after the gradient)."""
    if "transpose(jvp(" in source:
        return "backward"
    return "forward" if "jvp(" in source else "update"


def exclusive_times(trace_events: list[dict], module: str) -> tuple[dict[str, float], set]:
    """hlo_op -> summed exclusive microseconds over all threads for the events of HLO `module`; the threads.

    Within a thread, an event nested in another (a loop body's operation inside its `while`) is subtracted
    from its direct parent, so that every microsecond of thread time counts once.
    """
    by_thread = collections.defaultdict(list)
    for event in trace_events:
        args = event.get("args") or {}
        if event.get("ph") == "X" and args.get("hlo_module") == module and "hlo_op" in args:
            by_thread[(event["pid"], event["tid"])].append(event)
    totals: dict[str, float] = collections.defaultdict(float)
    for events in by_thread.values():
        events.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack: list[list] = []  # [end time, op name]
        for event in events:
            while stack and stack[-1][0] <= event["ts"]:
                stack.pop()
            if stack:
                totals[stack[-1][1]] -= event["dur"]
            totals[event["args"]["hlo_op"]] += event["dur"]
            stack.append([event["ts"] + event["dur"], event["args"]["hlo_op"]])
    return dict(totals), set(by_thread)


def main() -> None:
    parser = benchmark_arguments(__doc__)
    parser.add_argument("--steps", type=int, default=5, help="profiled training steps")
    parser.add_argument("--trace-dir", default=None, help="keep the trace here (default: a temporary folder)")
    args = parser.parse_args()
    if args.quick:
        args.steps = 2
    started = time.perf_counter()
    config = multi30k.benchmark_config(args.quick)
    data = multi30k.load(config)
    batches = multi30k.train_batches(config, data, min(100, len(data.splits["train"]) // config.train.batch_size))
    shape = multi30k.most_common_shape(batches)
    batch = model_inputs(next(b for b in batches if multi30k.batch_shape(b) == shape))
    _, state = multi30k.model_and_state(config, data.source_vocab.size, data.target_vocab.size, batch)
    operations = hlo_operations(train_step.lower(state, batch).compile().as_text())
    for _ in range(2):  # compile and warm up outside the trace
        state, metrics = train_step(state, batch)
    jax.block_until_ready(metrics)
    with tempfile.TemporaryDirectory(prefix="step-profile-") as scratch:
        trace_dir = args.trace_dir or scratch
        with jax.profiler.trace(trace_dir):
            start = time.perf_counter()
            for _ in range(args.steps):
                state, metrics = train_step(state, batch)
            jax.block_until_ready((state, metrics))
            step_ms = (time.perf_counter() - start) * 1e3 / args.steps
        path = sorted(glob.glob(f"{trace_dir}/plugins/profile/*/*.trace.json.gz"))[-1]
        with gzip.open(path) as f:
            times, threads = exclusive_times(json.load(f)["traceEvents"], "jit_train_step")
    rows, summary = _tables(times, operations, args.steps, step_ms, os.cpu_count())
    summary["threads_with_operations"] = len(threads)
    print_table(rows, COLUMNS)
    print(summary)
    out = write_report("step_profile", description=(
        "Where a training step of the Multi30k Luong model (benchmarks.mfu's step) spends its time: exclusive "
        "thread time of each XLA operation in a jax.profiler trace, by part of the model and kind, in core-ms "
        "per step."), columns=COLUMNS, rows=rows, summary=summary,
        settings={"model": "configs/multi30k.py:luong_general", "batch": config.train.batch_size,
                  "src_len": shape[0], "tgt_len": shape[1], "steps": args.steps, "quick": args.quick},
        notes=(f"Parts by the operation's jax source path ({', '.join(name for name, _ in PARTS)}); matmul: dots "
               "and fusions holding one. Idle: core time no operation used (cores x step time less the "
               "operations' time).",),
        out_dir=output_dir(args), wall_time_s=time.perf_counter() - started)
    print(f"wrote {out}")


def _tables(times: dict[str, float], operations: dict[str, dict], steps: int, step_ms: float,
            cores: int) -> tuple[list[dict], dict]:
    """Rows by part (core-ms per step) and the summary: matmul share, idle share, passes, top operations."""
    by_part = collections.defaultdict(lambda: {"matmul_ms": 0.0, "other_ms": 0.0})
    by_pass = collections.defaultdict(float)
    unknown = 0.0
    for name, microseconds in times.items():
        ms = microseconds / 1e3 / steps
        operation = operations.get(name)
        if operation is None:  # not in the compiled module's text (should not happen)
            unknown += ms
            continue
        by_part[part_of(operation["source"])]["matmul_ms" if operation["matmul"] else "other_ms"] += ms
        by_pass[pass_of(operation["source"])] += ms
    busy = sum(p["matmul_ms"] + p["other_ms"] for p in by_part.values()) + unknown
    core_ms = cores * step_ms
    rows = [{"part": name, **by_part[name], "core_ms": sum(by_part[name].values()),
             "share_of_core_time": sum(by_part[name].values()) / core_ms} for name, _ in PARTS if name in by_part]
    rows.append({"part": "idle", "matmul_ms": None, "other_ms": None, "core_ms": core_ms - busy,
                 "share_of_core_time": 1.0 - busy / core_ms})
    matmul = sum(p["matmul_ms"] for p in by_part.values())
    top = sorted(times.items(), key=lambda item: -item[1])[:8]
    summary = {"step_ms": step_ms, "cores": cores, "core_ms_per_step": core_ms,
               "matmul_share_of_core_time": matmul / core_ms, "idle_share_of_core_time": 1.0 - busy / core_ms,
               "core_ms_by_pass": {k: round(v, 1) for k, v in sorted(by_pass.items())},
               "top_operations_ms": {name: round(us / 1e3 / steps, 1) for name, us in top}}
    return rows, summary


if __name__ == "__main__":
    main()
