"""TFDS builder for Multi30k task 1 (Elliott et al., 2016): raw parallel sentences.

Source: https://github.com/multi30k/dataset, data/task1/raw. One config per ordered language
pair among en, de, fr, cs (`de_en` = German source, English target). Splits: train (29,000),
validation (`val`, 1,014), test (`test_2016_flickr`, 1,000). Features `source`, `target`: raw,
cased, untokenized Text; examples keep the file's line order.
"""

from __future__ import annotations

import gzip
import itertools
from collections.abc import Iterator

import tensorflow_datasets as tfds
from etils import epath

from attn_research.data.builders.manual import manual_dir_or_none

URL_PATTERN = "https://github.com/multi30k/dataset/raw/master/data/task1/raw/{split}.{lang}.gz"
LANGUAGES = ("en", "de", "fr", "cs")
# TFDS split name -> upstream file stem.
SPLIT_STEMS = {"train": "train", "validation": "val", "test": "test_2016_flickr"}

_CITATION = """@inproceedings{elliott2016multi30k,
  title={Multi30K: Multilingual English-German Image Descriptions},
  author={Elliott, Desmond and Frank, Stella and Sima'an, Khalil and Specia, Lucia},
  booktitle={Proceedings of the 5th Workshop on Vision and Language}, year={2016}}"""


def read_lines(path: epath.PathLike) -> list[str]:
    """Lines of a UTF-8 text file, gzip-compressed or not (sniffed), without `\n` / `\r\n`."""
    path = epath.Path(path)
    with path.open("rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    # split("\n"), not splitlines(): the latter also breaks at \x85, \u2028, ... inside a sentence.
    lines = data.decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def read_parallel(source_path: epath.PathLike, target_path: epath.PathLike) -> Iterator[tuple[int, str, str]]:
    """Yields (line index from 0, source line, target line) of two aligned files.

    Raises ValueError naming both files if their line counts differ.
    """
    source, target = read_lines(source_path), read_lines(target_path)
    if len(source) != len(target):
        raise ValueError(
            f"Parallel files have different line counts: {source_path} has {len(source)} lines, "
            f"{target_path} has {len(target)}."
        )
    for i, (s, t) in enumerate(zip(source, target)):
        yield i, s, t


def _manual_file(root: epath.Path, stem: str, lang: str) -> epath.Path:
    """`root/{stem}.{lang}.gz`, or the uncompressed `root/{stem}.{lang}` if only that exists."""
    gz = root / f"{stem}.{lang}.gz"
    plain = root / f"{stem}.{lang}"
    return plain if not gz.exists() and plain.exists() else gz


class Multi30kConfig(tfds.core.BuilderConfig):
    """A language pair: `source_lang` -> `target_lang`."""

    def __init__(self, *, source_lang: str, target_lang: str, **kwargs):
        super().__init__(
            name=f"{source_lang}_{target_lang}",
            description=f"Multi30k task 1, {source_lang} -> {target_lang}",
            **kwargs,
        )
        self.source_lang = source_lang
        self.target_lang = target_lang


class Multi30k(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """Multi30k task 1 raw sentence pairs."""

    name = "multi30k"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "attn_research builder: array_record, file order kept."}
    BUILDER_CONFIGS = [Multi30kConfig(source_lang=s, target_lang=t) for s, t in itertools.permutations(LANGUAGES, 2)]
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Optional. Put {train,val,test_2016_flickr}.{en,de,fr,cs}.gz from "
        "https://github.com/multi30k/dataset/tree/master/data/task1/raw in the manual directory."
    )

    DOWNLOAD_URL = URL_PATTERN

    @classmethod
    def manual_files(cls, config: str, root: epath.PathLike) -> list[epath.Path]:
        """The files of the manual directory `root` that config `config` (e.g. "de_en") reads."""
        langs = config.split("_")
        return [_manual_file(epath.Path(root), stem, lang) for stem in SPLIT_STEMS.values() for lang in langs]

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict({"source": tfds.features.Text(), "target": tfds.features.Text()}),
            supervised_keys=("source", "target"),
            homepage="https://github.com/multi30k/dataset",
            citation=_CITATION,
            disable_shuffling=True,
        )

    def _split_generators(self, dl_manager):
        config = self.builder_config
        langs = (config.source_lang, config.target_lang)
        root = manual_dir_or_none(dl_manager)
        if root is not None:
            files = {(stem, lang): _manual_file(root, stem, lang) for stem in SPLIT_STEMS.values() for lang in langs}
        else:
            urls = {
                f"{stem}.{lang}": URL_PATTERN.format(split=stem, lang=lang)
                for stem in SPLIT_STEMS.values()
                for lang in langs
            }
            # download (not extract): read_lines un-gzips, whatever name TFDS gave the file.
            paths = dl_manager.download(urls)
            files = {
                (stem, lang): epath.Path(paths[f"{stem}.{lang}"]) for stem in SPLIT_STEMS.values() for lang in langs
            }
        return {
            split: self._generate_examples(files[stem, langs[0]], files[stem, langs[1]])
            for split, stem in SPLIT_STEMS.items()
        }

    def _generate_examples(self, source_path, target_path):
        for i, source, target in read_parallel(source_path, target_path):
            yield i, {"source": source, "target": target}
