"""An experiment's table in Markdown, LaTeX (booktabs) and CSV, the paper's numbers beside ours.

Ours: "mean ± std (best)" over seeds, "mean" for a single run, "–" where no run has finished.
The paper's cells are copied as printed (Table.published). The Markdown goes into the README
(`make readme`, section `tables`); the LaTeX into a paper; the CSV keeps every number unformatted.
Files: <tables dir>/<experiment>.{md,tex,csv} (and .png for a Table.by_length) for the `full` scale,
<tables dir>/<scale>/<experiment>.* for any other.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence

from attn_research.jsonio import write_text
from attn_research.sweeps.aggregate import BY_LENGTH, WALL_TIME, Row, Stat
from attn_research.sweeps.plots import plot_rows
from attn_research.sweeps.spec import Experiment, Metric

MISSING = "–"
FULL = "full"
LENGTH_FIGURE = "BLEU by source sentence length (Bahdanau et al. 2015, Fig. 2)"
WALL_TITLE = "min per run"


def format_stat(stat: Stat | None, metric: Metric) -> str:
    """'mean ± std (best)' (or 'mean' for one run, '–' for none), each value * metric.scale."""
    if stat is None:
        return MISSING

    def show(value: float) -> str:
        return f"{value * metric.scale:.{metric.digits}f}"

    if stat.n == 1:
        return show(stat.mean)
    return f"{show(stat.mean)} ± {show(stat.std)} ({show(stat.best)})"


def _published_metrics(experiment: Experiment) -> set[str]:
    return {key for cells in experiment.table.published.values() for key in cells}


def header(experiment: Experiment) -> list[str]:
    """Column titles: the row title, runs, then each metric with "<title> (paper)" after it where the
    paper reports it, then the mean wall time of a run in minutes."""
    titles = [experiment.table.row_title, "runs"]
    published = _published_metrics(experiment)
    for metric in experiment.table.metrics:
        titles.append(metric.title)
        if metric.key in published:
            titles.append(f"{metric.title} (paper)")
    return titles + [WALL_TITLE]


def cells(experiment: Experiment, row: Row) -> list[str]:
    """One row's formatted cells, in header order."""
    values = [row.label, f"{row.runs}/{row.expected}"]
    published = _published_metrics(experiment)
    paper = experiment.table.published.get(row.label, {})
    for metric in experiment.table.metrics:
        values.append(format_stat(row.stats.get(metric.key), metric))
        if metric.key in published:
            values.append(paper.get(metric.key, MISSING))
    wall = row.stats.get(WALL_TIME)
    return values + [MISSING if wall is None else f"{wall.mean:.1f}"]


def total_wall_time(rows: Sequence[Row]) -> tuple[int, float]:
    """(finished runs with a wall time, the sum of their wall times in hours)."""
    stats = [row.stats.get(WALL_TIME) for row in rows]
    return sum(s.n for s in stats if s), sum(s.mean * s.n for s in stats if s) / 60


def caption(experiment: Experiment, scale: str, rows: Sequence[Row] = ()) -> str:
    """What the numbers are: ours (scale, seeds, evaluation, wall time) and the paper's source."""
    text = (
        f"Ours: `{scale}` scale, mean ± std over seeds (best seed in parentheses), from "
        f"`results/{experiment.name}/{scale}/`."
    )
    runs, hours = total_wall_time(rows)
    if runs:
        text += (
            f" Wall time: {hours:.1f} h in all for {runs} runs (the sum of the runs' training times; each "
            f"results JSON records its machine)."
        )
    evaluation = experiment.scale(scale).evaluation
    if evaluation is not None:
        text += f" Decoding: the {evaluation.split} split with beam {evaluation.beam} (`attn_research.evaluate`)."
    if experiment.table.source:
        text += f" Paper: {experiment.table.source}."
    return text


def render_markdown(experiment: Experiment, scale: str, rows: Sequence[Row], figure: str | None = None) -> str:
    """A '### title' section: the table, the caption, the notes (the table's, then the scale's), the lines
    Table.findings computes from the rows, and the figure (a file name beside it)."""
    titles = header(experiment)
    title = experiment.title if scale == FULL else f"{experiment.title} (`{scale}` scale)"
    lines = [f"### {title}", "", "| " + " | ".join(titles) + " |", "|" + " --- |" * len(titles)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in cells(experiment, row)) + " |" for row in rows]
    lines += ["", caption(experiment, scale, rows)]
    lines += [f"- {note}" for note in experiment.table.notes + experiment.scale(scale).notes]
    if experiment.table.findings is not None:
        lines += [f"- {line}" for line in experiment.table.findings(rows)]
    if figure:
        lines += ["", f"![{LENGTH_FIGURE}]({figure})"]
    return "\n".join(lines) + "\n"


_LATEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "±": r"$\pm$",
    "–": "--",
    "→": r"$\rightarrow$",
    "‡": r"$^\ddagger$",
    "†": r"$^\dagger$",
    "×": r"$\times$",
    "≤": r"$\leq$",
    "≈": r"$\approx$",
    "`": "",
}


def latex_escape(text: str) -> str:
    """text with LaTeX's special characters escaped and ±, –, →, ‡, †, ×, ≤, ≈ in math mode."""
    return "".join(_LATEX.get(c, c) for c in text)


def render_latex(experiment: Experiment, scale: str, rows: Sequence[Row]) -> str:
    """A booktabs table environment (needs \\usepackage{booktabs})."""
    titles = header(experiment)
    lines = [
        f"% Generated by `python -m attn_research.sweep experiments/{experiment.name}.py --scale {scale}`;"
        " do not edit.",
        r"\begin{table}[t]",
        r"\centering",
        r"\begin{tabular}{l" + "r" * (len(titles) - 1) + "}",
        r"\toprule",
        " & ".join(latex_escape(t) for t in titles) + r" \\",
        r"\midrule",
    ]
    lines += [" & ".join(latex_escape(c) for c in cells(experiment, row)) + r" \\" for row in rows]
    lines += [
        r"\bottomrule",
        r"\end{tabular}",
        r"\caption{" + latex_escape(f"{experiment.title}. {caption(experiment, scale, rows)}") + "}",
        r"\label{tab:" + experiment.name + "}",
        r"\end{table}",
    ]
    return "\n".join(lines) + "\n"


def render_csv(experiment: Experiment, rows: Sequence[Row]) -> str:
    """Unformatted numbers: label, the point's keys, runs, expected, then per metric its mean, std, best,
    n and the paper's cell, then the runs' mean wall time in minutes."""
    keys = list(dict.fromkeys(key for row in rows for key in row.point))
    columns = [experiment.table.row_title, *keys, "runs", "expected"]
    for metric in experiment.table.metrics:
        columns += [f"{metric.key} {part}" for part in ("mean", "std", "best", "n", "paper")]
    columns.append(f"{WALL_TIME} mean")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        values = [row.label, *(row.point.get(key, "") for key in keys), row.runs, row.expected]
        paper = experiment.table.published.get(row.label, {})
        for metric in experiment.table.metrics:
            stat = row.stats.get(metric.key)
            values += (
                ["", "", "", 0]
                if stat is None
                else [stat.mean, "" if stat.std is None else stat.std, stat.best, stat.n]
            )
            values.append(paper.get(metric.key, ""))
        wall = row.stats.get(WALL_TIME)
        writer.writerow(values + ["" if wall is None else wall.mean])
    return buffer.getvalue()


def tables_dir_for(tables_dir: str, scale: str) -> str:
    """<tables dir> for the full scale, <tables dir>/<scale> for any other."""
    return tables_dir if scale == FULL else os.path.join(tables_dir, scale)


def write_tables(experiment: Experiment, scale: str, rows: Sequence[Row], tables_dir: str) -> list[str]:
    """Writes <experiment>.md, .tex, .csv (and the BLEU-by-length .png when the table's metrics have length
    buckets, see aggregate.with_length_buckets) under tables_dir_for(tables_dir, scale). Returns the paths."""
    out = tables_dir_for(tables_dir, scale)
    os.makedirs(out, exist_ok=True)
    base = os.path.join(out, experiment.name)
    paths, figure = [], None
    buckets = [m for m in experiment.table.metrics if m.key.startswith(BY_LENGTH)]
    if buckets:
        paths.append(
            plot_rows(rows, buckets, LENGTH_FIGURE, ("source sentence length (tokens)", "BLEU"), base + ".png")
        )
        figure = os.path.basename(base + ".png")
    for suffix, text in (
        (".md", render_markdown(experiment, scale, rows, figure)),
        (".tex", render_latex(experiment, scale, rows)),
        (".csv", render_csv(experiment, rows)),
    ):
        write_text(base + suffix, text)  # atomic: a reader never sees half a table
        paths.append(base + suffix)
    return paths
