"""Fashion-MNIST canvases for glimpses (issue 18; after Mnih et al. 2014, sec. 4.1): one item per canvas.

Variants (data.variant):
  centered        the 28 x 28 item itself
  translated      the item placed uniformly at random in a 60 x 60 canvas
  cluttered       translated, plus 4 pieces of clutter: 8 x 8 squares cut at random from other source images
  cluttered_100   100 x 100 with 8 pieces of clutter
Sources (data/builders/fashion_mnist.py): the training images but the last data.validation_sources feed the
train canvases, those last ones the validation canvases, the t10k images the test canvases (all of them, or the
first data.test_images). Canvas composition and clutter: data/canvases.py (compose_canvases, add_clutter),
deterministic by seed: split s uses seed data.seed + SPLIT_SEEDS[s] (clutter: that seed + CLUTTER_SEED).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import ml_collections
import numpy as np

from attn_research.data.builders.fashion_mnist import CLASS_NAMES, load_fashion_mnist
from attn_research.data.canvases import add_clutter, compose_canvases
from attn_research.validation import check_choice, check_positive

# variant -> (canvas side in pixels, pieces of clutter)
VARIANTS = {"centered": (28, 0), "translated": (60, 0), "cluttered": (60, 4), "cluttered_100": (100, 8)}
SPLIT_SEEDS = {"train": 0, "validation": 1, "test": 2}
CLUTTER_SEED = 1000
SOURCE_IMAGES = {"train": 60000, "test": 10000}
STEP_ARRAYS = ("images", "labels", "example_mask")


def default_data_config() -> ml_collections.ConfigDict:
    """config.data of the glimpses task: name 'fashion_mnist'; variant (VARIANTS); clutter_size: the side of a
    piece of clutter (8, Mnih et al.); train_images, validation_images, test_images: canvases per split (at most
    the sources of the split; test 10,000 = every t10k image); validation_sources: the last training images kept
    for validation (6,000); seed: the canvases' seed; manual_dir, tfds_dir: '' =
    $ATTN_RESEARCH_DATA_DIR/fashion_mnist and ~/.cache/attn_research/tfds."""
    return ml_collections.ConfigDict(
        {
            "name": "fashion_mnist",
            "variant": "cluttered",
            "clutter_size": 8,
            "train_images": 54000,
            "validation_images": 6000,
            "test_images": 10000,
            "validation_sources": 6000,
            "seed": 0,
            "manual_dir": "",
            "tfds_dir": "",
        }
    )


def canvas_size(data: Mapping[str, Any]) -> int:
    """The canvas side in pixels of data.variant (ValueError for an unknown variant, listing the valid ones)."""
    return VARIANTS[check_choice("glimpses task variant (data.variant)", data.get("variant"), VARIANTS)][0]


def check_data_config(data: Mapping[str, Any]) -> None:
    """One-line ValueErrors, before any work: data.name, data.variant, the counts, a split asking for more canvases
    than it has source images, and clutter pieces larger than an item."""
    check_choice("glimpses data set (data.name)", data.get("name"), ("fashion_mnist",))
    canvas_size(data)
    for key in ("clutter_size", "train_images", "validation_images", "test_images", "validation_sources"):
        check_positive(f"data.{key}", int(data[key]))
    held = int(data.validation_sources)
    limits = {
        "train_images": SOURCE_IMAGES["train"] - held,
        "validation_images": held,
        "test_images": SOURCE_IMAGES["test"],
    }
    for key, limit in limits.items():
        if int(data[key]) > limit:
            raise ValueError(f"data.{key} = {data[key]} exceeds the {limit} source images of its split")
    if int(data.clutter_size) > 28:
        raise ValueError(f"data.clutter_size {data.clutter_size} exceeds the 28 x 28 items it is cut from")


@dataclasses.dataclass(frozen=True)
class GlimpseSplit:
    """One split: images uint8 [n, side, side, 1]; labels int32 [n]; boxes int64 [n, 4] (top, left, bottom, right)
    of the item in pixels, bottom and right exclusive."""

    images: np.ndarray
    labels: np.ndarray
    boxes: np.ndarray

    def __len__(self) -> int:
        return len(self.images)


@dataclasses.dataclass(frozen=True)
class GlimpseData:
    """splits: "train", "validation", "test" -> GlimpseSplit; classes: the class names; side: canvas pixels."""

    splits: Mapping[str, GlimpseSplit]
    classes: tuple[str, ...]
    side: int


def make_split(images: np.ndarray, labels: np.ndarray, *, count: int, data: Mapping[str, Any], seed: int):
    """A GlimpseSplit of `count` canvases (data.variant) composed from the source images / labels."""
    side, pieces = VARIANTS[data.variant]
    composed = compose_canvases(
        images, labels, num_canvases=count, height=side, width=side, min_items=1, max_items=1, seed=seed
    )
    canvas = composed.images
    if pieces:
        canvas = add_clutter(
            composed, images, pieces=pieces, piece_size=int(data.clutter_size), seed=seed + CLUTTER_SEED
        )
    return GlimpseSplit(canvas, composed.labels[:, 0].astype(np.int32), composed.boxes[:, 0])


def build_glimpse_data(sources: Mapping[str, Mapping[str, np.ndarray]], data: Mapping[str, Any]) -> GlimpseData:
    """GlimpseData from Fashion-MNIST-like sources {"train" | "test": {"image": uint8 [n, 28, 28, 1], "label":
    int [n]}} and config.data (module docstring). Raises ValueError as check_data_config does."""
    check_data_config(data)
    train, test = sources["train"], sources["test"]
    cut = len(train["label"]) - int(data.validation_sources)
    pools = {
        "train": (train["image"][:cut], train["label"][:cut]),
        "validation": (train["image"][cut:], train["label"][cut:]),
        "test": (test["image"], test["label"]),
    }
    counts = {"train": data.train_images, "validation": data.validation_images, "test": data.test_images}
    splits = {
        name: make_split(*pools[name], count=int(counts[name]), data=data, seed=int(data.seed) + SPLIT_SEEDS[name])
        for name in SPLIT_SEEDS
    }
    return GlimpseData(splits, tuple(CLASS_NAMES), canvas_size(data))


def load_glimpse_data(data: Mapping[str, Any]) -> GlimpseData:
    """build_glimpse_data on Fashion-MNIST read by the package's builder (missing files: a one-line
    FileNotFoundError naming the file, from tfds_io.read_records)."""
    check_data_config(data)
    sources = load_fashion_mnist(manual_dir=data.get("manual_dir") or None, tfds_dir=data.get("tfds_dir") or None)
    return build_glimpse_data(sources, data)


def split_arrays(split: GlimpseSplit, index: np.ndarray, count: int | None = None) -> dict[str, np.ndarray]:
    """The step arrays of canvases `index`: images, labels, example_mask (False after the first `count` rows)."""
    count = len(index) if count is None else count
    return {
        "images": split.images[index],
        "labels": split.labels[index],
        "example_mask": np.arange(len(index)) < count,
    }


def train_batches(data: GlimpseData, batch_size: int, seed: int, epoch: int) -> list[dict[str, np.ndarray]]:
    """The train canvases shuffled by (seed, epoch), cut into full batches (the last partial one dropped). Raises
    ValueError if batch_size exceeds the canvases."""
    split = data.splits["train"]
    if batch_size > len(split):
        raise ValueError(f"train.batch_size {batch_size} exceeds the {len(split)} train canvases (data.train_images)")
    order = np.random.default_rng([seed, epoch]).permutation(len(split))
    return [split_arrays(split, order[i : i + batch_size]) for i in range(0, len(order) - batch_size + 1, batch_size)]


def eval_batches(split: GlimpseSplit, batch_size: int):
    """Yields (batch, count): every canvas in order, batches of batch_size rows, the last one padded by repeating
    canvas 0 with example_mask False (count: its real rows)."""
    for start in range(0, len(split), batch_size):
        index = np.arange(start, min(start + batch_size, len(split)))
        count = len(index)
        padded = np.concatenate([index, np.zeros(batch_size - count, np.int64)])
        yield split_arrays(split, padded, count), count
