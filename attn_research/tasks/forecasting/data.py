"""ETT windows for long-term forecasting: the protocol of Informer / Autoformer / DLinear / PatchTST.

The series is ETTh1 or ETTh2 (data/builders/ett.py): the 12/4/4-month rows (train 0-8,639, validation
8,640-11,519, test 11,520-14,399), all 7 channels, standardized per channel with the training rows' mean and
standard deviation (ddof 0, ett.standardization). A window starting at row s has the look-back
x = series[s : s + L] [L, channels] and the forecast target y = series[s + L : s + L + H] [H, channels].
A split's windows are those whose target rows lie in the split; a look-back may reach back into the previous
split (Zhou et al. 2021's Dataset_ETT_hour: border1 = split start - L), so

    train:       s = 0 .. 8,640 - L - H            (8,640 - L - H + 1 windows)
    validation:  s = 8,640 - L .. 11,520 - L - H   (2,880 - H + 1 windows)
    test:        s = 11,520 - L .. 14,400 - L - H  (2,880 - H + 1 windows)

Every window counts in evaluation (the reference code's test loader drops the last incomplete batch of 32:
at H = 96 it scores 2,784 of the 2,785 test windows).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from attn_research.data.builders import ett
from attn_research.validation import check_choice, check_positive

SPLITS = ("train", "validation", "test")
DATASETS = {"etth1": "etth1", "etth2": "etth2"}  # data.name -> the ETT builder config


@dataclasses.dataclass(frozen=True)
class ForecastData:
    """One data set cut into windows.

    series:  float32 [rows, channels], standardized (rows 0-14,399 of the CSV, the three splits in order).
    starts:  split -> int64 [windows], the first look-back row of each window, ascending.
    mean, std: float64 [channels], the training rows' statistics (raw = standardized * std + mean).
    lookback, horizon: L and H. channels: the channel names (ett.CHANNELS). name: data.name.
    """

    series: np.ndarray
    starts: Mapping[str, np.ndarray]
    mean: np.ndarray
    std: np.ndarray
    lookback: int
    horizon: int
    channels: tuple[str, ...]
    name: str

    def windows(self, split: str, index: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(look-back [n, L, channels], target [n, H, channels]) float32 of the split's windows `index`
        (positions in starts[split]; None: all of them)."""
        starts = self.starts[split] if index is None else self.starts[split][index]
        rows = starts[:, None] + np.arange(self.lookback + self.horizon)[None, :]
        both = self.series[rows]
        return both[:, : self.lookback], both[:, self.lookback :]


def split_starts(lookback: int, horizon: int) -> dict[str, np.ndarray]:
    """split -> the window starts of the module docstring, for look-back L and horizon H.

    Raises ValueError (one line, naming data.lookback or data.horizon) if L or H < 1, if L + H exceeds the
    8,640 training rows, or if H exceeds the 2,880 rows of an evaluation split."""
    check_positive("data.lookback", lookback)
    check_positive("data.horizon", horizon)
    train_rows = ett.SPLIT_ROWS["train"][1]
    if lookback + horizon > train_rows:
        raise ValueError(
            f"data.lookback ({lookback}) + data.horizon ({horizon}) = {lookback + horizon} exceeds the "
            f"{train_rows} training rows: no training window fits"
        )
    starts = {}
    for split in SPLITS:
        first, stop = ett.SPLIT_ROWS[split]
        if horizon > stop - first:
            raise ValueError(f"data.horizon ({horizon}) exceeds the {stop - first} rows of the {split} split")
        begin = 0 if split == "train" else first - lookback
        starts[split] = np.arange(begin, stop - lookback - horizon + 1, dtype=np.int64)
    return starts


def standardize(values: np.ndarray, train_rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(standardized float32 [rows, channels], mean, std): (values - mean) / std with the statistics of
    values[:train_rows] (ett.standardization: per channel, ddof 0)."""
    mean, std = ett.standardization(values[:train_rows])
    return ((values - mean) / std).astype(np.float32), mean, std


def load_forecast_data(data_config: Mapping[str, Any]) -> ForecastData:
    """The windows of data_config (keys: name 'etth1' | 'etth2', lookback, horizon, manual_dir, tfds_dir; ''
    = the loader's default: $ATTN_RESEARCH_DATA_DIR/ett, ~/.cache/attn_research/tfds).

    Raises ValueError for an unknown name (listing them), or as split_starts for L and H (before any file is
    read); ett.load_ett's errors for a missing or malformed CSV (naming the file, line and column)."""
    name = check_choice("forecasting data set (data.name)", data_config["name"], DATASETS)
    lookback, horizon = int(data_config["lookback"]), int(data_config["horizon"])
    starts = split_starts(lookback, horizon)
    splits = ett.load_ett(
        DATASETS[name],
        manual_dir=data_config.get("manual_dir") or None,
        tfds_dir=data_config.get("tfds_dir") or None,
    )
    values = np.concatenate([splits[split]["values"] for split in SPLITS])
    rows = np.concatenate([splits[split]["row"] for split in SPLITS])
    if not np.array_equal(rows, np.arange(len(rows))):
        raise ValueError(f"{name}: the prepared splits are not contiguous rows 0..{len(rows) - 1}")
    series, mean, std = standardize(values, ett.SPLIT_ROWS["train"][1])
    return ForecastData(series, starts, mean, std, lookback, horizon, ett.CHANNELS, name)


def train_batches(data: ForecastData, batch_size: int, seed: int, epoch: int) -> list[dict[str, np.ndarray]]:
    """The training windows of `epoch` in an order drawn from (seed, epoch), in full batches (the last
    incomplete one dropped, as the reference code's training loader does): [{"lookback" [batch, L, channels],
    "target" [batch, H, channels], "weight" [batch] ones} float32]. Raises ValueError if batch_size < 1 or
    exceeds the training windows."""
    check_positive("train.batch_size", batch_size)
    count = len(data.starts["train"])
    if batch_size > count:
        raise ValueError(f"train.batch_size ({batch_size}) exceeds the {count} training windows")
    order = np.random.default_rng([seed, epoch]).permutation(count)
    batches = []
    for first in range(0, count - batch_size + 1, batch_size):
        lookback, target = data.windows("train", order[first : first + batch_size])
        batches.append({"lookback": lookback, "target": target, "weight": np.ones(batch_size, np.float32)})
    return batches


def eval_batches(data: ForecastData, split: str, batch_size: int) -> list[dict[str, np.ndarray]]:
    """Every window of `split` in order, in batches of batch_size (one shape: the last batch is padded with
    copies of its first window, weight 0): [{"lookback", "target", "weight" [batch] (1 = a window of the
    split, 0 = padding)}]. Raises ValueError for an unknown split or batch_size < 1."""
    check_choice("split", split, SPLITS)
    check_positive("eval.batch_size", batch_size)
    count = len(data.starts[split])
    batches = []
    for first in range(0, count, batch_size):
        index = np.arange(first, min(first + batch_size, count))
        weight = np.ones(batch_size, np.float32)
        weight[len(index) :] = 0.0
        index = np.concatenate([index, np.full(batch_size - len(index), index[0])])
        lookback, target = data.windows(split, index)
        batches.append({"lookback": lookback, "target": target, "weight": weight})
    return batches
