"""Connected spoken digits from FSDD (Free Spoken Digit Dataset, data/builders/fsdd.py): utterances, features
and batches of the speech task.

Utterances (compose_utterance): recordings of ONE speaker from ONE split (FSDD's take-index splits: test =
takes 0-4, validation = takes 5-9, train = takes 10-49) joined end to end with pauses of silence drawn
uniformly from [pause_min, pause_max] seconds between them; the transcript is the digit sequence. Which speaker,
digits, takes and pauses: a NumPy Generator seeded by (data.seed, split, number of digits, utterance), so a split
is the same for the same config. Training utterances have 1..max(train_lengths) digits (uniform over
train_lengths); the test split adds test_lengths (longer strings, Chorowski et al. 2015's length
generalization), `eval_utterances` of each length.

Features (log_mel_features): log-mel filterbanks (librosa.feature.melspectrogram: `mel_bands` bands over
0-4 kHz, 25 ms Hann windows, 10 ms hop, power spectrum, natural log of (mel + 1e-6)) plus their first and second
time derivatives (librosa.feature.delta, width 9): [frames, 3 * mel_bands] float32, then standardized per
dimension with the mean and standard deviation over every frame of the training utterances.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from typing import Any

import librosa
import ml_collections
import numpy as np

from attn_research.data.builders import fsdd

SAMPLE_RATE = fsdd.SAMPLE_RATE  # 8,000 Hz
SPLITS = ("train", "validation", "test")
SPLIT_IDS = {"train": 0, "validation": 1, "test": 2}

# The target vocabulary: pad, bos, eos, then the ten digits ("0" is id 3).
PAD_ID, BOS_ID, EOS_ID = 0, 1, 2
DIGIT_OFFSET = 3
VOCAB_SIZE = DIGIT_OFFSET + 10
TOKENS = ("<pad>", "<s>", "</s>", *fsdd.DIGITS)
LOG_FLOOR = 1e-6  # added to the mel power before the log
DELTA_WIDTH = 9  # frames of the delta regression window (librosa's default)


def default_data_config() -> ml_collections.ConfigDict:
    """config.data of the speech task (keys in the module docstring; times in seconds and milliseconds)."""
    return ml_collections.ConfigDict(
        {
            "name": "fsdd_connected",
            "seed": 0,  # the utterances' composition (not the training seed)
            "train_lengths": (1, 2, 3, 4),  # digits per training (and validation) utterance
            "test_lengths": (6, 8, 10, 12),  # longer strings, test split only (besides train_lengths)
            "train_utterances": 6000,
            "eval_utterances": 100,  # per number of digits, validation and test
            "pause_min": 0.05,  # s of silence between two digits
            "pause_max": 0.3,
            "mel_bands": 40,
            "window_ms": 25.0,
            "hop_ms": 10.0,
            "frame_multiple": 64,  # training batches padded to a multiple of this many frames (fewer shapes)
            "manual_dir": "",  # '' = $ATTN_RESEARCH_DATA_DIR/fsdd (else the public archive)
            "tfds_dir": "",
        }
    )


def check_data_config(data: Any) -> None:
    """One-line ValueErrors for bad lengths, counts, pauses or feature sizes."""
    for key in ("train_lengths", "test_lengths"):
        lengths = tuple(data[key])
        if key == "train_lengths" and not lengths:
            raise ValueError("data.train_lengths must list at least one number of digits")
        if any(int(n) < 1 for n in lengths):
            raise ValueError(f"data.{key} must be numbers of digits >= 1, got {lengths}")
    for key in ("train_utterances", "eval_utterances", "mel_bands", "frame_multiple"):
        if int(data[key]) < 1:
            raise ValueError(f"data.{key} must be >= 1, got {data[key]}")
    if not 0.0 <= float(data.pause_min) <= float(data.pause_max):
        raise ValueError(
            f"data.pause_min and pause_max must satisfy 0 <= min <= max, got {data.pause_min}, {data.pause_max}"
        )
    if not 0.0 < float(data.hop_ms) <= float(data.window_ms):
        raise ValueError(f"data.hop_ms must be in (0, window_ms], got {data.hop_ms} and {data.window_ms}")


# ---------------------------------------------------------------------------------------------- utterances
@dataclasses.dataclass(frozen=True)
class Utterance:
    """One connected-digit utterance: audio int16 [samples] at 8 kHz; digits (the transcript, ints 0-9);
    speaker (index into fsdd.SPEAKERS); takes (the FSDD take index of each digit's recording); pauses
    (the seconds of silence after each digit but the last, len(digits) - 1)."""

    audio: np.ndarray
    digits: tuple[int, ...]
    speaker: int
    takes: tuple[int, ...]
    pauses: tuple[float, ...]


def recordings_by_speaker_digit(split: dict[str, Any], split_name: str = "") -> dict[tuple[int, int], list[int]]:
    """{(speaker, digit): [positions in the split's lists]} of an FSDD split (fsdd.load_fsdd's layout).
    Raises ValueError if the split is empty or a speaker lacks a digit."""
    if len(split["label"]) == 0:
        raise ValueError(f"FSDD split {split_name!r} holds no recordings: expected takes of every speaker and digit")
    table: dict[tuple[int, int], list[int]] = {}
    for position, (speaker, digit) in enumerate(zip(split["speaker"], split["label"])):
        table.setdefault((int(speaker), int(digit)), []).append(position)
    speakers = sorted({s for s, _ in table})
    missing = [(s, d) for s in speakers for d in range(10) if (s, d) not in table]
    if missing:
        speaker, digit = missing[0]
        raise ValueError(
            f"FSDD split {split_name!r}: speaker {fsdd.SPEAKERS[speaker]} has no recording of digit {digit} "
            f"(every speaker needs all ten digits)"
        )
    return table


def compose_utterance(
    split: dict[str, Any],
    table: dict[tuple[int, int], list[int]],
    num_digits: int,
    rng: np.random.Generator,
    pause_min: float,
    pause_max: float,
) -> Utterance:
    """One utterance of `num_digits` digits: a speaker uniform over the split's speakers, each digit uniform
    over 0-9, each recording uniform over that speaker's takes of that digit in the split, and pauses of
    zeros uniform in [pause_min, pause_max] seconds (rounded to whole samples) between consecutive digits.
    The audio is the recordings and pauses joined in order: len(audio) = sum of the recordings' lengths +
    sum of round(pause * 8000)."""
    speakers = sorted({s for s, _ in table})
    speaker = speakers[int(rng.integers(len(speakers)))]
    digits = tuple(int(d) for d in rng.integers(0, 10, size=num_digits))
    positions = [table[(speaker, d)][int(rng.integers(len(table[(speaker, d)])))] for d in digits]
    pauses = tuple(float(p) for p in rng.uniform(pause_min, pause_max, size=num_digits - 1))
    pieces = []
    for i, position in enumerate(positions):
        pieces.append(np.asarray(split["audio"][position], np.int16))
        if i < num_digits - 1:
            pieces.append(np.zeros(int(round(pauses[i] * SAMPLE_RATE)), np.int16))
    takes = tuple(int(split["index"][p]) for p in positions)
    return Utterance(np.concatenate(pieces), digits, speaker, takes, pauses)


def utterance_seed(seed: int, split_name: str, num_digits: int) -> list[int]:
    """The Generator seed of a split's utterances of one length: [seed, split id, num_digits]."""
    return [int(seed), SPLIT_IDS[split_name], int(num_digits)]


def compose_split(
    split: dict[str, Any], split_name: str, lengths: Sequence[int], counts: Sequence[int], data: Any
) -> list[Utterance]:
    """counts[i] utterances of lengths[i] digits each, in that order (deterministic by data.seed)."""
    table = recordings_by_speaker_digit(split, split_name)
    utterances = []
    for num_digits, count in zip(lengths, counts):
        rng = np.random.default_rng(utterance_seed(data.seed, split_name, num_digits))
        for _ in range(int(count)):
            utterances.append(
                compose_utterance(split, table, int(num_digits), rng, float(data.pause_min), float(data.pause_max))
            )
    return utterances


def split_plan(data: Any, split_name: str) -> tuple[list[int], list[int]]:
    """(lengths, counts) of a split: train spreads train_utterances evenly over train_lengths (the first
    lengths get the remainder); validation has eval_utterances of each train length; test also of each
    test length."""
    train_lengths = [int(n) for n in data.train_lengths]
    if split_name == "train":
        total, k = int(data.train_utterances), len(train_lengths)
        return train_lengths, [total // k + (1 if i < total % k else 0) for i in range(k)]
    lengths = list(train_lengths)
    if split_name == "test":
        lengths += [int(n) for n in data.test_lengths if int(n) not in lengths]
    return lengths, [int(data.eval_utterances)] * len(lengths)


# ------------------------------------------------------------------------------------------------ features
def frame_sizes(data: Any) -> tuple[int, int]:
    """(window, hop) in samples at 8 kHz: 25 ms -> 200, 10 ms -> 80."""
    return int(round(float(data.window_ms) * SAMPLE_RATE / 1000)), int(round(float(data.hop_ms) * SAMPLE_RATE / 1000))


def log_mel_features(audio: np.ndarray, mel_bands: int = 40, window: int = 200, hop: int = 80) -> np.ndarray:
    """Log-mel filterbanks with deltas and delta-deltas of int16 (or float) samples at 8 kHz.

    Frames: Hann windows of `window` samples every `hop` samples, not centred (frame f covers samples
    [f hop, f hop + window); frames = 1 + (samples - window) // hop, at least 1: a shorter signal is padded
    with zeros to one window). Power spectrum with n_fft = window; `mel_bands` Slaney mel filters over
    0-4 kHz (librosa's defaults); log(mel + 1e-6). Deltas: librosa.feature.delta (width 9, 'interp'
    edges; a signal of fewer than 9 frames is edge-padded first). Returns float32 [frames, 3 * mel_bands]:
    [log-mel, delta, delta-delta].
    """
    y = np.asarray(audio, np.float32)
    if y.dtype != np.float32 or np.issubdtype(np.asarray(audio).dtype, np.integer):
        y = y / 32768.0
    if len(y) < window:
        y = np.pad(y, (0, window - len(y)))
    mel = librosa.feature.melspectrogram(
        y=y, sr=SAMPLE_RATE, n_fft=window, hop_length=hop, win_length=window, window="hann", center=False,
        power=2.0, n_mels=mel_bands, fmin=0.0, fmax=SAMPLE_RATE / 2,
    )  # fmt: skip
    log_mel = np.log(mel + LOG_FLOOR)  # [mel_bands, frames]
    frames = log_mel.shape[1]
    padded = log_mel
    if frames < DELTA_WIDTH:  # librosa's delta needs at least `width` frames
        left = (DELTA_WIDTH - frames) // 2 + 1
        padded = np.pad(log_mel, ((0, 0), (left, DELTA_WIDTH)), mode="edge")
    delta = librosa.feature.delta(padded, width=DELTA_WIDTH, order=1)
    delta2 = librosa.feature.delta(padded, width=DELTA_WIDTH, order=2)
    if padded is not log_mel:
        delta, delta2 = delta[:, left : left + frames], delta2[:, left : left + frames]
    return np.concatenate([log_mel, delta, delta2], axis=0).T.astype(np.float32)


@dataclasses.dataclass
class SpeechSplit:
    """A split's utterances and their (normalized) features: features[i] float32 [frames_i, feature_dim];
    digits[i] the transcript; speaker[i]; num_digits int64 [n]."""

    utterances: list[Utterance]
    features: list[np.ndarray]

    @property
    def digits(self) -> list[tuple[int, ...]]:
        return [u.digits for u in self.utterances]

    @property
    def num_digits(self) -> np.ndarray:
        return np.array([len(u.digits) for u in self.utterances], np.int64)

    def __len__(self) -> int:
        return len(self.utterances)


@dataclasses.dataclass
class SpeechData:
    """The task's data: splits {"train", "validation", "test"}, the training features' mean and std
    [feature_dim] (already applied), the FSDD fingerprint fields for the results JSON."""

    splits: dict[str, SpeechSplit]
    mean: np.ndarray
    std: np.ndarray
    feature_dim: int
    fingerprint: str


def feature_statistics(features: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and standard deviation over every frame of `features` (float64 sums; std floored
    at 1e-5). Returns float32 [feature_dim] twice."""
    stacked = np.concatenate(features, axis=0).astype(np.float64)
    return stacked.mean(axis=0).astype(np.float32), np.maximum(stacked.std(axis=0), 1e-5).astype(np.float32)


def fingerprint(utterances: dict[str, list[Utterance]]) -> str:
    """sha256 (16 hex digits) of every split's transcripts, speakers, takes and audio lengths."""
    digest = hashlib.sha256()
    for name in SPLITS:
        for u in utterances.get(name, []):
            digest.update(repr((name, u.digits, u.speaker, u.takes, len(u.audio))).encode())
    return digest.hexdigest()[:16]


def build_speech_data(recordings: dict[str, dict[str, Any]], data: Any) -> SpeechData:
    """The composed, featurized and normalized splits from fsdd.load_fsdd's recordings."""
    check_data_config(data)
    window, hop = frame_sizes(data)
    utterances, features = {}, {}
    for name in SPLITS:
        if name not in recordings:
            raise ValueError(f"FSDD split {name!r} is missing: expected the splits {SPLITS}")
        lengths, counts = split_plan(data, name)
        utterances[name] = compose_split(recordings[name], name, lengths, counts, data)
        features[name] = [log_mel_features(u.audio, int(data.mel_bands), window, hop) for u in utterances[name]]
    mean, std = feature_statistics(features["train"])
    splits = {
        name: SpeechSplit(utterances[name], [((f - mean) / std).astype(np.float32) for f in features[name]])
        for name in SPLITS
    }
    return SpeechData(splits, mean, std, 3 * int(data.mel_bands), fingerprint(utterances))


def load_speech_data(data: Any) -> SpeechData:
    """FSDD through its TFDS builder (data.manual_dir, data.tfds_dir; '' = the defaults), then
    build_speech_data."""
    recordings = fsdd.load_fsdd(manual_dir=data.get("manual_dir") or None, tfds_dir=data.get("tfds_dir") or None)
    return build_speech_data(recordings, data)


# ------------------------------------------------------------------------------------------------- batches
def target_arrays(digits: Sequence[Sequence[int]], length: int) -> dict[str, np.ndarray]:
    """Teacher-forcing arrays for transcripts of at most length - 1 digits: target_input [n, length] int32
    (BOS, d_1, ..., d_N, pad...), target_output (d_1, ..., d_N, EOS, pad...), target_mask bool (N + 1 steps)."""
    n = len(digits)
    target_input = np.full((n, length), PAD_ID, np.int32)
    target_output = np.full((n, length), PAD_ID, np.int32)
    mask = np.zeros((n, length), bool)
    for row, ds in enumerate(digits):
        ids = [DIGIT_OFFSET + int(d) for d in ds]
        target_input[row, : len(ids) + 1] = [BOS_ID, *ids]
        target_output[row, : len(ids) + 1] = [*ids, EOS_ID]
        mask[row, : len(ids) + 1] = True
    return {"target_input": target_input, "target_output": target_output, "target_mask": mask}


def round_up(value: int, multiple: int) -> int:
    return -(-int(value) // int(multiple)) * int(multiple)


def make_batch(
    split: SpeechSplit, rows: Sequence[int], frames: int, target_len: int, batch_size: int | None = None
) -> dict[str, np.ndarray]:
    """The batch of the utterances at `rows`, right-padded to `frames` frames and `target_len` steps:
    features float32 [batch, frames, feature_dim] (zeros at padding), feature_mask bool [batch, frames],
    the target arrays (target_arrays) and index int64 [batch] (the utterance; -1 for the filler rows that
    complete a batch of `batch_size`, which repeat the first row with an all-False target_mask)."""
    rows = list(rows)
    fill = (batch_size or len(rows)) - len(rows)
    dim = split.features[rows[0]].shape[1]
    features = np.zeros((len(rows) + fill, frames, dim), np.float32)
    mask = np.zeros((len(rows) + fill, frames), bool)
    for i, row in enumerate(rows + [rows[0]] * fill):
        f = split.features[row]
        features[i, : len(f)], mask[i, : len(f)] = f, True
    batch = {"features": features, "feature_mask": mask}
    batch.update(target_arrays([split.digits[r] for r in rows + [rows[0]] * fill], target_len))
    batch["target_mask"][len(rows) :] = False
    batch["index"] = np.array(rows + [-1] * fill, np.int64)
    return batch


def train_batches(
    data: SpeechData, batch_size: int, seed: int, epoch: int, fixed_shape: bool, frame_multiple: int
) -> list[dict[str, np.ndarray]]:
    """The training batches of an epoch: the utterances shuffled by (seed, epoch), full batches only (the
    last partial one dropped). Frames padded to a multiple of frame_multiple (to the longest training
    utterance when fixed_shape); target steps to max digits + 1 of the split."""
    split = data.splits["train"]
    order = np.random.default_rng([int(seed), int(epoch)]).permutation(len(split))
    lengths = np.array([len(f) for f in split.features])
    target_len = int(split.num_digits.max()) + 1
    longest = round_up(lengths.max(), frame_multiple)
    batches = []
    for start in range(0, len(order) - batch_size + 1, batch_size):
        rows = order[start : start + batch_size].tolist()
        frames = longest if fixed_shape else round_up(lengths[rows].max(), frame_multiple)
        batches.append(make_batch(split, rows, frames, target_len))
    if not batches:
        raise ValueError(f"the training split has {len(split)} utterances, fewer than one batch of {batch_size}")
    return batches


def eval_batches(
    data: SpeechData, split_name: str, batch_size: int, frame_multiple: int
) -> list[dict[str, np.ndarray]]:
    """A split's utterances in order, batch_size per batch (the last completed with filler rows), each
    padded to a multiple of frame_multiple frames and to its longest transcript + 1 steps."""
    split = data.splits[split_name]
    if len(split) == 0:
        raise ValueError(f"speech split {split_name!r} holds no utterances")
    batches = []
    for start in range(0, len(split), batch_size):
        rows = list(range(start, min(start + batch_size, len(split))))
        frames = round_up(max(len(split.features[r]) for r in rows), frame_multiple)
        target_len = max(len(split.digits[r]) for r in rows) + 1
        batches.append(make_batch(split, rows, frames, target_len, batch_size))
    return batches
