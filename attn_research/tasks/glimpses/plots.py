"""Pictures of a glimpses run: the glimpse path drawn on the canvas (Mnih et al. 2014, Fig. 2 style)."""

from __future__ import annotations

import os

import numpy as np

from attn_research.logging.figures import colormap, new_figure, rectangle
from attn_research.tasks.glimpses.metrics import glimpse_pixels


def plot_glimpse_path(
    image: np.ndarray,
    locations: np.ndarray,
    path: str,
    *,
    glimpse_size: int,
    scales: int,
    box: np.ndarray | None = None,
    title: str = "",
) -> str:
    """The canvas (grey) with the glimpse centres joined in order (first green, last red), the smallest and the
    largest patch of every glimpse as squares, and the item's box (cyan, dashed).

    image: uint8 [side, side(, 1)]; locations: [glimpses, 2] in [-1, 1] (row, column); box: (top, left, bottom,
    right) pixels. Saves a PNG at path (folders made) and returns path. Raises ValueError for locations not
    [glimpses, 2]."""
    image = np.asarray(image)
    image = image[..., 0] if image.ndim == 3 else image
    locations = np.asarray(locations, np.float64)
    if locations.ndim != 2 or locations.shape[1] != 2:
        raise ValueError(f"locations must be [glimpses, 2], got shape {locations.shape}")
    side = image.shape[0]
    points = glimpse_pixels(locations, side) - 0.5  # imshow puts pixel i's centre at i
    figure = new_figure(figsize=(3.2, 3.4))
    ax = figure.subplots()
    ax.imshow(image, cmap="gray", vmin=0, vmax=255)
    colours = colormap("RdYlGn_r")(np.linspace(0.0, 1.0, max(len(points), 2)))
    ax.plot(points[:, 1], points[:, 0], color="yellow", linewidth=1.0)
    for t, (row, column) in enumerate(points):
        for patch in sorted({glimpse_size, glimpse_size * 2 ** (scales - 1)}):
            ax.add_patch(
                rectangle((column - patch / 2, row - patch / 2), patch, patch, fill=False, edgecolor=colours[t], lw=0.7)
            )
        ax.scatter([column], [row], color=colours[t], s=12, zorder=3)
    if box is not None:
        top, left, bottom, right = box
        ax.add_patch(
            rectangle(
                (left - 0.5, top - 0.5), right - left, bottom - top, fill=False, edgecolor="cyan", ls="--", lw=0.7
            )
        )
    ax.set_xlim(-0.5, side - 0.5)
    ax.set_ylim(side - 0.5, -0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=8)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    return path
