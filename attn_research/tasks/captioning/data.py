"""Captioned canvases of real Fashion-MNIST items (issue 17): the splits, the word vocabulary and the batches.

Sources (data/builders/fashion_mnist.py): the 60,000 training images feed the train canvases (all but the
last `data.validation_sources`) and the validation canvases (those last ones, so no item of a validation
canvas was seen in training); the 10,000 t10k images feed the test canvases. Every canvas comes from
data/canvases.compose_canvases (deterministic by seed: split s uses seed data.seed + SPLIT_SEEDS[s]).

Splits: train, validation and test hold data.min_items..data.max_items items per canvas; test_long holds
data.test_long_items (longer captions than any seen in training; 0 = no such split).

Caption: the items' class words in reading order (left to right, then top to bottom), a class word being the
class name with spaces as underscores ("Ankle_boot"). Token ids: PAD 0, BOS 1, EOS 2, class k -> 3 + k
(every class of the data set, whatever data.classes selects). target_input = BOS y_1 .. y_n PAD..,
target_output = y_1 .. y_n EOS PAD.., both [canvases, max_items + 1].
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import ml_collections
import numpy as np

from attn_research.data.builders.fashion_mnist import CLASS_NAMES, load_fashion_mnist
from attn_research.data.canvases import PAD as ITEM_PAD
from attn_research.data.canvases import compose_canvases
from attn_research.validation import check_choice, check_positive

PAD_ID, BOS_ID, EOS_ID = 0, 1, 2
SPECIALS = ("<pad>", "<s>", "</s>")
SPLITS = ("train", "validation", "test", "test_long")
SPLIT_SEEDS = {"train": 0, "validation": 1, "test": 2, "test_long": 3}
ITEM_SIZE = 28  # Fashion-MNIST items are 28 x 28


def default_data_config() -> ml_collections.ConfigDict:
    """config.data of the captioning task.

    name 'fashion_mnist'; height, width: canvas pixels (64 x 64); min_items, max_items: items per train /
    validation / test canvas (1-3); test_long_items: items per test_long canvas (4; 0: no such split);
    train_canvases, validation_canvases, test_canvases: canvases per split (test_long has test_canvases too);
    validation_sources: the last training images kept for the validation canvases (6,000); classes: the class
    names whose images are used, comma-separated ('' = all ten); seed: the canvases' seed; manual_dir, tfds_dir:
    '' = $ATTN_RESEARCH_DATA_DIR/fashion_mnist and ~/.cache/attn_research/tfds.
    """
    return ml_collections.ConfigDict(
        {
            "name": "fashion_mnist",
            "height": 64,
            "width": 64,
            "min_items": 1,
            "max_items": 3,
            "test_long_items": 4,
            "train_canvases": 20000,
            "validation_canvases": 1000,
            "test_canvases": 2000,
            "validation_sources": 6000,
            "classes": "",
            "seed": 0,
            "manual_dir": "",
            "tfds_dir": "",
        }
    )


def class_word(name: str) -> str:
    """A class name as one caption word: spaces become underscores ('Ankle boot' -> 'Ankle_boot')."""
    return name.replace(" ", "_")


WORDS = SPECIALS + tuple(class_word(name) for name in CLASS_NAMES)  # token id -> word


def selected_classes(classes: str) -> tuple[int, ...]:
    """The labels of data.classes (comma-separated class names, '' = all), in the data set's order.

    Raises ValueError (one line, naming data.classes and listing the valid names) for an unknown name."""
    names = [name.strip() for name in str(classes).split(",") if name.strip()]
    for name in names:
        check_choice("class name in data.classes", name, CLASS_NAMES)
    return tuple(k for k, name in enumerate(CLASS_NAMES) if not names or name in names)


def check_data_config(data: Mapping[str, Any]) -> None:
    """One-line ValueErrors, before any work, for data.name, the counts, data.classes, and a canvas too small for
    its items (naming data.height / data.width and data.max_items or data.test_long_items)."""
    check_choice("captioning data set (data.name)", data.get("name"), ("fashion_mnist",))
    for key in ("height", "width", "min_items", "max_items", "train_canvases", "validation_canvases"):
        check_positive(f"data.{key}", int(data[key]))
    check_positive("data.test_canvases", int(data.test_canvases))
    if int(data.min_items) > int(data.max_items):
        raise ValueError(f"need data.min_items <= data.max_items, got {data.min_items} and {data.max_items}")
    if int(data.test_long_items) < 0:
        raise ValueError(f"data.test_long_items must be >= 0 (0: no test_long split), got {data.test_long_items}")
    if not 0 < int(data.validation_sources) < 60000:
        raise ValueError(f"data.validation_sources must be in 1..59,999, got {data.validation_sources}")
    classes = selected_classes(data.classes)
    capacity = (int(data.height) // ITEM_SIZE) * (int(data.width) // ITEM_SIZE)
    for key in ("max_items", "test_long_items"):
        items = int(data[key])
        if items > capacity:
            raise ValueError(
                f"a canvas of data.height x data.width = {data.height} x {data.width} holds at most {capacity} "
                f"items of {ITEM_SIZE} x {ITEM_SIZE} without overlap, but data.{key} = {items}: enlarge the canvas "
                f"or lower data.{key}"
            )
    if len(classes) < 1:
        raise ValueError("data.classes selects no class")


@dataclasses.dataclass(frozen=True)
class CaptionSplit:
    """One split's canvases (data/canvases.Canvases) and their token arrays.

    images uint8 [n, height, width, 1]; labels int64 [n, max_items] (canvases.PAD after num_items); boxes int64
    [n, max_items, 4] (top, left, bottom, right), pixels, bottom/right exclusive; num_items int64 [n];
    target_input, target_output int32 [n, max_items + 1]; target_mask bool [n, max_items + 1] (the words and EOS).
    """

    images: np.ndarray
    labels: np.ndarray
    boxes: np.ndarray
    num_items: np.ndarray
    target_input: np.ndarray
    target_output: np.ndarray
    target_mask: np.ndarray

    def __len__(self) -> int:
        return len(self.images)

    def references(self) -> list[str]:
        """The gold captions as text (words joined by spaces)."""
        return [caption_text(row) for row in self.target_output]


@dataclasses.dataclass(frozen=True)
class CaptionData:
    """splits: name -> CaptionSplit (SPLITS; test_long only with data.test_long_items > 0); words: token id ->
    word (WORDS); height, width: canvas pixels."""

    splits: Mapping[str, CaptionSplit]
    words: tuple[str, ...]
    height: int
    width: int


def caption_text(token_ids) -> str:
    """The words of token ids up to the first EOS (PAD and BOS skipped), joined by spaces."""
    words = []
    for token in token_ids:
        token = int(token)
        if token == EOS_ID:
            break
        if token >= len(SPECIALS):
            words.append(WORDS[token])
    return " ".join(words)


def token_arrays(labels: np.ndarray, num_items: np.ndarray, steps: int) -> tuple[np.ndarray, ...]:
    """(target_input, target_output int32, target_mask bool), each [n, steps], from the items' labels [n, max_items]
    (canvases.PAD after num_items): target_output = 3 + label .. EOS, target_input = BOS then target_output shifted
    right. Needs steps >= max(num_items) + 1."""
    n = len(labels)
    output = np.full((n, steps), PAD_ID, np.int32)
    for i, (row, count) in enumerate(zip(labels, num_items)):
        output[i, :count] = row[:count] + len(SPECIALS)
        output[i, count] = EOS_ID
    target_input = np.concatenate([np.full((n, 1), BOS_ID, np.int32), output[:, :-1]], axis=1)
    target_input[target_input == EOS_ID] = PAD_ID
    mask = np.arange(steps)[None, :] <= num_items[:, None]
    return target_input, output, mask


def make_split(images, labels, *, canvases: int, data: Mapping[str, Any], items: tuple[int, int], seed: int):
    """A CaptionSplit of `canvases` canvases with items[0]..items[1] items each from the source images / labels."""
    composed = compose_canvases(
        images,
        labels,
        num_canvases=canvases,
        height=int(data.height),
        width=int(data.width),
        min_items=items[0],
        max_items=items[1],
        seed=seed,
    )
    target_input, target_output, mask = token_arrays(composed.labels, composed.num_items, items[1] + 1)
    return CaptionSplit(
        composed.images, composed.labels, composed.boxes, composed.num_items, target_input, target_output, mask
    )


def build_caption_data(sources: Mapping[str, Mapping[str, np.ndarray]], data: Mapping[str, Any]) -> CaptionData:
    """CaptionData from Fashion-MNIST-like sources {"train" | "test": {"image": uint8 [n, 28, 28, 1], "label":
    int [n]}} and config.data (module docstring). Raises ValueError as check_data_config and compose_canvases do."""
    check_data_config(data)
    classes = np.array(selected_classes(data.classes))
    held = int(data.validation_sources)

    def pool(split: str, part: slice) -> tuple[np.ndarray, np.ndarray]:
        images, labels = sources[split]["image"][part], np.asarray(sources[split]["label"][part], np.int64)
        keep = np.isin(labels, classes)
        return images[keep], labels[keep]

    train_pool = pool("train", slice(0, len(sources["train"]["label"]) - held))
    validation_pool = pool("train", slice(len(sources["train"]["label"]) - held, None))
    test_pool = pool("test", slice(None))
    items = (int(data.min_items), int(data.max_items))
    seed = int(data.seed)
    splits = {
        "train": make_split(
            *train_pool, canvases=int(data.train_canvases), data=data, items=items, seed=seed + SPLIT_SEEDS["train"]
        ),
        "validation": make_split(
            *validation_pool,
            canvases=int(data.validation_canvases),
            data=data,
            items=items,
            seed=seed + SPLIT_SEEDS["validation"],
        ),
        "test": make_split(
            *test_pool, canvases=int(data.test_canvases), data=data, items=items, seed=seed + SPLIT_SEEDS["test"]
        ),
    }
    long_items = int(data.test_long_items)
    if long_items:
        splits["test_long"] = make_split(
            *test_pool,
            canvases=int(data.test_canvases),
            data=data,
            items=(long_items, long_items),
            seed=seed + SPLIT_SEEDS["test_long"],
        )
    return CaptionData(splits, WORDS, int(data.height), int(data.width))


def load_caption_data(data: Mapping[str, Any]) -> CaptionData:
    """build_caption_data on Fashion-MNIST read by the package's builder (manual_dir '' =
    $ATTN_RESEARCH_DATA_DIR/fashion_mnist, else the public URLs; missing files: a one-line FileNotFoundError
    naming the file, from tfds_io.read_records)."""
    check_data_config(data)
    sources = load_fashion_mnist(manual_dir=data.get("manual_dir") or None, tfds_dir=data.get("tfds_dir") or None)
    return build_caption_data(sources, data)


STEP_ARRAYS = ("images", "target_input", "target_output", "target_mask")


def split_arrays(split: CaptionSplit, index: np.ndarray) -> dict[str, np.ndarray]:
    """The step arrays (STEP_ARRAYS) of the canvases `index` of a split."""
    return {name: getattr(split, name)[index] for name in STEP_ARRAYS}


def train_batches(data: CaptionData, batch_size: int, seed: int, epoch: int) -> list[dict[str, np.ndarray]]:
    """The training batches of an epoch: the train canvases shuffled by (seed, epoch), cut into full batches of
    batch_size (the last partial batch is dropped). Raises ValueError if batch_size exceeds the canvases."""
    split = data.splits["train"]
    if batch_size > len(split):
        raise ValueError(f"train.batch_size {batch_size} exceeds the {len(split)} train canvases (data.train_canvases)")
    order = np.random.default_rng([seed, epoch]).permutation(len(split))
    return [split_arrays(split, order[i : i + batch_size]) for i in range(0, len(order) - batch_size + 1, batch_size)]


def eval_batches(split: CaptionSplit, batch_size: int):
    """Yields (batch, count): every canvas of a split in order, batches of batch_size rows, the last one padded by
    repeating canvas 0 with target_mask False (count: its real rows)."""
    for start in range(0, len(split), batch_size):
        index = np.arange(start, min(start + batch_size, len(split)))
        count = len(index)
        padded = np.concatenate([index, np.zeros(batch_size - count, np.int64)])
        batch = split_arrays(split, padded)
        batch["target_mask"] = batch["target_mask"] & (np.arange(batch_size) < count)[:, None]
        yield batch, count


__all__ = [
    "BOS_ID",
    "EOS_ID",
    "ITEM_PAD",
    "PAD_ID",
    "CaptionData",
    "CaptionSplit",
    "build_caption_data",
    "load_caption_data",
]
