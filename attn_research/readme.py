"""Regenerates the README's generated sections (`make readme`); tests check they are up to date.

Sections sit between `<!-- BEGIN name -->` and `<!-- END name -->` markers:
  catalogue: every registered attention part (attn_research/attention/catalogue.py);
  results:   one row per results/<experiment>/<run>.json written by training runs.
"""
from __future__ import annotations

import glob
import json
import os
import re

from attn_research.attention.catalogue import catalogue_markdown

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
RESULT_METRICS = ("bleu", "ppl", "seq_accuracy", "token_accuracy")


def _fmt(value) -> str:
    if value is None:
        return "–"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _commit(commit: str) -> str:
    """A short commit hash; '+dirty' when the run started with uncommitted changes."""
    return commit[:10] + ("+dirty" if commit.endswith("-dirty") else "")


def results_markdown(results_dir: str = os.path.join(ROOT, "results")) -> str:
    """A table of every training run's test (and validation) metrics, from the results JSON files."""
    lines = ["| experiment | run | test BLEU | test ppl | test seq acc | test token acc | val seq acc | steps (best) "
             "| wall time | commit | machine |", "| --- " * 11 + "|"]
    for path in sorted(glob.glob(os.path.join(results_dir, "*", "*.json"))):
        with open(path) as f:
            result = json.load(f)
        if "metrics" not in result or "test" not in result.get("metrics", {}):
            continue
        test, val = result["metrics"]["test"], result["metrics"].get("validation", {})
        minutes = result["wall_time_s"] / 60
        machine = result.get("machine", {})
        lines.append(
            f"| {result['experiment']} | [{os.path.basename(path)[:-5]}]({os.path.relpath(path, ROOT)}) "
            f"| {_fmt(test.get('bleu'))} | {_fmt(test.get('ppl'))} | {_fmt(test.get('seq_accuracy'))} "
            f"| {_fmt(test.get('token_accuracy'))} | {_fmt(val.get('seq_accuracy'))} | {result.get('best_step')} "
            f"| {minutes:.1f} min | `{_commit(result['git_commit'])}` "
            f"| {machine.get('cpu_count')}x {machine.get('cpu', '?')} ({machine.get('backend')}) |")
    return "\n".join(lines)


def benchmarks_markdown(results_dir: str = os.path.join(ROOT, "results", "benchmarks")) -> str:
    """One table per benchmark JSON (results/benchmarks/<name>.json written by `make bench`)."""
    parts = []
    for path in sorted(glob.glob(os.path.join(results_dir, "*.json"))):
        with open(path) as f:
            report = json.load(f)
        rows = report["rows"]
        columns = [c for c in ("case", "score", "length", "median_ms", "p10_ms", "p90_ms", "compile_ms", "speedup")
                   if any(c in row for row in rows)]
        machine = report.get("machine", {})
        parts.append(f"`{report['benchmark']}` ({os.path.relpath(path, ROOT)}; settings {report.get('settings')}; "
                     f"{machine.get('cpu_count')}x {machine.get('cpu')}, {machine.get('backend')}; "
                     f"commit `{_commit(report.get('git_commit', ''))}`)\n")
        parts.append("| " + " | ".join(columns) + " |\n|" + " --- |" * len(columns))
        for row in rows:
            parts.append("| " + " | ".join(_fmt(row.get(c)) for c in columns) + " |")
        parts.append("")
    return "\n".join(parts).rstrip() or "(no benchmark results yet: run `make bench`)"


SECTIONS = {"catalogue": catalogue_markdown, "results": results_markdown, "benchmarks": benchmarks_markdown}


def render(text: str) -> str:
    """text with every generated section replaced by its current rendering."""
    for name, make in SECTIONS.items():
        pattern = re.compile(rf"(<!-- BEGIN {name} -->\n)(?:.*?\n)?(<!-- END {name} -->)", re.S)
        if not pattern.search(text):
            raise ValueError(f"README has no '<!-- BEGIN {name} -->' ... '<!-- END {name} -->' section")
        text = pattern.sub(lambda m: m.group(1) + make() + "\n" + m.group(2), text)
    return text


def main() -> None:
    with open(README) as f:
        text = render(f.read())  # fails before touching the file
    with open(README, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
