"""TFDS builder for SICK (Marelli et al., 2014), SemEval-2014 task 1: sentence pairs with entailment labels.

Source: the original `SICK.txt` (COMPOSES project; kept in github.com/kkalouli/SICK-processing), licence
CC BY-NC-SA 3.0. One tab-separated file, header row, CRLF line endings (the last line has none); the
last column (SemEval_set) gives the split: train = TRAIN (4,439), validation = TRIAL (495),
test = TEST (4,906). Features: `pair_id` int32, `premise` (sentence_A) and `hypothesis` (sentence_B)
Text, `label` ClassLabel (LABELS, lowercased from ENTAILMENT | NEUTRAL | CONTRADICTION),
`relatedness` float32 (1-5). Examples keep the file's order. No configs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import tensorflow_datasets as tfds
from etils import epath

from attn_research.data import tfds_io
from attn_research.data.builders.manual import manual_dir_or_none

URL = "https://raw.githubusercontent.com/kkalouli/SICK-processing/0848f4aec60870122a4ca18de08ba0e25f6f9a75/SICK.txt"
FILE_NAME = "SICK.txt"
LABELS = ("entailment", "neutral", "contradiction")
SPLIT_SETS = {"train": "TRAIN", "validation": "TRIAL", "test": "TEST"}  # split -> SemEval_set
COLUMNS = (  # the header row, in order
    "pair_ID",
    "sentence_A",
    "sentence_B",
    "entailment_label",
    "relatedness_score",
    "entailment_AB",
    "entailment_BA",
    "sentence_A_original",
    "sentence_B_original",
    "sentence_A_dataset",
    "sentence_B_dataset",
    "SemEval_set",
)

_CITATION = """@inproceedings{marelli2014sick,
  title={A SICK cure for the evaluation of compositional distributional semantic models},
  author={Marelli, Marco and Menini, Stefano and Baroni, Marco and Bentivogli, Luisa and Bernardi, Raffaella
          and Zamparelli, Roberto}, booktitle={LREC}, year={2014}}"""


def read_sick(path: epath.PathLike) -> Iterator[tuple[str, dict]]:
    """Yields (SemEval_set, record) for each pair of SICK.txt, in file order.

    record: {"pair_id": int, "premise": str, "hypothesis": str, "label": one of LABELS,
    "relatedness": float}. Lines end in LF or CRLF (the '\\r' is dropped). Raises ValueError
    `path:lineno: ...` for a header other than COLUMNS, a line without 12 tab-separated columns, an
    unknown label or set, or a non-numeric pair_ID or relatedness_score.
    """
    path = epath.Path(path)
    lines = path.read_bytes().decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for lineno, line in enumerate(lines, start=1):
        fields = line.removesuffix("\r").split("\t")
        where = f"{path}:{lineno}"
        if lineno == 1:
            if tuple(fields) != COLUMNS:
                raise ValueError(f"{where}: expected the header {' '.join(COLUMNS)!r}, got {line.strip()!r}")
            continue
        if len(fields) != len(COLUMNS):
            raise ValueError(f"{where}: expected {len(COLUMNS)} tab-separated columns, got {len(fields)}")
        row = dict(zip(COLUMNS, fields))
        label = row["entailment_label"].lower()
        if label not in LABELS:
            raise ValueError(f"{where}: unknown entailment_label {row['entailment_label']!r}, expected one of {LABELS}")
        if row["SemEval_set"] not in SPLIT_SETS.values():
            raise ValueError(
                f"{where}: unknown SemEval_set {row['SemEval_set']!r}, expected one of {tuple(SPLIT_SETS.values())}"
            )
        try:
            pair_id, relatedness = int(row["pair_ID"]), float(row["relatedness_score"])
        except ValueError:
            raise ValueError(
                f"{where}: pair_ID {row['pair_ID']!r} or relatedness_score {row['relatedness_score']!r} is not a number"
            ) from None
        record = {
            "pair_id": pair_id,
            "premise": row["sentence_A"],
            "hypothesis": row["sentence_B"],
            "label": label,
            "relatedness": relatedness,
        }
        yield row["SemEval_set"], record


class Sick(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """SICK sentence pairs (premise, hypothesis) with entailment labels and relatedness scores."""

    name = "sick"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "attn_research builder: array_record, file order kept."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Optional. Put SICK.txt (from SICK.zip, marcobaroni.org/composes/sick.html, or " + URL + ") in the "
        "manual directory."
    )

    DOWNLOAD_URL = URL

    @classmethod
    def manual_files(cls, config: str | None, root: epath.PathLike) -> list[epath.Path]:
        """[root/SICK.txt]."""
        del config  # no configs
        return [epath.Path(root) / FILE_NAME]

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(
                {
                    "pair_id": tfds.features.Scalar(dtype=np.int32),
                    "premise": tfds.features.Text(),
                    "hypothesis": tfds.features.Text(),
                    "label": tfds.features.ClassLabel(names=LABELS),
                    "relatedness": tfds.features.Scalar(dtype=np.float32),
                }
            ),
            homepage="https://marcobaroni.org/composes/sick.html",
            citation=_CITATION,
            disable_shuffling=True,
        )

    def _split_generators(self, dl_manager):
        root = manual_dir_or_none(dl_manager)
        path = root / FILE_NAME if root is not None else epath.Path(dl_manager.download(URL))
        return {split: self._generate_examples(path, semeval_set) for split, semeval_set in SPLIT_SETS.items()}

    def _generate_examples(self, path, semeval_set: str):
        count = 0
        for pair_set, record in read_sick(path):
            if pair_set == semeval_set:
                count += 1
                yield record["pair_id"], record
        if count == 0:  # TFDS would fail later with a long AssertionError
            split = next(s for s, v in SPLIT_SETS.items() if v == semeval_set)
            raise ValueError(f"{path} has no {semeval_set} pairs (the {split} split).")


def load_sick(
    *, manual_dir: str | os.PathLike | None = None, tfds_dir: str | os.PathLike | None = None
) -> dict[str, dict[str, np.ndarray | list[str]]]:
    """SICK as numpy and strings: {"train" | "validation" | "test": {"pair_id": int64 [pairs],
    "premise": [str], "hypothesis": [str], "label": int64 [pairs] (index into LABELS),
    "relatedness": float32 [pairs]}}, in file order.

    manual_dir: a folder with SICK.txt; None: `$ATTN_RESEARCH_DATA_DIR/sick` if that variable is set,
    else the public URL. Prepared once under `tfds_dir` (`tfds_io.read_records` gives the errors
    raised; `read_sick` those of a malformed file).
    """
    records = tfds_io.read_records(
        Sick, None, tfds_dir=tfds_dir, manual_dir=tfds_io.manual_dir_or_env(manual_dir, Sick.name)
    )
    return {
        split: {
            "pair_id": np.array([r["pair_id"] for r in rs], np.int64),
            "premise": [r["premise"].decode("utf-8") for r in rs],
            "hypothesis": [r["hypothesis"].decode("utf-8") for r in rs],
            "label": np.array([r["label"] for r in rs], np.int64),
            "relatedness": np.array([r["relatedness"] for r in rs], np.float32),
        }
        for split, rs in records.items()
    }
