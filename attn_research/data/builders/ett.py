"""TFDS builder for ETT, the Electricity Transformer Temperature data (Zhou et al., 2021), hourly.

Source: https://github.com/zhouhaoyi/ETDataset `ETT-small/` (licence CC BY-ND 4.0). Configs `etth1`,
`etth2` (ETTh1.csv, ETTh2.csv: 17,420 hourly rows, 2016-07-01 00:00 to 2018-06-26 19:00, columns
`date` and CHANNELS). Splits by row, the protocol of Informer / Autoformer / DLinear / PatchTST (a
month = 30 days): train = the first 12 months (rows 0-8,639), validation = the next 4 (8,640-11,519),
test = the next 4 (11,520-14,399); rows 14,400 onward belong to no split (SPLIT_ROWS).
One example per row, in file order: `row` int32 (0-based data row of the CSV, header excluded),
`date` Text ("YYYY-MM-DD HH:MM:SS"), `values` float64 [7] (CHANNELS, in the CSV's order; stored as raw
bytes, since TFDS's default float encoding would round them to float32). Windows
whose look-back reaches into the previous split (as the protocol allows) are the task's job:
concatenate the splits, which are contiguous in `row`.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterator

import numpy as np
import tensorflow_datasets as tfds
from etils import epath

from attn_research.data import tfds_io
from attn_research.data.builders.manual import manual_dir_or_none
from attn_research.validation import check_choice

URL_PATTERN = "https://github.com/zhouhaoyi/ETDataset/raw/main/ETT-small/{file}"
CONFIG_FILES = {"etth1": "ETTh1.csv", "etth2": "ETTh2.csv"}
CHANNELS = ("HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT")  # OT (oil temperature): the usual target
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
HOURS_PER_MONTH = 30 * 24
SPLIT_ROWS = {  # split -> data rows [start, stop)
    "train": (0, 12 * HOURS_PER_MONTH),
    "validation": (12 * HOURS_PER_MONTH, 16 * HOURS_PER_MONTH),
    "test": (16 * HOURS_PER_MONTH, 20 * HOURS_PER_MONTH),
}

_CITATION = """@inproceedings{zhou2021informer,
  title={Informer: Beyond Efficient Transformer for Long Sequence Time-Series Forecasting},
  author={Zhou, Haoyi and Zhang, Shanghang and Peng, Jieqi and Zhang, Shuai and Li, Jianxin and Xiong, Hui
          and Zhang, Wancai}, booktitle={AAAI}, year={2021}}"""


def read_ett_csv(path: epath.PathLike) -> Iterator[tuple[int, str, list[float]]]:
    """Yields (data row from 0, date, [7 floats]) for each row of an ETT csv file, in file order.

    Raises ValueError `path:lineno: ...` for a header other than `date,` + CHANNELS, a row without 8
    comma-separated fields, a date not in DATE_FORMAT, or a value that is not a finite number (naming
    its column).
    """
    path = epath.Path(path)
    with path.open("r", encoding="utf-8") as f:
        header = f.readline().rstrip("\r\n").split(",")
        if tuple(header) != ("date", *CHANNELS):
            raise ValueError(
                f"{path}:1: expected the header {','.join(('date', *CHANNELS))!r}, got {','.join(header)!r}"
            )
        for row, line in enumerate(f):
            where = f"{path}:{row + 2}"
            fields = line.rstrip("\r\n").split(",")
            if len(fields) != 1 + len(CHANNELS):
                raise ValueError(f"{where}: expected {1 + len(CHANNELS)} comma-separated fields, got {len(fields)}")
            try:
                datetime.datetime.strptime(fields[0], DATE_FORMAT)
            except ValueError:
                raise ValueError(f"{where}: date {fields[0]!r} is not of the form {DATE_FORMAT}") from None
            values = []
            for channel, text in zip(CHANNELS, fields[1:]):
                try:
                    value = float(text)
                except ValueError:
                    value = None
                if value is None or not np.isfinite(value):
                    raise ValueError(f"{where}: {channel} = {text!r} is not a finite number")
                values.append(value)
            yield row, fields[0], values


class Ett(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """ETTh1 / ETTh2, one example per hourly row, split by the standard 12/4/4-month protocol."""

    name = "ett"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "attn_research builder: array_record, one example per row, file order kept."}
    BUILDER_CONFIGS = [tfds.core.BuilderConfig(name=n, description=f"ETT-small {f}") for n, f in CONFIG_FILES.items()]
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Optional. Put ETTh1.csv and ETTh2.csv from https://github.com/zhouhaoyi/ETDataset/tree/main/ETT-small in "
        "the manual directory."
    )

    DOWNLOAD_URL = URL_PATTERN

    @classmethod
    def manual_files(cls, config: str, root: epath.PathLike) -> list[epath.Path]:
        """[root/ETTh1.csv] for config etth1, [root/ETTh2.csv] for etth2."""
        return [epath.Path(root) / CONFIG_FILES[config]]

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(
                {
                    "row": tfds.features.Scalar(dtype=np.int32),
                    "date": tfds.features.Text(),
                    "values": tfds.features.Tensor(
                        shape=(len(CHANNELS),), dtype=np.float64, encoding=tfds.features.Encoding.BYTES
                    ),
                }
            ),
            homepage="https://github.com/zhouhaoyi/ETDataset",
            citation=_CITATION,
            disable_shuffling=True,
        )

    def _split_generators(self, dl_manager):
        file = CONFIG_FILES[self.builder_config.name]
        root = manual_dir_or_none(dl_manager)
        path = root / file if root is not None else epath.Path(dl_manager.download(URL_PATTERN.format(file=file)))
        return {split: self._generate_examples(path, *rows) for split, rows in SPLIT_ROWS.items()}

    def _generate_examples(self, path, start: int, stop: int):
        count = 0
        for row, date, values in read_ett_csv(path):
            if start <= row < stop:
                count += 1
                yield row, {"row": row, "date": date, "values": np.array(values, np.float64)}
        if count != stop - start:
            needed = max(stop for _, stop in SPLIT_ROWS.values())
            raise ValueError(f"{path}: has {start + count} data rows; the 12/4/4-month split needs {needed}")


def load_ett(
    config: str = "etth1", *, manual_dir: str | os.PathLike | None = None, tfds_dir: str | os.PathLike | None = None
) -> dict[str, dict[str, np.ndarray]]:
    """ETTh1 (config "etth1") or ETTh2 ("etth2") as numpy: {"train" | "validation" | "test": {"row": int64
    [rows], "date": datetime64[s] [rows], "values": float64 [rows, 7] (CHANNELS, raw, not standardized)}}.

    manual_dir: a folder with ETTh1.csv / ETTh2.csv; None: `$ATTN_RESEARCH_DATA_DIR/ett` if that variable is
    set, else the public URL. Prepared once under `tfds_dir` (`tfds_io.read_records` gives the errors
    raised; `read_ett_csv` those of a malformed file). Raises ValueError for another config.
    """
    check_choice("ETT config", config, tuple(CONFIG_FILES))
    records = tfds_io.read_records(
        Ett, config, tfds_dir=tfds_dir, manual_dir=tfds_io.manual_dir_or_env(manual_dir, Ett.name)
    )
    return {
        split: {
            "row": np.array([r["row"] for r in rs], np.int64),
            "date": np.array([r["date"].decode("ascii") for r in rs], "datetime64[s]"),
            "values": np.stack([r["values"] for r in rs]).astype(np.float64),
        }
        for split, rs in records.items()
    }


def standardization(train_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of the training rows: (mean [channels], std [channels]).

    train_values: [rows, channels]. The population standard deviation (ddof = 0), as the
    StandardScaler of Informer's / DLinear's data loaders; standardized = (values - mean) / std.
    Raises ValueError if train_values is not 2-D with at least one row, or a channel is constant.
    """
    train_values = np.asarray(train_values, np.float64)
    if train_values.ndim != 2 or len(train_values) == 0:
        raise ValueError(f"train_values must be [rows, channels] with rows >= 1, got shape {train_values.shape}")
    mean, std = train_values.mean(axis=0), train_values.std(axis=0)
    if np.any(std == 0):
        raise ValueError(f"channel(s) {np.flatnonzero(std == 0).tolist()} are constant in the training rows: std = 0")
    return mean, std
