"""Alignment heatmaps as in Bahdanau et al. (2015), Fig. 3: source words across, target words down."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from attn_research.logging.figures import new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CELL_INCHES = 0.35  # side of one weight's cell
MARGIN_INCHES = 1.5  # room for the token and axis labels, colour bar and title, added to width and height
DPI = 100


def figure_size(source_len: int, target_len: int) -> tuple[float, float]:
    """(width, height) in inches of the plot of a [target_len, source_len] weight matrix."""
    return MARGIN_INCHES + CELL_INCHES * source_len, MARGIN_INCHES + CELL_INCHES * target_len


def attention_figure(
    weights, source_tokens: Sequence[str], target_tokens: Sequence[str], title: str | None = None
) -> Figure:
    """The heatmap of plot_attention as a matplotlib Figure: grayscale weights (white = 1, black = 0),
    source tokens across the top (axis label "source"), target tokens down (axis label "target"), and a
    colour bar of the weight scale [0, 1]. Arguments and errors as plot_attention."""
    weights = np.asarray(weights, dtype=np.float32)
    target_len, source_len = len(target_tokens), len(source_tokens)
    if weights.ndim != 2:
        raise ValueError(f"weights must be [target_len, source_len], got shape {weights.shape}")
    if target_len == 0 or source_len == 0:
        raise ValueError("source_tokens and target_tokens must not be empty")
    if weights.shape[0] < target_len or weights.shape[1] < source_len:
        raise ValueError(f"weights {weights.shape} smaller than the {target_len} target x {source_len} source tokens")
    weights = weights[:target_len, :source_len]

    fig = new_figure(figsize=figure_size(source_len, target_len), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(weights, cmap="gray", vmin=0.0, vmax=1.0, aspect="auto", interpolation="nearest")
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set_xticks(range(source_len), [str(t) for t in source_tokens], rotation=90, fontsize=9)
    ax.set_yticks(range(target_len), [str(t) for t in target_tokens], fontsize=9)
    ax.set_xlabel("source")
    ax.set_ylabel("target")
    fig.colorbar(image, ax=ax, fraction=0.08, pad=0.02, aspect=30)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def plot_attention(
    weights,
    source_tokens: Sequence[str],
    target_tokens: Sequence[str],
    path: str | os.PathLike,
    title: str | None = None,
) -> str:
    """Draws alignment weights as a grayscale heatmap (white = 1, black = 0) and saves it as a PNG.

    weights: [target_len, source_len] alignment weights in [0, 1] (NumPy or JAX), at least as large
    as the token lists; the extra rows / columns (padding) are trimmed to
    [len(target_tokens), len(source_tokens)]. Source tokens label the x axis (on top, axis label
    "source"), target tokens the y axis ("target"); a colour bar gives the scale. The image is
    figure_size(...) inches at DPI dots per inch (the colour bar takes part of the margin).
    Creates the parent folder of `path` if needed; returns `path` as a str.
    Raises ValueError if weights is not 2-D, a token list is empty, or weights is smaller than
    the token lists.
    """
    fig = attention_figure(weights, source_tokens, target_tokens, title)
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, format="png", dpi=DPI)
    return path
