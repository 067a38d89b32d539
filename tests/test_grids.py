"""The covering subset that `make test` runs in place of a full grid holds every pair of values."""

from __future__ import annotations

import itertools

import pytest

from tests.grids import pairwise, tiered


@pytest.mark.parametrize("sizes", [(8, 3, 4), (3, 3, 3), (5, 2, 2), (4, 1, 6)])
def test_pairwise_holds_every_pair_of_any_two_axes(sizes):
    axes = [[f"{name}{i}" for i in range(n)] for name, n in zip("xyz", sizes)]
    cells = pairwise(*axes)
    assert len(cells) == sizes[0] * sizes[2] and len(set(cells)) == len(cells)
    assert set(cells) <= set(itertools.product(*axes))
    for a, b in itertools.combinations(range(3), 2):
        assert {(c[a], c[b]) for c in cells} == set(itertools.product(axes[a], axes[b]))


def test_pairwise_and_tiered_reject_what_they_cannot_do():
    with pytest.raises(ValueError, match="len"):
        pairwise([1, 2], [1, 2, 3], [1, 2, 3])
    with pytest.raises(ValueError, match="not in the grid"):
        tiered([(1, 2)], [(2, 1)])


def test_tiered_marks_only_the_cells_outside_the_fast_set_slow():
    params = tiered([("a", 1), ("b", 2)], [("b", 2)])
    assert [p.values for p in params] == [("a", 1), ("b", 2)]
    assert [[m.name for m in p.marks] for p in params] == [["slow"], []]
