"""Canvases of several images for captioning with visual attention (issue 17; after Xu et al. 2015's task) and
for glimpses (issue 18; Mnih et al. 2014, sec. 4.1).

`compose_canvases` places 1 to K source images (e.g. Fashion-MNIST's 28 x 28 items) at random, without
overlap, on a blank canvas; the caption is the items' labels in reading order (`reading_order`), and
every item keeps its bounding box. `add_clutter` adds pieces cut from other source images at random
(the cluttered translated task of Mnih et al.). Pure numpy, deterministic by seed: canvas i depends only
on (seed, i) and the source arrays.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from attn_research.validation import check_positive

PAD = -1  # labels and sources after an example's num_items
MAX_ATTEMPTS = 10_000  # random placements tried per canvas before giving up


@dataclasses.dataclass(frozen=True)
class Canvases:
    """A batch of composed canvases; item axes are in reading order, padded after `num_items`.

    images: uint8 [canvases, height, width, 1], 0 where no item lies.
    labels: int64 [canvases, max_items], the items' labels (PAD after num_items).
    boxes: int64 [canvases, max_items, 4], (top, left, bottom, right) in pixels, bottom and right
      exclusive (canvas[top:bottom, left:right] is the item); 0 after num_items.
    sources: int64 [canvases, max_items], the items' indices into the source images (PAD after num_items).
    num_items: int64 [canvases].
    """

    images: np.ndarray
    labels: np.ndarray
    boxes: np.ndarray
    sources: np.ndarray
    num_items: np.ndarray


def reading_order(tops: np.ndarray, lefts: np.ndarray, item_height: int) -> np.ndarray:
    """The order in which the items are read: line by line from the top, each line left to right.

    tops, lefts: [items], the items' top-left corners in pixels; every item is `item_height` pixels tall.
    Lines: the topmost unread item (the leftmost among equal tops) starts a line; every unread item whose
    top lies less than item_height below that item's top (their rows overlap) belongs to the same line;
    the line is read by increasing left (then top), then the next line starts. Non-overlapping items of
    one line overlap in rows, so they are disjoint in columns and their left-to-right order is strict.
    Returns int64 [items], the item indices in reading order.
    """
    tops, lefts = np.asarray(tops, np.int64), np.asarray(lefts, np.int64)
    unread = sorted(range(len(tops)), key=lambda i: (tops[i], lefts[i]))
    order = []
    while unread:
        first = unread[0]
        line = [i for i in unread if tops[i] < tops[first] + item_height]
        order += sorted(line, key=lambda i: (lefts[i], tops[i]))
        unread = [i for i in unread if i not in line]
    return np.array(order, np.int64)


def _place(rng: np.random.Generator, count: int, height: int, width: int, item: tuple[int, int]) -> np.ndarray | None:
    """Top-left corners [count, 2] of `count` non-overlapping item-sized boxes, each uniform over the
    positions still free when it is placed; None at a dead end (no free position left)."""
    item_h, item_w = item
    free = np.ones((height - item_h + 1, width - item_w + 1), bool)  # free[y, x]: a box at (y, x) fits
    corners = []
    for _ in range(count):
        ys, xs = np.nonzero(free)
        if len(ys) == 0:
            return None
        j = rng.integers(len(ys))
        y, x = int(ys[j]), int(xs[j])
        corners.append((y, x))
        # A box at (y', x') overlaps this one iff |y' - y| < item_h and |x' - x| < item_w.
        free[max(0, y - item_h + 1) : y + item_h, max(0, x - item_w + 1) : x + item_w] = False
    return np.array(corners, np.int64)


def compose_canvases(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    num_canvases: int,
    height: int = 64,
    width: int = 64,
    min_items: int = 1,
    max_items: int = 3,
    seed: int = 0,
) -> Canvases:
    """Composes `num_canvases` canvases of `height` x `width` pixels from the source `images`.

    images: uint8 [sources, item_height, item_width] or [sources, item_height, item_width, 1];
    labels: int [sources]. For canvas i, a generator seeded with (seed, i) draws the number of items
    uniformly in [min_items, max_items], that many distinct source images uniformly, and their
    positions: each item uniform over the positions where it overlaps no item placed before it (a
    placement that reaches a dead end is drawn again). Items are pasted unchanged; the rest is 0.
    Items are stored in `reading_order`. Returns Canvases.
    Raises ValueError for images not of those shapes, labels of another length, num_canvases < 1,
    min_items < 1 or > max_items, fewer sources than max_items, a canvas that cannot hold max_items
    items without overlap ((height // item_height) * (width // item_width) < max_items), or
    MAX_ATTEMPTS dead ends in a row (a canvas that holds max_items only in rare arrangements).
    """
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(
            f"images must be uint8 [sources, item_height, item_width(, 1)], got {images.dtype} {images.shape}"
        )
    labels = np.asarray(labels, np.int64)
    if labels.shape != images.shape[:1]:
        raise ValueError(f"labels must be [sources] = [{len(images)}], got shape {labels.shape}")
    check_positive("num_canvases", num_canvases)
    if not 1 <= min_items <= max_items:
        raise ValueError(f"need 1 <= min_items <= max_items, got min_items={min_items}, max_items={max_items}")
    if len(images) < max_items:
        raise ValueError(
            f"max_items={max_items} distinct items per canvas need as many source images, got {len(images)}"
        )
    item_h, item_w = images.shape[1:]
    capacity = (height // item_h) * (width // item_w)
    if capacity < max_items:
        raise ValueError(
            f"a canvas of height x width = {height} x {width} holds at most {capacity} items of {item_h} x {item_w} "
            f"without overlap, but max_items = {max_items}: enlarge the canvas or lower max_items"
        )
    out_images = np.zeros((num_canvases, height, width, 1), np.uint8)
    out_labels = np.full((num_canvases, max_items), PAD, np.int64)
    out_sources = np.full((num_canvases, max_items), PAD, np.int64)
    out_boxes = np.zeros((num_canvases, max_items, 4), np.int64)
    num_items = np.zeros(num_canvases, np.int64)
    for i in range(num_canvases):
        rng = np.random.default_rng([seed, i])
        count = int(rng.integers(min_items, max_items + 1))
        sources = rng.choice(len(images), size=count, replace=False)
        for _ in range(MAX_ATTEMPTS):
            corners = _place(rng, count, height, width, (item_h, item_w))
            if corners is not None:
                break
        else:
            raise ValueError(
                f"could not place {count} items of {item_h} x {item_w} on a {height} x {width} canvas in "
                f"{MAX_ATTEMPTS} attempts: enlarge the canvas (height, width) or lower max_items"
            )
        order = reading_order(corners[:, 0], corners[:, 1], item_h)
        for slot, j in enumerate(order):
            top, left = corners[j]
            out_images[i, top : top + item_h, left : left + item_w, 0] = images[sources[j]]
            out_boxes[i, slot] = (top, left, top + item_h, left + item_w)
            out_labels[i, slot] = labels[sources[j]]
            out_sources[i, slot] = sources[j]
        num_items[i] = count
    return Canvases(out_images, out_labels, out_boxes, out_sources, num_items)


def add_clutter(
    canvases: Canvases, images: np.ndarray, *, pieces: int, piece_size: int = 8, seed: int = 0
) -> np.ndarray:
    """The canvases' images with `pieces` pieces of clutter each (Mnih et al. 2014, sec. 4.1, cluttered translated).

    canvases: composed from the source `images` (uint8 [sources, item_height, item_width(, 1)]). For canvas i, a
    generator seeded with (seed, i) draws, per piece, a source image other than the canvas's items, a
    piece_size x piece_size square cut uniformly from it and a position uniform over the canvas; the piece is
    combined with what lies there by the pixelwise maximum (the items stay whole). Returns uint8 [canvases,
    height, width, 1] (the input is not modified). Raises ValueError for pieces < 0, piece_size < 1, a piece larger
    than a source image or the canvas, or fewer than num_items + 1 source images.
    """
    images = np.asarray(images)
    images = images[..., 0] if images.ndim == 4 else images
    if pieces < 0:
        raise ValueError(f"pieces of clutter must be >= 0, got {pieces}")
    check_positive("piece_size", piece_size)
    out = canvases.images.copy()
    height, width = out.shape[1:3]
    if piece_size > min(images.shape[1:]) or piece_size > min(height, width):
        raise ValueError(
            f"a clutter piece of {piece_size} x {piece_size} does not fit in the {images.shape[1]} x "
            f"{images.shape[2]} source images or the {height} x {width} canvas"
        )
    if pieces and len(images) <= int(canvases.num_items.max()):
        raise ValueError(f"clutter needs source images other than a canvas's items, got {len(images)} sources")
    for i in range(len(out)):
        rng = np.random.default_rng([seed, i])
        own = set(int(s) for s in canvases.sources[i, : canvases.num_items[i]])
        for _ in range(pieces):
            source = int(rng.integers(len(images)))
            while source in own:
                source = int(rng.integers(len(images)))
            y, x = rng.integers(images.shape[1] - piece_size + 1), rng.integers(images.shape[2] - piece_size + 1)
            top, left = rng.integers(height - piece_size + 1), rng.integers(width - piece_size + 1)
            piece = images[source, y : y + piece_size, x : x + piece_size]
            region = out[i, top : top + piece_size, left : left + piece_size, 0]
            np.maximum(region, piece, out=region)
    return out


def caption(labels: np.ndarray, class_names: tuple[str, ...] | list[str]) -> list[str]:
    """The class names of one canvas's items, in reading order: labels [max_items] (PAD entries skipped).

    Raises ValueError for a label outside 0..len(class_names) - 1.
    """
    labels = [int(label) for label in labels if label != PAD]
    bad = [label for label in labels if not 0 <= label < len(class_names)]
    if bad:
        raise ValueError(f"label {bad[0]} has no class name (0..{len(class_names) - 1})")
    return [class_names[label] for label in labels]
