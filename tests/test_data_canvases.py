"""attn_research.data.canvases: items placed without overlap, pixels copied, reading order, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from attn_research.data import canvases
from attn_research.data.canvases import PAD, caption, compose_canvases, reading_order

NAMES = tuple(f"class{k}" for k in range(10))


@pytest.fixture(scope="module")
def sources():
    """40 random 28 x 28 items with no zero pixel (so an item's pixels are never mistaken for background)."""
    rng = np.random.default_rng(123)
    return rng.integers(1, 256, size=(40, 28, 28), dtype=np.uint8), rng.integers(0, 10, size=40)


@pytest.fixture(scope="module")
def batch(sources):
    return compose_canvases(*sources, num_canvases=60, height=64, width=64, min_items=1, max_items=4, seed=5)


def test_shapes_counts_and_padding(batch):
    assert batch.images.shape == (60, 64, 64, 1) and batch.images.dtype == np.uint8
    assert batch.labels.shape == batch.sources.shape == (60, 4) and batch.boxes.shape == (60, 4, 4)
    assert set(batch.num_items.tolist()) == {1, 2, 3, 4}  # every count in [min_items, max_items] occurs
    for n, labels, sources, boxes in zip(batch.num_items, batch.labels, batch.sources, batch.boxes):
        assert np.all(labels[n:] == PAD) and np.all(sources[n:] == PAD) and np.all(boxes[n:] == 0)
        assert np.all(labels[:n] >= 0) and len(set(sources[:n].tolist())) == n  # distinct source images


def test_items_do_not_overlap_and_lie_inside_the_canvas(batch):
    for n, boxes in zip(batch.num_items, batch.boxes):
        cover = np.zeros((64, 64), np.int64)
        for top, left, bottom, right in boxes[:n]:
            assert (bottom - top, right - left) == (28, 28)
            assert 0 <= top and bottom <= 64 and 0 <= left and right <= 64
            cover[top:bottom, left:right] += 1
        assert cover.max() == 1 and cover.sum() == n * 28 * 28


def test_pixels_are_the_source_items_at_their_boxes_and_zero_elsewhere(batch, sources):
    images, labels = sources
    for canvas, n, boxes, srcs, labs in zip(batch.images, batch.num_items, batch.boxes, batch.sources, batch.labels):
        background = np.ones((64, 64), bool)
        for (top, left, bottom, right), src, lab in zip(boxes[:n], srcs[:n], labs[:n]):
            np.testing.assert_array_equal(canvas[top:bottom, left:right, 0], images[src])
            assert lab == labels[src]
            background[top:bottom, left:right] = False
        assert np.all(canvas[background, 0] == 0)


def test_items_are_stored_in_reading_order(batch):
    """Against the definition, checked slot by slot: the unread items whose top lies less than 28 rows
    below the topmost unread one (its line) fill the next slots, by increasing left."""
    lines = 0
    for n, boxes in zip(batch.num_items, batch.boxes):
        pos = 0
        while pos < n:
            tops = boxes[pos:n, 0]
            in_line = tops < tops.min() + 28
            size = int(in_line.sum())
            assert in_line[:size].all()  # the line's items come first
            assert np.all(np.diff(boxes[pos : pos + size, 1]) > 0)  # left to right
            pos += size
            lines += 1
    assert lines > len(batch.num_items)  # some canvases have two lines


@pytest.mark.parametrize(
    "tops, lefts, expected",
    [
        ([10, 0], [0, 30], [0, 1]),  # rows overlap (10 < 28): one line, left to right though item 0 is lower
        ([0, 30], [36, 0], [0, 1]),  # 30 >= 28: two lines, the top one first though it lies to the right
        ([0, 20, 40], [0, 60, 30], [0, 1, 2]),  # the third starts a second line (40 >= 0 + 28)
        ([5, 0], [40, 0], [1, 0]),  # the topmost starts the line; both on it, left to right
        ([27, 0, 28], [0, 40, 30], [0, 1, 2]),  # 27 < 0 + 28 joins the first line, leftmost; 28 starts line 2
    ],
)
def test_reading_order_on_hand_made_boxes(tops, lefts, expected):
    assert reading_order(np.array(tops), np.array(lefts), 28).tolist() == expected


def test_deterministic_by_seed_and_canvas_index(sources):
    a = compose_canvases(*sources, num_canvases=8, seed=1, max_items=3)
    b = compose_canvases(*sources, num_canvases=8, seed=1, max_items=3)
    c = compose_canvases(*sources, num_canvases=8, seed=2, max_items=3)
    prefix = compose_canvases(*sources, num_canvases=3, seed=1, max_items=3)  # canvas i depends on (seed, i) only
    for field in ("images", "labels", "boxes", "sources", "num_items"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
        np.testing.assert_array_equal(getattr(a, field)[:3], getattr(prefix, field))
    assert not np.array_equal(a.images, c.images)


def test_accepts_a_channel_axis_and_fills_a_tight_canvas(sources):
    images, labels = sources
    batch = compose_canvases(images[..., None], labels, num_canvases=5, height=60, width=60, min_items=4, max_items=4)
    assert np.all(batch.num_items == 4) and batch.images.shape == (5, 60, 60, 1)


def test_caption_is_the_class_names_in_reading_order():
    assert caption(np.array([3, 0, 9, PAD]), NAMES) == ["class3", "class0", "class9"]
    with pytest.raises(ValueError, match="label 10 has no class name"):
        caption(np.array([10]), NAMES)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(height=40, width=40, max_items=2), r"40 x 40 holds at most 1 items of 28 x 28 .* max_items = 2"),
        (dict(min_items=3, max_items=2), "need 1 <= min_items <= max_items"),
        (dict(min_items=0), "need 1 <= min_items <= max_items"),
        (dict(num_canvases=0), "num_canvases must be > 0"),
    ],
)
def test_bad_arguments_are_one_line_errors(sources, kwargs, message):
    kwargs = {"num_canvases": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        compose_canvases(*sources, **kwargs)


def test_bad_sources_and_rare_arrangements(sources, monkeypatch):
    images, labels = sources
    with pytest.raises(ValueError, match="images must be uint8"):
        compose_canvases(images.astype(np.float32), labels, num_canvases=1)
    with pytest.raises(ValueError, match=r"labels must be \[sources\] = \[40\]"):
        compose_canvases(images, labels[:3], num_canvases=1)
    monkeypatch.setattr(canvases, "MAX_ATTEMPTS", 3)  # 4 items on 56 x 56 fit in exactly one arrangement
    with pytest.raises(ValueError, match="could not place 4 items .* in 3 attempts"):
        compose_canvases(images, labels, num_canvases=1, height=56, width=56, min_items=4, max_items=4)
