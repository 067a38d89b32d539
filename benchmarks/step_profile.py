"""Where a training step of the Multi30k Luong model spends its time: a jax.profiler trace, summed by part.

    python -m benchmarks.step_profile [--steps 5] [--trace_dir DIR] [--quick]

The model, batch and step are those of benchmarks.mfu (configs/multi30k.py:model=luong_general, the most common
padded shape). --steps compiled steps run untraced, then under jax.profiler.trace (both step times are
reported: tracing costs a little). The traced step time is attributed to the XLA operations the trace
records (events with an `hlo_op`; `wall_times`), and each operation is classified through the compiled HLO:
  kind       matmul (a dot, or a fusion whose computation holds a dot or convolution) or other;
  part       from the operation's jax source path (HLO metadata op_name): dropout masks (threefry PRNG),
             attention, encoder, output layer, decoder cells, scan plumbing (the dynamic slices that read
             and stack each time step), loss and optimizer;
  pass       forward (jvp), backward (transpose) or update (gradient clipping and Adam).
"no operation" is the step time in which no XLA operation ran. The step's matmul FLOPs (benchmarks.flops)
over the time its matmul operations ran, against the matmul peak measured in the same run, tells how close
to the machine's peak the matmuls themselves are. Run it on a quiet machine. The trace is kept under
--trace_dir when given (opens in ui.perfetto.dev or xprof).
"""

from __future__ import annotations

import collections
import glob
import gzip
import json
import re
import tempfile
import time

import jax

from attn_research.training.steps import train_step
from benchmarks import multi30k
from benchmarks.common import benchmark_arguments, output_dir, print_table, write_report
from benchmarks.flops import matmul_flops, matmul_peak

COLUMNS = ("part", "matmul_ms", "other_ms", "ms", "share_of_step")
# (part, pattern on the jax source path); the first match wins
PARTS = (
    ("dropout masks (threefry PRNG)", r"_dropout|threefry|random_bits"),
    ("attention", r"attention|_attend"),
    ("encoder", r"encode"),
    ("output layer", r"_logits"),
    ("decoder cells", r"decoder"),
    ("scan plumbing", r"dynamic_index_in_dim|dynamic_update_index_in_dim|dynamic_slice|dynamic_update_slice"),
    ("loss and optimizer", r""),
)
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
    dot_computations = {
        name for name, lines in computations.items() if any(re.search(r"\s(dot|convolution)\(", line) for line in lines)
    }
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
                opcode == "fusion" and called is not None and called.group(1) in dot_computations
            )
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


def wall_times(trace_events: list[dict], module: str) -> tuple[dict[str, float], float, int]:
    """Step time attributed to the XLA operations of HLO `module` in a trace: (hlo_op -> microseconds, the
    microseconds in which no operation ran, the number of threads that ran operations).

    Each instant between the first operation's start and the last one's end goes to the innermost operation
    running on each thread (a loop body's operation, not its `while`), split evenly when several threads run
    one at once; an instant in which no thread runs an operation is idle (dispatch, waiting on the host).
    The attributed times and the idle time add up to that span.
    """
    by_thread = collections.defaultdict(list)
    for event in trace_events:
        args = event.get("args") or {}
        if event.get("ph") == "X" and args.get("hlo_module") == module and "hlo_op" in args:
            by_thread[(event["pid"], event["tid"])].append(event)
    boundaries = []  # (time, 0 = end before 1 = start, -duration so outer starts first, thread, op)
    for thread, events in by_thread.items():
        for event in events:
            name = event["args"]["hlo_op"]
            boundaries.append((event["ts"], 1, -event["dur"], thread, name))
            boundaries.append((event["ts"] + event["dur"], 0, 0, thread, name))
    boundaries.sort(key=lambda b: b[:3])
    stacks: dict = collections.defaultdict(list)
    times: dict[str, float] = collections.defaultdict(float)
    idle, previous = 0.0, None
    for time_us, is_start, _, thread, name in boundaries:
        if previous is not None and time_us > previous:
            running = [stack[-1] for stack in stacks.values() if stack]
            for op in running:
                times[op] += (time_us - previous) / len(running)
            if not running:
                idle += time_us - previous
        previous = time_us
        if is_start:
            stacks[thread].append(name)
        else:
            stack = stacks[thread]  # drop the innermost open event of that name
            del stack[len(stack) - 1 - stack[::-1].index(name)]
    return dict(times), idle, len(by_thread)


def main() -> None:
    parser = benchmark_arguments(__doc__)
    parser.add_argument("--steps", type=int, default=5, help="profiled training steps")
    parser.add_argument("--peak_size", type=int, default=2048, help="n of the peak's [n, n] matmul")
    parser.add_argument("--trace_dir", default=None, help="keep the trace here (default: a temporary folder)")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.peak_size = 2, 256
    started = time.perf_counter()
    peak = matmul_peak(args.peak_size, repeats=5)["flops_per_s"]
    config, shape, batch, state = multi30k.typical_step(args.quick)
    flops = matmul_flops(train_step, state, batch)
    step = train_step.lower(state, batch).compile()  # one compilation: its HLO is the one that runs
    operations = hlo_operations(step.as_text())
    state, _ = _steps(step, state, batch, 2)  # warm-up
    state, untraced_ms = _steps(step, state, batch, args.steps)
    with tempfile.TemporaryDirectory(prefix="step-profile-") as scratch:
        trace_dir = args.trace_dir or scratch
        with jax.profiler.trace(trace_dir):
            state, traced_ms = _steps(step, state, batch, args.steps)
        path = sorted(glob.glob(f"{trace_dir}/plugins/profile/*/*.trace.json.gz"))[-1]
        with gzip.open(path) as f:
            times, _, threads = wall_times(json.load(f)["traceEvents"], "jit_train_step")
    rows, summary = _tables(times, operations, args.steps, traced_ms)
    matmul_ms = sum(row["matmul_ms"] or 0.0 for row in rows)
    summary.update(
        {
            "untraced_step_ms": untraced_ms,
            "threads_with_operations": threads,
            "matmul_gflop_per_step": flops / 1e9,
            "peak_gflop_per_s": peak / 1e9,
            "matmul_efficiency_while_running": flops / (matmul_ms / 1e3) / peak,
        }
    )
    print_table(rows, COLUMNS)
    print(summary)
    out = write_report(
        "step_profile",
        description=(
            "Where a training step of the Multi30k Luong model (benchmarks.mfu's step) spends its time: the step "
            "time of a jax.profiler trace attributed to each XLA operation, by part of the model and kind, in ms per "
            "step."
        ),
        columns=COLUMNS,
        rows=rows,
        summary=summary,
        settings={
            "model": "configs/multi30k.py:model=luong_general",
            "batch": config.train.batch_size,
            "src_len": shape[0],
            "tgt_len": shape[1],
            "steps": args.steps,
            "peak_size": args.peak_size,
            "quick": args.quick,
        },
        notes=(
            f"Parts by the operation's jax source path ({', '.join(name for name, _ in PARTS)}); matmul: dots "
            "and fusions holding one. Operations running at once on several threads share the instant. "
            "No operation: step time in which no XLA operation ran (dispatch, host). "
            "matmul_efficiency_while_running: the step's matmul FLOPs (jaxpr count) over the time its "
            "matmul operations ran, against the matmul peak measured in the same run.",
        ),
        out_dir=output_dir(args),
        wall_time_s=time.perf_counter() - started,
    )
    print(f"wrote {out}")


def _steps(step, state, batch, count: int):
    """`count` calls of the compiled train step on one batch: (the new state, ms per step)."""
    start = time.perf_counter()
    for _ in range(count):
        state, metrics = step(state, batch)
    jax.block_until_ready((state, metrics))
    return state, (time.perf_counter() - start) * 1e3 / count


def _tables(
    times: dict[str, float], operations: dict[str, dict], steps: int, step_ms: float
) -> tuple[list[dict], dict]:
    """Rows by part (ms per step and share of the step) and the summary: matmul share, passes, top operations."""
    by_part = collections.defaultdict(lambda: {"matmul_ms": 0.0, "other_ms": 0.0})
    by_pass = collections.defaultdict(float)
    for name, microseconds in times.items():
        ms = microseconds / 1e3 / steps
        operation = operations.get(name, {"matmul": False, "source": "?"})
        by_part[part_of(operation["source"])]["matmul_ms" if operation["matmul"] else "other_ms"] += ms
        by_pass[pass_of(operation["source"])] += ms
    rows = [
        {
            "part": name,
            **by_part[name],
            "ms": sum(by_part[name].values()),
            "share_of_step": sum(by_part[name].values()) / step_ms,
        }
        for name, _ in PARTS
        if name in by_part
    ]
    busy = sum(row["ms"] for row in rows)
    rows.append(
        {
            "part": "no operation",
            "matmul_ms": None,
            "other_ms": None,
            "ms": step_ms - busy,
            "share_of_step": 1.0 - busy / step_ms,
        }
    )
    matmul = sum(p["matmul_ms"] for p in by_part.values())
    top = sorted(times.items(), key=lambda item: -item[1])[:8]
    summary = {
        "step_ms": step_ms,
        "matmul_share_of_step": matmul / step_ms,
        "no_operation_share_of_step": 1.0 - busy / step_ms,
        "ms_by_pass": {k: round(v, 1) for k, v in sorted(by_pass.items())},
        "top_operations_ms": {name: round(us / 1e3 / steps, 1) for name, us in top},
    }
    return rows, summary


if __name__ == "__main__":
    main()
