"""Regenerates the README's generated sections (`make readme`); tests check they are up to date.

Sections sit between `<!-- BEGIN name -->` and `<!-- END name -->` markers:
  catalogue: every registered attention part (attn_research/attention/catalogue.py);
  results:   one row per results/<experiment>/<run>.json written by training runs;
  decoding:  one row per results/<experiment>/decoding/*.json written by `attn_research.evaluate`;
  tables:    every results/tables/*.md written by `attn_research.sweep` (paper tables, full scale), then those of
             the other scales but smoke (results/tables/<scale>/*.md, e.g. SCAN at the paper's own recipe).
  benchmarks: one table per results/benchmarks/<name>_<backend>.json written by `make bench`.
"""

from __future__ import annotations

import glob
import os
import re

from attn_research.attention.catalogue import catalogue_markdown
from attn_research.evaluate_results import plot_path, read_decoding_results
from attn_research.jsonio import read_json, write_text

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")


def _fmt(value) -> str:
    if value is None:
        return "–"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _commit(commit: str) -> str:
    """A short commit hash; '+dirty' when the run started with uncommitted changes."""
    return commit[:10] + ("+dirty" if commit.endswith("-dirty") else "")


def results_markdown(results_dir: str = os.path.join(ROOT, "results")) -> str:
    """A table of every training run's test (and validation) metrics, from the results JSON files."""
    lines = [
        "| experiment | run | test BLEU | test BLEU (tokens) | test ppl | test seq acc | test token acc | val seq acc "
        "| steps (best) | wall time | commit | machine |",
        "| --- " * 12 + "|",
    ]
    for path in sorted(glob.glob(os.path.join(results_dir, "*", "*.json"))):
        result = read_json(path)  # a torn file: CorruptJSONError naming it
        if "metrics" not in result or "test" not in result.get("metrics", {}):
            continue
        test, val = result["metrics"]["test"], result["metrics"].get("validation", {})
        minutes = result["wall_time_s"] / 60
        machine = result.get("machine", {})
        lines.append(
            f"| {result['experiment']} | [{os.path.basename(path)[:-5]}]({os.path.relpath(path, ROOT)}) "
            f"| {_fmt(test.get('bleu'))} | {_fmt(test.get('bleu_tokens'))} | {_fmt(test.get('ppl'))} "
            f"| {_fmt(test.get('seq_accuracy'))} "
            f"| {_fmt(test.get('token_accuracy'))} | {_fmt(val.get('seq_accuracy'))} | {result.get('best_step')} "
            f"| {minutes:.1f} min | `{_commit(result['git_commit'])}` "
            f"| {machine.get('cpu_count')}x {machine.get('cpu', '?')} ({machine.get('backend')}) |"
        )
    return "\n".join(lines)


def decoding_markdown(results_dir: str = os.path.join(ROOT, "results")) -> str:
    """One row per evaluation (results/<experiment>/decoding/*.json written by attn_research.evaluate)."""
    lines = [
        "| experiment | run | split | decoding | BLEU | BLEU (tokens) | seq acc | alignment acc | AER | sentences/s "
        "| BLEU by length | commit | machine |",
        "| --- " * 13 + "|",
    ]
    for record in read_decoding_results(results_dir):
        metrics, machine = record["metrics"], record.get("machine", {})
        decoding = "greedy" if record["beam"] == 1 else f"beam {record['beam']} (alpha {record['length_penalty']})"
        if record.get("unk_replace"):
            decoding += " + unk replace"
        plot = plot_path(os.path.dirname(record["path"]), record["run"], record["split"])
        lines.append(
            f"| {record['experiment']} | {record['run']} | {record['split']} "
            f"| [{decoding}]({os.path.relpath(record['path'], ROOT)}) | {_fmt(metrics.get('bleu'))} "
            f"| {_fmt(metrics.get('bleu_tokens'))} "
            f"| {_fmt(metrics.get('seq_accuracy'))} | {_fmt(metrics.get('alignment_accuracy'))} "
            f"| {_fmt(metrics.get('alignment_error_rate'))} | {_fmt(record.get('sentences_per_s'))} "
            f"| [plot]({os.path.relpath(plot, ROOT)}) | `{_commit(record['git_commit'])}` "
            f"| {machine.get('cpu_count')}x {machine.get('cpu', '?')} ({machine.get('backend')}) |"
        )
    return "\n".join(lines)


def _summary_value(value) -> str:
    """A summary entry: a spread {"median", "min", "max", "n", ...} as 'median (min–max, n=runs)'."""
    if isinstance(value, dict) and "median" in value:
        return f"{_fmt(value['median'])} ({_fmt(value.get('min'))}–{_fmt(value.get('max'))}, n={value.get('n')})"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_summary_value(v)}" for k, v in value.items())
    return _fmt(value)


def _benchmark_markdown(path: str, report: dict) -> list[str]:
    """One report: what it measures, its provenance, the table of its declared columns, summary and notes.

    Settings that are dicts (model dims, the peer's options) stay in the JSON file only.
    """
    rows = report["rows"]
    columns = report.get("columns") or list(dict.fromkeys(key for row in rows for key in row))
    machine = report.get("machine", {})
    versions = ", ".join(f"{k} {v}" for k, v in machine.get("versions", {}).items() if v)
    minutes = f"; {report['wall_time_s'] / 60:.1f} min" if report.get("wall_time_s") else ""
    settings = ", ".join(f"{k} {v}" for k, v in report.get("settings", {}).items() if not isinstance(v, dict))
    lines = [
        f"**`{report['benchmark']}`** ({machine.get('backend')}): {report.get('description', '')}",
        "",
        f"[{os.path.relpath(path, ROOT)}]({os.path.relpath(path, ROOT)}): {machine.get('cpu_count')}x "
        f"{machine.get('cpu')}, devices {', '.join(machine.get('devices', []))}; {versions}; "
        f"commit `{_commit(report.get('git_commit', ''))}`, {report.get('time', '?')}{minutes}; "
        f"settings: {settings}",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + " --- |" * len(columns),
    ]
    lines += ["| " + " | ".join(_fmt(row.get(c)) for c in columns) + " |" for row in rows]
    summary = report.get("summary") or {}
    if summary:
        lines += [""] + [f"- {key}: {_summary_value(value)}" for key, value in summary.items()]
    notes = list(report.get("notes", []))
    return lines + ([""] + notes if notes else []) + [""]


def benchmarks_markdown(results_dir: str = os.path.join(ROOT, "results", "benchmarks")) -> str:
    """One table per benchmark report (results/benchmarks/<name>_<backend>.json written by `make bench`).

    Each report names the columns its table shows ("columns"; default: every row key) and may carry a
    "summary" (headline numbers, one bullet each) and "notes" (printed under the table).
    """
    parts = []
    for path in sorted(glob.glob(os.path.join(results_dir, "*.json"))):
        parts += _benchmark_markdown(path, read_json(path))
    return "\n".join(parts).rstrip() or "(no benchmark results yet: run `make bench`)"


def tables_markdown(tables_dir: str = os.path.join(ROOT, "results", "tables")) -> str:
    """Every paper table (results/tables/<experiment>.md, written by `attn_research.sweep`), in name order, then
    those of the other scales but smoke (results/tables/<scale>/<experiment>.md), with its relative links
    (figures) made relative to the README."""
    parts = []
    paths = sorted(glob.glob(os.path.join(tables_dir, "*.md")))
    paths += [
        p
        for p in sorted(glob.glob(os.path.join(tables_dir, "*", "*.md")))
        if not p.startswith(os.path.join(tables_dir, "smoke", ""))
    ]
    for path in paths:
        with open(path) as f:
            text = f.read().strip()
        here = os.path.dirname(path)
        parts.append(
            re.sub(
                r"\]\((?![a-z]+:|/|#)([^)]+)\)",
                lambda m, here=here: f"]({os.path.relpath(os.path.join(here, m.group(1)), ROOT)})",
                text,
            )
        )
    return (
        "\n\n".join(parts)
        or "(no paper tables yet: run `python -m attn_research.sweep experiments/<name>.py --scale full`)"
    )


SECTIONS = {
    "catalogue": catalogue_markdown,
    "results": results_markdown,
    "decoding": decoding_markdown,
    "benchmarks": benchmarks_markdown,
    "tables": tables_markdown,
}


def render(text: str) -> str:
    """text with every generated section replaced by its current rendering."""
    for name, make in SECTIONS.items():
        pattern = re.compile(rf"(<!-- BEGIN {name} -->\n)(?:.*?\n)?(<!-- END {name} -->)", re.S)
        if not pattern.search(text):
            raise ValueError(f"README has no '<!-- BEGIN {name} -->' ... '<!-- END {name} -->' section")
        text = pattern.sub(lambda m, make=make: m.group(1) + make() + "\n" + m.group(2), text)
    return text


def main() -> None:
    with open(README) as f:
        text = render(f.read())  # fails before touching the file
    write_text(README, text)


if __name__ == "__main__":
    main()
