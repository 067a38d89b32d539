"""Metrics of the glimpses task on the host: classification error and where the glimpses fell."""

from __future__ import annotations

import numpy as np


def glimpse_pixels(locations: np.ndarray, side: int) -> np.ndarray:
    """Locations [..., 2] in [-1, 1] (row, column; clipped) as points in pixels of a side x side canvas
    (sensor.py's convention: (l + 1) / 2 * side)."""
    return (np.clip(np.asarray(locations, np.float64), -1.0, 1.0) + 1.0) / 2.0 * side


def glimpses_on_item(locations: np.ndarray, boxes: np.ndarray, side: int) -> float:
    """The share of glimpses whose centre lies in the item's box (Mnih et al.'s claim that RAM learns to find the
    item; random glimpses hit it about as often as the box's share of the canvas).

    locations: [canvases, glimpses, 2] in [-1, 1]; boxes: [canvases, 4] (top, left, bottom, right), pixels,
    bottom / right exclusive. Returns a float in [0, 1] (0 for no glimpse)."""
    points = glimpse_pixels(locations, side)
    boxes = np.asarray(boxes, np.float64)[:, None, :]
    inside = (
        (points[..., 0] >= boxes[..., 0])
        & (points[..., 0] < boxes[..., 2])
        & (points[..., 1] >= boxes[..., 1])
        & (points[..., 1] < boxes[..., 3])
    )
    return float(inside.mean()) if inside.size else 0.0
