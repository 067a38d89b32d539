"""TFDS builder for the Free Spoken Digit Dataset (FSDD, Jackson et al.): one spoken digit per recording.

Source: https://github.com/Jakobovski/free-spoken-digit-dataset (licence CC BY-SA 4.0), folder
`recordings/`: 3,000 WAV files `{digit}_{speaker}_{index}.wav`, mono, 8 kHz, 16-bit, trimmed of
silence; 6 speakers (SPEAKERS) x 10 digits x 50 takes (index 0-49).
Splits by take index (SPLIT_INDICES): test = takes 0-4 of every speaker and digit (the upstream
convention, 300), validation = takes 5-9 (300, carved from upstream's training part), train = takes
10-49 (2,400). Features: `audio` int16 [samples] (8,000 samples per second), `label` ClassLabel
"0"-"9" (the digit), `speaker` ClassLabel (SPEAKERS), `index` int32 (the take). Examples are ordered
by (digit, speaker, index). No configs. `audio` is a raw int16 Tensor, not `tfds.features.Audio`,
which needs TensorFlow even to be declared.
"""

from __future__ import annotations

import os
import struct
import warnings

import numpy as np
import tensorflow_datasets as tfds
from etils import epath

from attn_research.data import tfds_io
from attn_research.data.builders.manual import manual_dir_or_none

URL = "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/master.zip"
FILE_URL = "https://github.com/Jakobovski/free-spoken-digit-dataset/raw/master/recordings/{digit}_{speaker}_{index}.wav"
SAMPLE_RATE = 8000  # Hz
SPEAKERS = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")
DIGITS = tuple(str(d) for d in range(10))
TAKES = 50
SPLIT_INDICES = {"train": range(10, TAKES), "validation": range(5, 10), "test": range(0, 5)}

_CITATION = """@misc{jackson2018fsdd,
  title={Jakobovski/free-spoken-digit-dataset: v1.0.8}, author={Jackson, Zohar and Souza, C{\\'e}sar and
  Flaks, Jason and Pan, Yuxin and Nicolas, Hereman and Thite, Adhish}, publisher={Zenodo},
  doi={10.5281/zenodo.1342401}, year={2018}}"""


def recording_name(digit: int, speaker: str, index: int) -> str:
    """The upstream file name of take `index` of `digit` by `speaker`: `{digit}_{speaker}_{index}.wav`."""
    return f"{digit}_{speaker}_{index}.wav"


def read_wav(path: epath.PathLike) -> np.ndarray:
    """The samples of a mono 8 kHz 16-bit WAV file: int16 [samples] (scipy.io.wavfile).

    Raises ValueError naming the file if it is not a complete WAV file (truncated data is an error,
    not scipy's warning), or its sample rate, channel count or sample type differ from 8,000 Hz, 1, int16.
    """
    from scipy.io import wavfile  # imported when a recording is first read (about 1 s of a process start)

    path = epath.Path(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", wavfile.WavFileWarning)
        try:
            with path.open("rb") as f:
                rate, samples = wavfile.read(f)
        except (ValueError, EOFError, struct.error, wavfile.WavFileWarning) as error:
            raise ValueError(f"{path}: not a complete WAV file ({error})") from None
    if rate != SAMPLE_RATE or samples.ndim != 1 or samples.dtype != np.int16:
        channels = 1 if samples.ndim == 1 else samples.shape[1]
        raise ValueError(
            f"{path}: expected mono {SAMPLE_RATE} Hz int16 samples, got {channels} channel(s) at {rate} Hz, {samples.dtype}"
        )
    return samples


class Fsdd(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """FSDD recordings with their digit, speaker and take index."""

    name = "fsdd"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "attn_research builder: array_record, ordered by (digit, speaker, index)."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Optional. Put the folder recordings/ (3,000 WAV files {digit}_{speaker}_{index}.wav) of " + URL + " in "
        "the manual directory."
    )

    DOWNLOAD_URL = URL

    @classmethod
    def manual_files(cls, config: str | None, root: epath.PathLike) -> list[epath.Path]:
        """The 3,000 WAV files under `root/recordings/`, by (digit, speaker, index)."""
        del config  # no configs
        folder = epath.Path(root) / "recordings"
        return [folder / recording_name(d, s, i) for d in range(len(DIGITS)) for s in SPEAKERS for i in range(TAKES)]

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(
                {
                    "audio": tfds.features.Tensor(shape=(None,), dtype=np.int16),
                    "label": tfds.features.ClassLabel(names=DIGITS),
                    "speaker": tfds.features.ClassLabel(names=SPEAKERS),
                    "index": tfds.features.Scalar(dtype=np.int32),
                }
            ),
            supervised_keys=("audio", "label"),
            homepage="https://github.com/Jakobovski/free-spoken-digit-dataset",
            citation=_CITATION,
            disable_shuffling=True,
        )

    def _split_generators(self, dl_manager):
        root = manual_dir_or_none(dl_manager)
        if root is None:
            extracted = epath.Path(dl_manager.download_and_extract(URL))
            # The archive's top folder is named after the branch or commit: find it by its recordings/.
            found = sorted(p.parent for p in extracted.glob("*/recordings"))
            if not found:
                raise FileNotFoundError(f"{URL} extracted to {extracted} holds no */recordings folder.")
            root = found[0]
        return {split: self._generate_examples(root, indices) for split, indices in SPLIT_INDICES.items()}

    def _generate_examples(self, root, indices: range):
        for digit in range(len(DIGITS)):
            for speaker in SPEAKERS:
                for index in indices:
                    name = recording_name(digit, speaker, index)
                    audio = read_wav(epath.Path(root) / "recordings" / name)
                    yield name, {"audio": audio, "label": digit, "speaker": speaker, "index": index}


def load_fsdd(
    *, manual_dir: str | os.PathLike | None = None, tfds_dir: str | os.PathLike | None = None
) -> dict[str, dict[str, np.ndarray | list[np.ndarray]]]:
    """FSDD as numpy: {"train" | "validation" | "test": {"audio": [int16 [samples]] (one array per
    recording, 8,000 samples per second), "label": int64 [recordings] (the digit), "speaker": int64
    [recordings] (index into SPEAKERS), "index": int64 [recordings] (the take)}}.

    manual_dir: a folder holding recordings/; None: `$ATTN_RESEARCH_DATA_DIR/fsdd` if that variable is
    set, else the public archive. Prepared once under `tfds_dir` (`tfds_io.read_records` gives the
    errors raised; `read_wav` those of a bad file).
    """
    records = tfds_io.read_records(
        Fsdd, None, tfds_dir=tfds_dir, manual_dir=tfds_io.manual_dir_or_env(manual_dir, Fsdd.name)
    )
    return {
        split: {
            "audio": [np.asarray(r["audio"], np.int16) for r in rs],
            "label": np.array([r["label"] for r in rs], np.int64),
            "speaker": np.array([r["speaker"] for r in rs], np.int64),
            "index": np.array([r["index"] for r in rs], np.int64),
        }
        for split, rs in records.items()
    }
