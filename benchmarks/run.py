"""`make bench`: runs every benchmark in this folder, one process each, and prints their summaries.

    python -m benchmarks.run [--quick] [--out_dir DIR] [--peer_venv DIR] [--only NAME,...]

Each benchmark prints its table and writes its JSON report (benchmarks/common.py). The peer benchmarks
install OpenNMT-py into --peer_venv on first use (benchmarks/peer_opennmt.py).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import time

from benchmarks.common import QUICK_DIR, RESULTS_DIR

BENCHMARKS = (
    "kernels",
    "dot_product_attention",
    "decoder_steps",
    "mfu",
    "step_profile",
    "compile_times",
    "compilations",
    "training_throughput",
    "decoding",
    "small_updates",
    "optimizer_layout",
    "captioning_step",
)
PEER_BENCHMARKS = ("training_throughput", "decoding")


class _HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The module docstring as written, and each flag's default in --help."""


def parser() -> argparse.ArgumentParser:
    """The command line of `python -m benchmarks.run` (module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=_HelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke runs (tiny sizes, few repeats)")
    parser.add_argument("--out_dir", default=None, help=f"reports folder (None: {RESULTS_DIR}; --quick: {QUICK_DIR})")
    parser.add_argument(
        "--peer_venv", default=None, help="OpenNMT-py's virtual environment (None: the peer benchmarks' own default)"
    )
    parser.add_argument(
        "--only", default=",".join(BENCHMARKS), help=f"comma separated benchmark names, from: {', '.join(BENCHMARKS)}"
    )
    for old in ("--out-dir", "--peer-venv"):  # the old spellings, still accepted
        parser.add_argument(old, dest=old[2:].replace("-", "_"), help=argparse.SUPPRESS)
    return parser


def main() -> int:
    args = parser().parse_args()
    names = args.only.split(",")
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        raise ValueError(f"unknown benchmarks {unknown}; valid choices: {', '.join(BENCHMARKS)}")
    out_dir = args.out_dir or (QUICK_DIR if args.quick else RESULTS_DIR)
    failed, seconds = [], {}
    started = time.perf_counter()
    for name in names:
        command = [sys.executable, "-m", f"benchmarks.{name}", "--out-dir", out_dir]
        command += ["--quick"] if args.quick else []
        command += ["--peer-venv", args.peer_venv] if args.peer_venv and name in PEER_BENCHMARKS else []
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        if subprocess.run(command).returncode:
            failed.append(name)
        seconds[name] = time.perf_counter() - start
    print(f"\n== summary ({(time.perf_counter() - started) / 60:.1f} min in all)")
    for name in names:
        if name in failed:
            print(f"{name}: FAILED")
            continue
        newest = max(glob.glob(os.path.join(out_dir, f"{name}_*.json")), key=os.path.getmtime)
        with open(newest) as f:  # the parent never starts JAX (on a GPU it would hold the memory)
            summary = json.load(f)["summary"]
        print(f"{name} ({seconds[name]:.0f} s): {_brief(summary) if summary else 'see its table'}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def _brief(value) -> str:
    """A summary on one line: floats to 4 digits, a spread of runs as its median."""
    if isinstance(value, dict) and "median" in value:
        return _brief(value["median"])
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_brief(v)}" for k, v in value.items()) + "}"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    sys.exit(main())
