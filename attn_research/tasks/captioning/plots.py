"""Pictures of a captioning run: the canvas with each generated word's attention map overlaid (Xu et al. 2015,
Fig. 2-3 style), one panel per word."""

from __future__ import annotations

import os

import numpy as np

from attn_research.logging.figures import new_figure, rectangle


def upsample(weights: np.ndarray, grid: tuple[int, int], height: int, width: int) -> np.ndarray:
    """A region map [L] (row-major over grid [H', W']) as pixels [height, width]: each region's weight spread
    over its cell (nearest-neighbour upsampling; height and width multiples of H' and W'). Raises ValueError
    if L != H' W'."""
    weights = np.asarray(weights, np.float32)
    rows, columns = grid
    if weights.shape != (rows * columns,):
        raise ValueError(f"weights must be [L] = [{rows * columns}] for grid {grid}, got {weights.shape}")
    return np.kron(weights.reshape(rows, columns), np.ones((height // rows, width // columns), np.float32))


def plot_caption_attention(
    image: np.ndarray,
    weights: np.ndarray,
    words: list[str],
    grid: tuple[int, int],
    path: str,
    *,
    boxes: np.ndarray | None = None,
    title: str = "",
) -> str:
    """One panel per generated word: the canvas (grey) with the word's upsampled attention map (red, alpha by
    weight / max) and the gold boxes (outlines). image uint8 [H, W(, 1)]; weights [words, L]; words: the panel
    titles. Saves a PNG at path (folders made) and returns path. Raises ValueError if weights and words differ."""
    image = np.asarray(image)
    image = image[..., 0] if image.ndim == 3 else image
    weights = np.asarray(weights, np.float32)
    if len(weights) != len(words):
        raise ValueError(f"{len(weights)} attention maps for {len(words)} words")
    height, width = image.shape
    panels = max(1, len(words))
    figure = new_figure(figsize=(max(3.2, 2.2 * panels), 2.9))
    axes = figure.subplots(1, panels, squeeze=False)
    for k in range(panels):
        ax = axes[0, k]
        ax.imshow(image, cmap="gray", vmin=0, vmax=255)
        if k < len(words):
            heat = upsample(weights[k], grid, height, width)
            ax.imshow(heat, cmap="Reds", alpha=0.6, vmin=0.0, vmax=max(float(heat.max()), 1e-6))
            ax.set_title(words[k], fontsize=8)
        for top, left, bottom, right in [] if boxes is None else boxes:
            ax.add_patch(
                rectangle(
                    (left - 0.5, top - 0.5), right - left, bottom - top, fill=False, edgecolor="cyan", linewidth=0.6
                )
            )
        ax.set_xticks([])
        ax.set_yticks([])
    figure.suptitle(title, fontsize=8)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    return path
