"""Fast and full tiers of a parametrized grid.

`make test` (CI) runs a covering subset of a grid; `make test-all` runs every cell. A cell outside the subset
is marked slow, so its id and its arguments stay what they were.
"""

from __future__ import annotations

import pytest


def tiered(cells, fast, ids=None) -> list:
    """cells: the full grid (tuples for several arguments, plain values for one); fast: the cells `make test`
    runs. Returns pytest params, those not in `fast` marked slow. Raises ValueError if a fast cell is not in
    the grid (a typo would silently drop it)."""
    cells = list(cells)
    missing = [cell for cell in fast if cell not in cells]
    if missing:
        raise ValueError(f"fast cells not in the grid: {missing}")
    params = []
    for i, cell in enumerate(cells):
        values = cell if isinstance(cell, tuple) else (cell,)
        marks = () if cell in fast else (pytest.mark.slow,)
        params.append(pytest.param(*values, marks=marks, id=None if ids is None else ids[i]))
    return params


def pairwise(x, y, z) -> list[tuple]:
    """A covering subset of x * y * z: every pair of values from any two of the axes is in some cell.
    Cells (x_i, y_((i + k) mod |y|), z_k) for all i, k hold every (x, z) pair; for a fixed x_i the y index
    runs over all of y as k does (needs |z| >= |y|), for a fixed z_k as i does (needs |x| >= |y|).
    Raises ValueError otherwise."""
    if not (len(x) >= len(y) and len(z) >= len(y)):
        raise ValueError("pairwise(x, y, z) needs len(x) >= len(y) and len(z) >= len(y)")
    return [(a, y[(i + k) % len(y)], c) for i, a in enumerate(x) for k, c in enumerate(z)]
