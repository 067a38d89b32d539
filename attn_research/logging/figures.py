"""Matplotlib figures without pyplot, imported when a picture is first drawn.

Importing matplotlib (and pyplot above all) costs about 2 s of every process start; a run that draws nothing
(a config error, `--help`, most tests' subprocesses) should not pay it. Figures come from the object-oriented
API with the Agg canvas: no global figure state, no backend selection, nothing to close.
"""

from __future__ import annotations

from typing import Any


def new_figure(**kwargs: Any):
    """A matplotlib Figure(**kwargs) (figsize in inches, dpi, layout, ...) with an Agg canvas attached, so
    figure.savefig writes PNGs."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(**kwargs)
    FigureCanvasAgg(figure)
    return figure


def rectangle(xy: tuple[float, float], width: float, height: float, **kwargs: Any):
    """A matplotlib.patches.Rectangle (outline boxes on images: glimpses, gold boxes)."""
    from matplotlib.patches import Rectangle

    return Rectangle(xy, width, height, **kwargs)


def colormap(name: str):
    """The registered matplotlib colormap `name` (a callable from [0, 1] values to RGBA)."""
    import matplotlib

    return matplotlib.colormaps[name]
