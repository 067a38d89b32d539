"""The ETT windows of the forecasting task, against an independent reading of the CSV with the csv module and
NumPy: split boundaries, standardization with the training statistics, window counts, batches, errors."""

from __future__ import annotations

import csv
import os

import numpy as np
import pytest

from attn_research.tasks.forecasting import data as windows
from tests.helpers import SHARED_DATA

ETT = SHARED_DATA / "ett"
needs_ett = pytest.mark.skipif(not (ETT / "ETTh1.csv").is_file(), reason="shared/data/ett is absent")
L, H = 336, 96


def read_csv(path) -> np.ndarray:
    """[rows, 7] float64: the value columns of an ETT file, header skipped."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))[1:]
    return np.array([[float(v) for v in row[1:]] for row in rows])


@pytest.fixture(scope="module")
def tfds_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("tfds"))


@pytest.fixture(scope="module")
def etth1(tfds_dir):
    config = {"name": "etth1", "lookback": L, "horizon": H, "manual_dir": str(ETT), "tfds_dir": tfds_dir}
    return windows.load_forecast_data(config)


@needs_ett
def test_standardization_uses_the_first_twelve_months_of_the_csv(etth1):
    raw = read_csv(ETT / "ETTh1.csv")
    train = raw[: 12 * 30 * 24]
    mean, std = train.mean(axis=0), np.sqrt(((train - train.mean(axis=0)) ** 2).mean(axis=0))
    np.testing.assert_allclose(etth1.mean, mean, rtol=1e-12)
    np.testing.assert_allclose(etth1.std, std, rtol=1e-12)
    assert etth1.series.shape == (20 * 30 * 24, 7)  # rows 14,400 onward belong to no split
    np.testing.assert_allclose(etth1.series, (raw[:14400] - mean) / std, rtol=1e-5, atol=1e-5)
    assert abs(float(etth1.series[:8640].mean())) < 1e-5 and abs(float(etth1.series[8640:].std() - 1)) > 1e-3


@needs_ett
def test_window_counts_per_split_are_the_protocols():
    """8,640 - L - H + 1 training windows; 2,880 - H + 1 in validation and test (the reference code's logs:
    train 8209, val 2785, test 2785 at L = 336, H = 96)."""
    starts = windows.split_starts(336, 96)
    assert {split: len(s) for split, s in starts.items()} == {"train": 8209, "validation": 2785, "test": 2785}
    starts = windows.split_starts(96, 720)
    assert {split: len(s) for split, s in starts.items()} == {"train": 7825, "validation": 2161, "test": 2161}


@needs_ett
def test_split_boundaries_targets_stay_in_their_split_lookbacks_reach_back(etth1):
    raw = read_csv(ETT / "ETTh1.csv")
    standardized = (raw - etth1.mean) / etth1.std
    for split, (first, stop) in {"train": (0, 8640), "validation": (8640, 11520), "test": (11520, 14400)}.items():
        lookback, target = etth1.windows(split, np.array([0, len(etth1.starts[split]) - 1]))
        # the first window's target starts the split (train: its look-back does); the last one's ends it
        if split == "train":
            np.testing.assert_allclose(lookback[0], standardized[:L], atol=1e-5)
        else:
            np.testing.assert_allclose(lookback[0], standardized[first - L : first], atol=1e-5)
            np.testing.assert_allclose(target[0], standardized[first : first + H], atol=1e-5)
        np.testing.assert_allclose(target[1], standardized[stop - H : stop], atol=1e-5)


@needs_ett
def test_repeat_on_the_test_windows_gives_the_published_repeat_mse(etth1):
    """The protocol end to end: the last value repeated, MSE / MAE over every test window, step and channel,
    is Zeng et al. (2023), Table 2's Repeat row for ETTh1 at H = 96: 1.295 / .713 (they drop one window)."""
    lookback, target = etth1.windows("test")
    error = np.repeat(lookback[:, -1:], H, axis=1) - target
    assert abs(float(np.mean(error**2)) - 1.295) < 0.002
    assert abs(float(np.mean(np.abs(error))) - 0.713) < 0.002


@needs_ett
def test_batches_fixed_shapes_every_window_once(etth1):
    batches = windows.eval_batches(etth1, "validation", 1000)
    assert [b["lookback"].shape for b in batches] == [(1000, L, 7)] * 3
    assert sum(float(b["weight"].sum()) for b in batches) == 2785 and batches[-1]["weight"][785] == 0
    first = windows.train_batches(etth1, 2048, seed=0, epoch=0)
    assert len(first) == 8209 // 2048 and all(b["target"].shape == (2048, H, 7) for b in first)
    again, other = windows.train_batches(etth1, 2048, 0, 0), windows.train_batches(etth1, 2048, 0, 1)
    np.testing.assert_array_equal(first[3]["target"], again[3]["target"])
    assert not np.array_equal(first[0]["target"], other[0]["target"])


def test_a_horizon_or_lookback_longer_than_a_split_allows_is_a_one_line_error():
    with pytest.raises(ValueError, match=r"^data.horizon \(2881\) exceeds the 2880 rows of the validation split$"):
        windows.split_starts(96, 2881)
    with pytest.raises(ValueError, match=r"data.lookback \(8600\) \+ data.horizon \(96\) = 8696 exceeds the 8640"):
        windows.split_starts(8600, 96)
    with pytest.raises(ValueError, match="data.lookback must be > 0"):
        windows.split_starts(0, 96)
    with pytest.raises(ValueError, match="etth3"):
        windows.load_forecast_data({"name": "etth3", "lookback": 96, "horizon": 96})


@needs_ett
@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda lines: [lines[0].replace(",OT", "")] + lines[1:], r"ETTh1.csv:1: expected the header"),
        (lambda lines: lines[:5] + [lines[5].replace(lines[5].split(",")[3], "n/a")] + lines[6:], r"ETTh1.csv:6: MUFL"),
    ],
    ids=["missing column", "non-numeric value"],
)
def test_a_malformed_csv_names_the_file_and_line(tmp_path, edit, message):
    with open(ETT / "ETTh1.csv") as f:
        lines = f.read().splitlines()
    folder = tmp_path / "ett"
    os.makedirs(folder)
    (folder / "ETTh1.csv").write_text("\n".join(edit(lines)) + "\n")
    config = {"name": "etth1", "lookback": 96, "horizon": 96, "manual_dir": str(folder), "tfds_dir": str(tmp_path)}
    with pytest.raises(ValueError, match=message) as error:
        windows.load_forecast_data(config)
    assert "\n" not in str(error.value)
