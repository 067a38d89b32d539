"""A table's figure: one curve per row over some of its metrics (Bahdanau et al. 2015, Fig. 2 style)."""

from __future__ import annotations

from collections.abc import Sequence

from attn_research.logging.figures import new_figure
from attn_research.sweeps.aggregate import Row
from attn_research.sweeps.spec import Metric


def plot_rows(rows: Sequence[Row], metrics: Sequence[Metric], title: str, axes: tuple[str, str], path: str) -> str:
    """Draws each row's mean (error bar: std over seeds) at x = metrics, in order, skipping missing
    values; x ticks are the metric titles, axes = (x label, y label). Writes a PNG to `path`, returns it."""
    fig = new_figure(figsize=(6.5, 4), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    for row in rows:
        points = [(x, row.stats.get(m.key), m.scale) for x, m in enumerate(metrics)]
        points = [(x, s.mean * scale, (s.std or 0.0) * scale) for x, s, scale in points if s is not None]
        if points:
            xs, ys, errors = zip(*points)
            ax.errorbar(xs, ys, yerr=errors, marker="o", capsize=3, label=row.label)
    ax.set_xticks(range(len(metrics)), [m.title for m in metrics], fontsize=8)
    ax.set_xlabel(axes[0])
    ax.set_ylabel(axes[1])
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.savefig(path, format="png")
    return path
