"""`make bench`: runs every benchmark in this folder (each prints its table and writes its JSON)."""
from __future__ import annotations

import subprocess
import sys

BENCHMARKS = ("benchmarks.attention_scores",)


def main() -> int:
    failed = []
    for module in BENCHMARKS:
        print(f"== {module}", flush=True)
        if subprocess.run([sys.executable, "-m", module, *sys.argv[1:]]).returncode:
            failed.append(module)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
