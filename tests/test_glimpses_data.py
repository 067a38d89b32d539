"""The glimpses task's canvases (Mnih et al. 2014, sec. 4.1, on Fashion-MNIST items): centered, translated and
cluttered canvases from hand-made sources, determinism by seed, clutter drawn from other images only, and the
one-line errors for bad data configs."""

from __future__ import annotations

import numpy as np
import pytest

from attn_research.data.canvases import add_clutter, compose_canvases
from attn_research.tasks.glimpses import data as glimpse_data


def _sources(train=60, test=30, seed=0):
    """Items whose pixels are all 1 .. 255 (never background): item i of a split is filled with a value unique
    to it, so that every pixel of a canvas tells which source it came from."""
    rng = np.random.default_rng(seed)
    out = {}
    for split, n in (("train", train), ("test", test)):
        values = rng.permutation(np.arange(1, 256))[:n].astype(np.uint8)
        out[split] = {
            "image": np.broadcast_to(values[:, None, None, None], (n, 28, 28, 1)).copy(),
            "label": rng.integers(0, 10, size=n).astype(np.int64),
        }
    return out


def _config(**changes):
    data = glimpse_data.default_data_config()
    data.update({"train_images": 20, "validation_images": 10, "test_images": 10, "validation_sources": 20} | changes)
    return data


@pytest.mark.parametrize("variant", ["centered", "translated"])
def test_one_whole_item_per_canvas_and_nothing_else(variant):
    sources = _sources()
    data = glimpse_data.build_glimpse_data(sources, _config(variant=variant))
    side = {"centered": 28, "translated": 60}[variant]
    assert data.side == side
    train = data.splits["train"]
    assert train.images.shape == (20, side, side, 1) and train.images.dtype == np.uint8
    for image, label, (top, left, bottom, right) in zip(train.images, train.labels, train.boxes):
        assert bottom - top == 28 and right - left == 28 and 0 <= top and bottom <= side and right <= side
        item = image[top:bottom, left:right, 0]
        value = item[0, 0]
        assert np.all(item == value) and np.count_nonzero(image) == 28 * 28  # the whole item, zero elsewhere
        source = int(np.flatnonzero(sources["train"]["image"][:40, 0, 0, 0] == value)[0])  # train pool: first 40
        assert label == sources["train"]["label"][source]
    test_values = set(sources["test"]["image"][:, 0, 0, 0].tolist())
    assert {int(im[b[0], b[1], 0]) for im, b in zip(data.splits["test"].images, data.splits["test"].boxes)} <= (
        test_values
    )
    validation_values = set(sources["train"]["image"][40:, 0, 0, 0].tolist())
    split = data.splits["validation"]
    assert {int(im[b[0], b[1], 0]) for im, b in zip(split.images, split.boxes)} <= validation_values


def test_cluttered_canvases_hold_pieces_of_other_images_and_are_deterministic_by_seed():
    sources = _sources()
    data = glimpse_data.build_glimpse_data(sources, _config(variant="cluttered"))
    again = glimpse_data.build_glimpse_data(sources, _config(variant="cluttered"))
    other = glimpse_data.build_glimpse_data(sources, _config(variant="cluttered", seed=1))
    for name in ("train", "validation", "test"):
        np.testing.assert_array_equal(data.splits[name].images, again.splits[name].images)
    assert not np.array_equal(data.splits["train"].images, other.splits["train"].images)
    split = data.splits["train"]
    for image, (top, left, bottom, right) in zip(split.images, split.boxes):
        own = image[top, left, 0]
        outside = image[..., 0].copy()
        outside[top:bottom, left:right] = 0
        values = set(np.unique(outside).tolist()) - {0}
        assert values and own not in values  # clutter, never from the canvas's own item
        assert np.count_nonzero(outside) <= 4 * 8 * 8  # at most 4 pieces of 8 x 8 outside the item
        assert np.all(image[top:bottom, left:right, 0] >= own)  # the item stays whole under the clutter


def test_add_clutter_pieces_are_squares_cut_from_the_sources():
    """One canvas with no item pixels at all left visible (a 0-valued item), one piece: the non-zero pixels form
    one 8 x 8 square, equal to an 8 x 8 window of one source image."""
    rng = np.random.default_rng(3)
    images = rng.integers(1, 256, size=(5, 28, 28), dtype=np.uint8)
    blank = np.zeros((5, 28, 28), np.uint8)
    canvases = compose_canvases(blank, np.arange(5), num_canvases=3, height=40, width=40, min_items=1, max_items=1)
    cluttered = add_clutter(canvases, images, pieces=1, piece_size=8, seed=7)
    np.testing.assert_array_equal(cluttered, add_clutter(canvases, images, pieces=1, piece_size=8, seed=7))
    for canvas, own in zip(cluttered[..., 0], canvases.sources[:, 0]):
        rows, columns = np.nonzero(canvas)
        top, left = rows.min(), columns.min()
        assert rows.max() - top == 7 and columns.max() - left == 7 and len(rows) == 64
        piece = canvas[top : top + 8, left : left + 8]
        matches = [
            s
            for s in range(5)
            if any(np.array_equal(images[s, y : y + 8, x : x + 8], piece) for y in range(21) for x in range(21))
        ]
        assert matches and own not in matches


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"variant": "clutered"}, r"unknown glimpses task variant \(data.variant\) 'clutered'"),
        ({"train_images": 0}, "data.train_images must be > 0"),
        ({"test_images": 10001}, "data.test_images = 10001 exceeds the 10000 source images"),
        ({"validation_images": 7000}, "exceeds the 6000 source images"),
        ({"name": "mnist"}, "unknown glimpses data set"),
    ],
)
def test_bad_data_config_is_a_one_line_error(changes, message):
    with pytest.raises(ValueError, match=message) as error:
        glimpse_data.check_data_config(_config(**({"validation_sources": 6000} | changes)))
    assert "\n" not in str(error.value)


def test_batches_cover_the_split_and_pad_with_a_mask():
    data = glimpse_data.build_glimpse_data(_sources(), _config(variant="centered"))
    batches = list(glimpse_data.eval_batches(data.splits["test"], 4))
    assert [count for _, count in batches] == [4, 4, 2]
    assert batches[-1][0]["example_mask"].tolist() == [True, True, False, False]
    train = glimpse_data.train_batches(data, 8, seed=0, epoch=0)
    assert len(train) == 2 and train[0]["images"].shape == (8, 28, 28, 1)
    assert [b["labels"].tolist() for b in train] == [
        b["labels"].tolist() for b in glimpse_data.train_batches(data, 8, 0, 0)
    ]
