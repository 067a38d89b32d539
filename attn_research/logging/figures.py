"""Matplotlib figures without pyplot, imported when a picture is first drawn.

Importing matplotlib (and pyplot above all) costs about 2 s of every process start; a run that draws nothing
(a config error, `--help`, most tests' subprocesses) should not pay it. Figures come from the object-oriented
API with the Agg canvas: no global figure state, no backend selection, nothing to close.
"""

from __future__ import annotations

from typing import Any


def new_figure(**kwargs: Any):
    """A matplotlib Figure(**kwargs) (figsize (width, height) in inches, dpi in dots per inch, layout, ...) with
    an Agg canvas attached, so figure.savefig writes PNGs. Errors are matplotlib's (TypeError for an unknown
    keyword)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(**kwargs)
    FigureCanvasAgg(figure)
    return figure


def rectangle(xy: tuple[float, float], width: float, height: float, **kwargs: Any):
    """A matplotlib.patches.Rectangle with its lower-left corner at xy = (x, y) and the given width and height,
    in data units (pixels on an imshow image; outline boxes: glimpses, gold boxes)."""
    from matplotlib.patches import Rectangle

    return Rectangle(xy, width, height, **kwargs)


def colormap(name: str):
    """The registered matplotlib colormap `name`: a callable from values in [0, 1], shape [n], to RGBA colours
    [n, 4]. Raises KeyError for a name matplotlib does not register."""
    import matplotlib

    return matplotlib.colormaps[name]
