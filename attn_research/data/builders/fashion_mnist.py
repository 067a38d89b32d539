"""TFDS builder for Fashion-MNIST (Xiao et al., 2017): 28 x 28 grey images of 10 clothing classes.

Source: https://github.com/zalandoresearch/fashion-mnist (MIT licence); the four IDX files, gzipped,
as TFDS downloads them from FILES_URL. Splits: train (60,000, `train-*`), test (10,000, `t10k-*`).
Features: `image` uint8 [28, 28, 1] (0 = background), `label` ClassLabel 0-9 with CLASS_NAMES.
Examples keep the files' order. No configs. `image` is a raw uint8 Tensor, not `tfds.features.Image`:
the latter encodes PNG with TensorFlow, which is not installed.

Named `fashion_mnist` with `skip_registration=True`: TFDS ships its own `fashion_mnist` builder,
which stays what `tfds.builder("fashion_mnist")` returns.
"""

from __future__ import annotations

import gzip
import os

import numpy as np
import tensorflow_datasets as tfds
from etils import epath

from attn_research.data import tfds_io
from attn_research.data.builders.manual import manual_dir_or_none

FILES_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/{file}"
# split -> (images file, labels file)
SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
IMAGE_SIZE = 28
IDX_UBYTE = 0x08  # the IDX type code of unsigned bytes

_CITATION = """@article{xiao2017fashion,
  title={Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning Algorithms},
  author={Xiao, Han and Rasul, Kashif and Vollgraf, Roland}, journal={arXiv:1708.07747}, year={2017}}"""


def read_idx(path: epath.PathLike, ndim: int) -> np.ndarray:
    """An IDX file of unsigned bytes (gzipped or not, sniffed) as a uint8 array of its header's shape.

    IDX (LeCun et al., the MNIST format): bytes 0, 0, type code (0x08 = ubyte), number of dimensions;
    then each dimension as a big-endian int32; then the data, row-major. Raises ValueError naming the
    file if the header is not ubyte with `ndim` dimensions or the data has the wrong length.
    """
    path = epath.Path(path)
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] != IDX_UBYTE or data[3] != ndim:
        raise ValueError(f"{path}: expected an IDX header of unsigned bytes with {ndim} dimensions, got {data[:4]!r}")
    header = 4 + 4 * ndim
    shape = tuple(int(d) for d in np.frombuffer(data[4:header], dtype=">i4"))
    if len(data) - header != int(np.prod(shape)):
        raise ValueError(
            f"{path}: header shape {shape} needs {np.prod(shape)} bytes, the file has {len(data) - header}"
        )
    return np.frombuffer(data[header:], dtype=np.uint8).reshape(shape)


class FashionMnist(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """Fashion-MNIST images and labels, read from the IDX files."""

    name = "fashion_mnist"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "attn_research builder: array_record, file order kept."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Optional. Put train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
        "t10k-labels-idx1-ubyte.gz from https://github.com/zalandoresearch/fashion-mnist (data/fashion) in the "
        "manual directory."
    )

    DOWNLOAD_URL = FILES_URL

    @classmethod
    def manual_files(cls, config: str | None, root: epath.PathLike) -> list[epath.Path]:
        """The four IDX files in the manual directory `root` (train images, labels, then test's)."""
        del config  # no configs
        return [epath.Path(root) / name for files in SPLIT_FILES.values() for name in files]

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Tensor(shape=(IMAGE_SIZE, IMAGE_SIZE, 1), dtype=np.uint8),
                    "label": tfds.features.ClassLabel(names=CLASS_NAMES),
                }
            ),
            supervised_keys=("image", "label"),
            homepage="https://github.com/zalandoresearch/fashion-mnist",
            citation=_CITATION,
            disable_shuffling=True,
        )

    def _split_generators(self, dl_manager):
        root = manual_dir_or_none(dl_manager)
        if root is not None:
            paths = {name: root / name for files in SPLIT_FILES.values() for name in files}
        else:
            names = [name for files in SPLIT_FILES.values() for name in files]
            # download (not extract): read_idx un-gzips, whatever name TFDS gave the file.
            paths = {
                k: epath.Path(v) for k, v in dl_manager.download({n: FILES_URL.format(file=n) for n in names}).items()
            }
        return {
            split: self._generate_examples(paths[images], paths[labels])
            for split, (images, labels) in SPLIT_FILES.items()
        }

    def _generate_examples(self, images_path, labels_path):
        images, labels = read_idx(images_path, 3), read_idx(labels_path, 1)
        if images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE) or len(images) != len(labels):
            raise ValueError(
                f"{images_path} holds images of shape {images.shape}, {labels_path} {len(labels)} labels: expected "
                f"[n, {IMAGE_SIZE}, {IMAGE_SIZE}] and n labels."
            )
        if labels.max(initial=0) >= len(CLASS_NAMES):
            raise ValueError(f"{labels_path}: label {labels.max()} outside 0-{len(CLASS_NAMES) - 1}.")
        for i, (image, label) in enumerate(zip(images, labels)):
            yield i, {"image": image[:, :, None], "label": int(label)}


def load_fashion_mnist(
    *, manual_dir: str | os.PathLike | None = None, tfds_dir: str | os.PathLike | None = None
) -> dict[str, dict[str, np.ndarray]]:
    """Fashion-MNIST as numpy: {"train" | "test": {"image": uint8 [examples, 28, 28, 1], "label": int64 [examples]}}.

    manual_dir: a folder with the four IDX files; None: `$ATTN_RESEARCH_DATA_DIR/fashion_mnist` if that
    variable is set, else the public URLs. Prepared once under `tfds_dir` (see `tfds_io.read_records`,
    which gives the errors raised).
    """
    records = tfds_io.read_records(
        FashionMnist, None, tfds_dir=tfds_dir, manual_dir=tfds_io.manual_dir_or_env(manual_dir, FashionMnist.name)
    )
    return {
        split: {
            "image": np.stack([r["image"] for r in rs]).astype(np.uint8),
            "label": np.array([r["label"] for r in rs], np.int64),
        }
        for split, rs in records.items()
    }
