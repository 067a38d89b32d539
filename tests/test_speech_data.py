"""The speech task's data: log-mel + delta features against a NumPy reference on a synthesized tone, connected-digit
utterances (deterministic by seed, transcript, duration, one speaker and split), batches, and the one-line error of
an empty split or a missing digit. (A recording of another rate, channel count or a truncated one: the builder's
one-line errors, tests/test_data_domains.py::test_fsdd_rejects_another_rate_stereo_and_truncated_files.)"""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from attn_research.data.builders import fsdd
from attn_research.tasks.speech import data as speech_data

RATE = speech_data.SAMPLE_RATE


def tone(frequency: float, seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.5 * 32767 * np.sin(2 * np.pi * frequency * t)).astype(np.int16)


def numpy_log_mel(samples: np.ndarray, bands: int, window: int, hop: int) -> np.ndarray:
    """Frames, periodic Hann window, |rfft|^2 with n_fft = window, librosa's mel matrix, log(mel + 1e-6)."""
    y = samples.astype(np.float64) / 32768.0
    frames = 1 + (len(y) - window) // hop
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(window) / window)  # periodic (fftbins=True)
    spectra = np.stack([np.abs(np.fft.rfft(y[f * hop : f * hop + window] * hann)) ** 2 for f in range(frames)])
    mel = librosa.filters.mel(sr=RATE, n_fft=window, n_mels=bands, fmin=0.0, fmax=RATE / 2)
    return np.log(spectra @ mel.T + speech_data.LOG_FLOOR)  # [frames, bands]


def test_log_mel_features_match_a_numpy_reference_on_a_tone():
    samples = tone(1000.0, 0.5)
    features = speech_data.log_mel_features(samples, mel_bands=40, window=200, hop=80)
    reference = numpy_log_mel(samples, 40, 200, 80)
    assert features.shape == (1 + (4000 - 200) // 80, 120) and features.dtype == np.float32
    np.testing.assert_allclose(features[:, :40], reference, atol=2e-3)
    # The tone's energy lies in the band whose centre is nearest 1 kHz, in every frame.
    centres = librosa.mel_frequencies(n_mels=42, fmin=0.0, fmax=RATE / 2)[1:-1]
    assert set(np.argmax(features[:, :40], axis=1)) == {int(np.argmin(np.abs(centres - 1000.0)))}


def test_deltas_are_the_regression_slope_of_the_log_mel_frames():
    rng = np.random.default_rng(0)
    samples = (rng.normal(size=RATE) * 3000).astype(np.int16)
    features = speech_data.log_mel_features(samples, mel_bands=8, window=200, hop=80)
    c, delta, delta2 = features[:, :8], features[:, 8:16], features[:, 16:]
    n = np.arange(1, 5)
    for t in range(4, len(c) - 4):  # interior frames: sum_n n (c_{t+n} - c_{t-n}) / (2 sum n^2)
        slope = (n[:, None] * (c[t + n] - c[t - n])).sum(0) / (2 * (n**2).sum())
        np.testing.assert_allclose(delta[t], slope, atol=1e-4)
    assert np.all(np.isfinite(delta2)) and np.std(delta2) > 0


def test_a_signal_shorter_than_a_window_gives_one_frame():
    features = speech_data.log_mel_features(tone(500.0, 0.01), mel_bands=40, window=200, hop=80)
    assert features.shape == (1, 120) and np.all(np.isfinite(features))


def fake_recordings(takes=range(10, 14), speakers=(0, 1, 2)):
    """An FSDD split in load_fsdd's layout: recording (digit, speaker, take) is a constant of 1000 d + 100 s
    + take samples long 2000 + 10 d + take."""
    audio, label, speaker, index = [], [], [], []
    for d in range(10):
        for s in speakers:
            for take in takes:
                audio.append(np.full(2000 + 10 * d + take, 1000 * d + 100 * s + take, np.int16))
                label.append(d), speaker.append(s), index.append(take)
    return {"audio": audio, "label": np.array(label), "speaker": np.array(speaker), "index": np.array(index)}


def test_utterances_are_deterministic_by_seed_with_their_transcript_and_duration():
    split = fake_recordings()
    data = speech_data.default_data_config()
    first = speech_data.compose_split(split, "train", [3, 5], [20, 20], data)
    again = speech_data.compose_split(split, "train", [3, 5], [20, 20], data)
    data.seed = 1
    other = speech_data.compose_split(split, "train", [3, 5], [20, 20], data)
    assert [u.digits for u in first] == [u.digits for u in again]
    assert all(np.array_equal(a.audio, b.audio) for a, b in zip(first, again))
    assert [u.digits for u in first] != [u.digits for u in other]
    for u in first:
        assert len(u.digits) in (3, 5) and len(u.pauses) == len(u.digits) - 1
        assert all(data.pause_min <= p <= data.pause_max for p in u.pauses)
        lengths = [2000 + 10 * d + take for d, take in zip(u.digits, u.takes)]
        assert len(u.audio) == sum(lengths) + sum(int(round(p * RATE)) for p in u.pauses)
        # The pieces in order: each recording's constant (its digit, this speaker, its take), then silence.
        position = 0
        for i, (d, take) in enumerate(zip(u.digits, u.takes)):
            piece = u.audio[position : position + lengths[i]]
            assert np.all(piece == 1000 * d + 100 * u.speaker + take)
            position += lengths[i]
            if i < len(u.digits) - 1:
                silence = int(round(u.pauses[i] * RATE))
                assert np.all(u.audio[position : position + silence] == 0)
                position += silence
        assert set(u.takes) <= set(range(10, 14))


def test_split_plans_and_batches():
    data = speech_data.default_data_config()
    data.train_utterances = 10
    assert speech_data.split_plan(data, "train") == ([1, 2, 3, 4], [3, 3, 2, 2])
    assert speech_data.split_plan(data, "validation") == ([1, 2, 3, 4], [100] * 4)
    assert speech_data.split_plan(data, "test")[0] == [1, 2, 3, 4, 6, 8, 10, 12]
    arrays = speech_data.target_arrays([(7,), (0, 4, 2)], 5)
    np.testing.assert_array_equal(arrays["target_input"], [[1, 10, 0, 0, 0], [1, 3, 7, 5, 0]])
    np.testing.assert_array_equal(arrays["target_output"], [[10, 2, 0, 0, 0], [3, 7, 5, 2, 0]])
    assert arrays["target_mask"].sum(1).tolist() == [2, 4]


def test_the_real_splits_are_the_takes_of_fsdd():
    assert list(fsdd.SPLIT_INDICES["test"]) == [0, 1, 2, 3, 4]
    assert list(fsdd.SPLIT_INDICES["validation"]) == [5, 6, 7, 8, 9]
    assert list(fsdd.SPLIT_INDICES["train"]) == list(range(10, 50))


def test_an_empty_split_or_a_missing_digit_is_a_one_line_error():
    empty = {"audio": [], "label": np.array([]), "speaker": np.array([]), "index": np.array([])}
    with pytest.raises(ValueError, match="FSDD split 'validation' holds no recordings"):
        speech_data.recordings_by_speaker_digit(empty, "validation")
    split = fake_recordings()
    keep = [i for i, (d, s) in enumerate(zip(split["label"], split["speaker"])) if not (d == 7 and s == 1)]
    partial = {key: [split[key][i] for i in keep] for key in split}
    with pytest.raises(ValueError, match="speaker jackson has no recording of digit 7"):
        speech_data.recordings_by_speaker_digit(partial, "train")
