"""TFDS builder for SCAN (Lake & Baroni, 2018): command -> action sequence.

Source: https://github.com/brendenlake/SCAN (BSD licence). Configs: simple, length, addprim_jump,
addprim_turn_left; splits: train, test (upstream has no validation split). Features: `source`
(command words) and `target` (action tokens), both Text; examples keep the file's line order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import tensorflow_datasets as tfds
from etils import epath

from attn_research.data.builders.manual import manual_dir_or_none

URL = "https://github.com/brendenlake/SCAN/archive/master.zip"
ARCHIVE_ROOT = "SCAN-master"

# config name -> folder inside the archive, file stem (tasks_{train,test}_{stem}.txt)
SPLIT_FILES = {
    "simple": ("simple_split", "simple"),
    "length": ("length_split", "length"),
    "addprim_jump": ("add_prim_split", "addprim_jump"),
    "addprim_turn_left": ("add_prim_split", "addprim_turn_left"),
}

_CITATION = """@inproceedings{lake2018generalization,
  title={Generalization without systematicity: On the compositional skills of
         sequence-to-sequence recurrent networks},
  author={Lake, Brenden and Baroni, Marco}, booktitle={ICML}, year={2018}}"""


def parse_scan_line(line: str, where: str) -> tuple[str, str]:
    """Splits `IN: <command words> OUT: <action tokens>` into (command, actions).

    Whitespace is normalised to single spaces. Raises ValueError starting with `where`
    (`path:lineno`) if the line is not of that form or either side is empty.
    """
    words = line.split()
    if len(words) < 4 or words[0] != "IN:" or words.count("OUT:") != 1:
        raise ValueError(f"{where}: expected 'IN: <command> OUT: <actions>', got {line.strip()!r}")
    out = words.index("OUT:")
    command, actions = words[1:out], words[out + 1 :]
    if not command or not actions:
        raise ValueError(f"{where}: empty command or action sequence in {line.strip()!r}")
    return " ".join(command), " ".join(actions)


def read_scan_file(path: str | epath.PathLike) -> Iterator[tuple[int, str, str]]:
    """Yields (line number from 1, command, actions) for each non-blank line of a SCAN file.

    Raises ValueError `path:lineno: ...` for a malformed line, FileNotFoundError if absent.
    """
    path = epath.Path(path)
    with path.open("r", encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if line.strip():
                yield (lineno, *parse_scan_line(line, f"{path}:{lineno}"))


class Scan(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """SCAN splits as released by Lake & Baroni (2018), read as text pairs."""

    name = "scan"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "attn_research builder: array_record, file order kept."}
    BUILDER_CONFIGS = [tfds.core.BuilderConfig(name=n, description=f"SCAN {n} split") for n in SPLIT_FILES]
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Optional. Put the contents of SCAN-master/ from " + URL + " in the manual directory "
        "(simple_split/tasks_train_simple.txt, length_split/..., add_prim_split/...)."
    )

    DOWNLOAD_URL = URL

    @classmethod
    def manual_files(cls, config: str, root: epath.PathLike) -> list[epath.Path]:
        """The files of the manual directory `root` that config `config` reads (train, then test)."""
        folder, stem = SPLIT_FILES[config]
        return [epath.Path(root) / folder / f"tasks_{split}_{stem}.txt" for split in ("train", "test")]

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict({"source": tfds.features.Text(), "target": tfds.features.Text()}),
            supervised_keys=("source", "target"),
            homepage="https://github.com/brendenlake/SCAN",
            citation=_CITATION,
            disable_shuffling=True,
        )

    def _split_generators(self, dl_manager):
        root = manual_dir_or_none(dl_manager)
        if root is None:
            root = epath.Path(dl_manager.download_and_extract(URL)) / ARCHIVE_ROOT
        train, test = self.manual_files(self.builder_config.name, root)
        return {"train": self._generate_examples(train), "test": self._generate_examples(test)}

    def _generate_examples(self, path: Path):
        for lineno, command, actions in read_scan_file(path):
            yield lineno, {"source": command, "target": actions}
