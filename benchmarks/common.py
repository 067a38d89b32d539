"""Timing and reporting shared by the benchmarks: medians over repeats, JSON with provenance."""
from __future__ import annotations

import json
import os
import statistics
import time
from typing import Callable

import jax

from attn_research import provenance

RESULTS_DIR = os.path.join(provenance.REPO_ROOT, "results", "benchmarks")


def time_call(fn: Callable[[], object], *, repeats: int = 20, warmup: int = 2) -> dict[str, float]:
    """Runs fn() (which returns jax arrays) warmup + repeats times, blocking on the results.

    Returns {"median_ms", "p10_ms", "p90_ms", "compile_ms"} where compile_ms is the first call's time.
    """
    start = time.perf_counter()
    jax.block_until_ready(fn())
    first = (time.perf_counter() - start) * 1e3
    for _ in range(max(warmup - 1, 0)):
        jax.block_until_ready(fn())
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        samples.append((time.perf_counter() - start) * 1e3)
    samples.sort()
    return {"median_ms": statistics.median(samples), "p10_ms": samples[len(samples) // 10],
            "p90_ms": samples[(9 * len(samples)) // 10], "compile_ms": first}


def write_report(name: str, rows: list[dict], settings: dict) -> str:
    """Writes results/benchmarks/<name>.json with the rows, settings, machine and git commit."""
    os.makedirs(RESULTS_DIR, exist_ok=True)
    path = os.path.join(RESULTS_DIR, f"{name}.json")
    with open(path, "w") as f:
        json.dump({"benchmark": name, "settings": settings, "rows": rows, "git_commit": provenance.git_commit(),
                   "machine": provenance.machine(), "time": time.strftime("%Y-%m-%dT%H:%M:%S")}, f, indent=2)
    return path


def print_table(rows: list[dict], columns: list[str]) -> None:
    """Prints rows as an aligned text table of the given columns (floats to 3 significant digits)."""
    widths = [max(len(c), *(len(_cell(r.get(c))) for r in rows)) for c in columns]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for row in rows:
        print("  ".join(_cell(row.get(c)).ljust(w) for c, w in zip(columns, widths)))


def _cell(value) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if isinstance(value, float) else str(value)
