"""Timing and reporting shared by the benchmarks: medians over repeats, JSON with provenance.

Every benchmark module has the flags of `benchmark_arguments` (--quick for a smoke run, --out_dir) and
writes one report, `<out_dir>/<name>_<backend>.json` (backend: cpu, gpu or tpu), with its rows, the
columns the README shows, a summary, notes, the settings, the machine (CPU / GPU model, library versions)
and the git commit. Full runs write to results/benchmarks/ (the README's benchmark section is generated from
there); --quick runs write to workdirs/bench_quick/ unless --out_dir says otherwise, so a smoke run never
replaces a committed result.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable, Sequence

import jax

from attn_research import provenance

RESULTS_DIR = os.path.join(provenance.REPO_ROOT, "results", "benchmarks")
QUICK_DIR = os.path.join(provenance.REPO_ROOT, "workdirs", "bench_quick")


def benchmark_arguments(description: str | None) -> argparse.ArgumentParser:
    """An argument parser with the flags every benchmark has: --quick and --out_dir (--out-dir: the old spelling)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes and few repeats: a smoke run that checks the benchmark works"
    )
    parser.add_argument(
        "--out_dir",
        "--out-dir",
        default=None,
        help=f"where the JSON report goes (default {RESULTS_DIR}; with --quick {QUICK_DIR})",
    )
    return parser


def output_dir(args: argparse.Namespace) -> str:
    """The --out_dir flag, else QUICK_DIR for --quick runs, else RESULTS_DIR."""
    if args.out_dir:
        return args.out_dir
    return QUICK_DIR if args.quick else RESULTS_DIR


def spread(samples: Sequence[float]) -> dict[str, float]:
    """{"median", "p10", "p90", "min", "max", "n"} of the samples (p10 / p90: nearest rank, sorted)."""
    if not samples:
        raise ValueError("spread needs at least one sample")
    ordered = sorted(samples)
    n = len(ordered)
    return {
        "median": statistics.median(ordered),
        "p10": ordered[n // 10],
        "p90": ordered[(9 * n) // 10],
        "min": ordered[0],
        "max": ordered[-1],
        "n": n,
    }


def time_call(
    fn: Callable[[], object], *, repeats: int = 20, warmup: int = 2, max_seconds: float | None = None
) -> dict[str, float]:
    """Runs fn() (which returns jax arrays) warmup + repeats times, blocking on the results.

    max_seconds: when set, fewer repeats (but at least 3) are run if the first call shows that `repeats`
    would take longer. Returns {"median_ms", "p10_ms", "p90_ms", "repeats", "first_ms"}, first_ms being the
    first call's time (compilation included).
    """
    start = time.perf_counter()
    jax.block_until_ready(fn())
    first = time.perf_counter() - start
    if max_seconds is not None:
        repeats = max(3, min(repeats, int(max_seconds / max(first, 1e-9))))
    for _ in range(max(warmup - 1, 0)):
        jax.block_until_ready(fn())
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        samples.append((time.perf_counter() - start) * 1e3)
    stats = spread(samples)
    return {
        "median_ms": stats["median"],
        "p10_ms": stats["p10"],
        "p90_ms": stats["p90"],
        "repeats": repeats,
        "first_ms": first * 1e3,
    }


def report_path(name: str, out_dir: str) -> str:
    """<out_dir>/<name>_<backend>.json, backend being jax's default backend (cpu, gpu, tpu)."""
    return os.path.join(out_dir, f"{name}_{jax.default_backend()}.json")


def write_report(
    name: str,
    *,
    description: str,
    columns: Sequence[str],
    rows: list[dict],
    settings: dict,
    out_dir: str,
    summary: dict | None = None,
    notes: Sequence[str] = (),
    wall_time_s: float | None = None,
) -> str:
    """Writes the report (see the module docstring) and returns its path.

    description: one sentence on what is measured. columns: the row keys the README table shows, in order.
    summary: headline numbers (ratios, targets met). notes: sentences the README prints under the table
    (what limits a missed target, skipped cases). Raises ValueError if a column is in no row.
    """
    missing = [c for c in columns if not any(c in row for row in rows)]
    if rows and missing:
        raise ValueError(f"columns {missing} appear in no row of benchmark {name!r}")
    os.makedirs(out_dir, exist_ok=True)
    path = report_path(name, out_dir)
    report = {
        "benchmark": name,
        "description": description,
        "columns": list(columns),
        "rows": rows,
        "summary": summary or {},
        "notes": list(notes),
        "settings": settings,
        "wall_time_s": wall_time_s,
        "git_commit": provenance.git_commit(),
        "machine": provenance.machine(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    with open(path, "w") as f:
        json.dump(report, f, indent=2)
    return path


def print_table(rows: list[dict], columns: Sequence[str]) -> None:
    """Prints rows as an aligned text table of the given columns (floats to 3 significant digits)."""
    widths = [max([len(c), *(len(_cell(r.get(c))) for r in rows)]) for c in columns]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for row in rows:
        print("  ".join(_cell(row.get(c)).ljust(w) for c, w in zip(columns, widths)))


def _cell(value) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if isinstance(value, float) else str(value)
