"""Real-data tests of attn_research.data: SCAN and Multi30k read from ../shared/data via TFDS."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import pytest

from attn_research.data import default_data_config, load_dataset
from attn_research.data.builders.scan import parse_scan_line

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SCAN_DIR = SHARED_DATA / "scan"
MULTI30K_DIR = SHARED_DATA / "multi30k"
needs_scan = pytest.mark.skipif(not SCAN_DIR.is_dir(), reason=f"SCAN data not found at {SCAN_DIR}")
needs_multi30k = pytest.mark.skipif(not MULTI30K_DIR.is_dir(), reason=f"Multi30k data not found at {MULTI30K_DIR}")


def _config(name, tfds_dir, **overrides):
    config = default_data_config(name)
    config.tfds_dir = str(tfds_dir)
    config.update(overrides)
    return config


# --- SCAN -----------------------------------------------------------------------------------

SCAN_SIZES = {  # README table: (train incl. held-out validation, test)
    "simple": (16728, 4182),
    "length": (16990, 3920),
    "addprim_jump": (14670, 7706),
    "addprim_turn_left": (21890, 1208),
}


@pytest.fixture(scope="module")
def scan_tfds_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("tfds_scan")


@needs_scan
@pytest.mark.parametrize("split", sorted(SCAN_SIZES))
def test_scan_split_sizes(split, scan_tfds_dir):
    data = load_dataset(_config("scan", scan_tfds_dir, split=split, manual_dir=str(SCAN_DIR)))
    train, test = SCAN_SIZES[split]
    sizes = {k: len(v) for k, v in data.splits.items()}
    assert sizes["validation"] == min(1000, int(0.05 * train))
    assert sizes["train"] + sizes["validation"] == train
    assert sizes["test"] == test
    # Held-out lines are unique in the training file, so none is also a training example.
    train_lines = set(zip(map(tuple, data["train"].source_tokens), map(tuple, data["train"].target_tokens)))
    validation_lines = set(
        zip(map(tuple, data["validation"].source_tokens), map(tuple, data["validation"].target_tokens))
    )
    assert not train_lines & validation_lines


@needs_scan
def test_scan_first_line_round_trips(scan_tfds_dir):
    data = load_dataset(_config("scan", scan_tfds_dir, manual_dir=str(SCAN_DIR)))
    first = (SCAN_DIR / "simple_split" / "tasks_test_simple.txt").read_text().splitlines()[0]
    command, actions = parse_scan_line(first, "x:1")
    test = data["test"]
    assert test.source_tokens[0] == command.split()
    assert test.target_tokens[0] == actions.split()
    assert test.references[0] == actions
    assert data.source_vocab.decode(test.source_ids[0]) == command.split()
    assert data.target_vocab.detokenize(data.target_vocab.decode(test.target_ids[0])) == actions
    # 13 command words and 6 actions, plus the four special tokens.
    assert (data.source_vocab.size, data.target_vocab.size) == (17, 10)
    assert "tensorflow" not in sys.modules


@needs_scan
def test_scan_from_environment_variable(scan_tfds_dir, monkeypatch):
    monkeypatch.setenv("ATTN_RESEARCH_DATA_DIR", str(SHARED_DATA))
    data = load_dataset(_config("scan", scan_tfds_dir, split="length"))
    assert len(data["test"]) == SCAN_SIZES["length"][1]


def _write_scan(root: Path, train_lines, test_lines):
    folder = root / "simple_split"
    folder.mkdir(parents=True)
    (folder / "tasks_train_simple.txt").write_text("\n".join(train_lines) + "\n")
    (folder / "tasks_test_simple.txt").write_text("\n".join(test_lines) + "\n")


def test_scan_malformed_line_names_file_and_line(tmp_path):
    manual = tmp_path / "scan"
    _write_scan(
        manual, ["IN: jump OUT: I_JUMP", "IN: walk OUT: I_WALK", "IN: run twice I_RUN I_RUN"], ["IN: look OUT: I_LOOK"]
    )
    with pytest.raises(ValueError, match=r"tasks_train_simple\.txt:3: "):
        load_dataset(_config("scan", tmp_path / "tfds", manual_dir=str(manual)))


def test_scan_small_manual_dir_and_missing_dir(tmp_path):
    train = [f"IN: {w} twice OUT: I_{w.upper()} I_{w.upper()}" for w in ("jump", "walk", "run")]
    train += [
        f"IN: {w} {n} OUT: {' '.join(['I_' + w.upper()] * k)}"
        for w in ("jump", "walk", "run", "look")
        for n, k in (("thrice", 3), ("", 1))
    ]
    _write_scan(tmp_path / "scan", train, ["IN: look twice OUT: I_LOOK I_LOOK"])
    data = load_dataset(_config("scan", tmp_path / "tfds", manual_dir=str(tmp_path / "scan")))
    assert len(data["train"]) + len(data["validation"]) == len(train)
    assert data["test"].source_tokens == [["look", "twice"]]
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_dataset(_config("scan", tmp_path / "tfds2", manual_dir=str(tmp_path / "nowhere")))


# --- Multi30k -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def multi30k_de_en(tmp_path_factory):
    tfds_dir = tmp_path_factory.mktemp("tfds_multi30k")
    return load_dataset(_config("multi30k", tfds_dir, manual_dir=str(MULTI30K_DIR)))


@needs_multi30k
def test_multi30k_sizes_and_vocab(multi30k_de_en):
    data = multi30k_de_en
    assert {k: len(v) for k, v in data.splits.items()} == {"train": 29000, "validation": 1014, "test": 1000}
    # Moses tokens seen at least twice in train, plus 4 specials (about 7.8k and 5.9k).
    assert 7500 <= data.source_vocab.size <= 8200
    assert 5600 <= data.target_vocab.size <= 6200


@needs_multi30k
def test_multi30k_first_line_round_trips(multi30k_de_en):
    train = multi30k_de_en["train"]
    assert train.source_tokens[0][:4] == ["zwei", "junge", "weiße", "männer"]
    assert train.target_tokens[0] == [
        "two",
        "young",
        ",",
        "white",
        "males",
        "are",
        "outside",
        "near",
        "many",
        "bushes",
        ".",
    ]
    assert train.references[0] == "two young, white males are outside near many bushes."
    vocab = multi30k_de_en.target_vocab
    assert vocab.detokenize(vocab.decode(train.target_ids[0])) == train.references[0]
    test_raw = gzip.open(MULTI30K_DIR / "test_2016_flickr.en.gz", "rt").readline().strip()
    assert multi30k_de_en["test"].references[0] == test_raw.lower()


@needs_multi30k
def test_multi30k_sentencepiece_and_max_len(tmp_path):
    data = load_dataset(
        _config(
            "multi30k",
            tmp_path / "tfds",
            manual_dir=str(MULTI30K_DIR),
            source_lang="en",
            target_lang="de",
            tokenizer="sentencepiece",
            vocab_size=2000,
            max_len=12,
        )
    )
    vocab = data.target_vocab
    assert 1000 <= vocab.size <= 2000
    assert vocab.tokens[:4] == ["<pad>", "<s>", "</s>", "<unk>"]
    assert len(list((tmp_path / "tfds" / "vocab" / "multi30k").glob("*.model"))) == 2
    train = data["train"]
    assert 0 < len(train) < 29000
    assert max(train.source_lengths.max(), train.target_lengths.max()) <= 12
    assert len(data["test"]) == 1000  # the filter touches training pairs only
    for i in range(20):
        assert vocab.detokenize(vocab.decode(data["test"].target_ids[i])) == data["test"].references[i]


def _write_gz(path: Path, lines):
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))


def test_multi30k_mismatched_line_counts_name_the_files(tmp_path):
    manual = tmp_path / "multi30k"
    manual.mkdir()
    for stem in ("train", "val", "test_2016_flickr"):
        _write_gz(manual / f"{stem}.de.gz", ["ein hund .", "eine katze ."])
        _write_gz(manual / f"{stem}.en.gz", ["a dog .", "a cat ."])
    _write_gz(manual / "val.en.gz", ["a dog ."])
    with pytest.raises(ValueError, match=r"val\.de\.gz has 2 lines.*val\.en\.gz has 1"):
        load_dataset(_config("multi30k", tmp_path / "tfds", manual_dir=str(manual)))


# --- Unknown choices ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"name": "scna"}, r"valid choices: multi30k, scan, synthetic. Did you mean 'scan'"),
        ({"name": "scan", "split": "simpel"}, r"addprim_jump.*length.*simple.*Did you mean 'simple'"),
        ({"name": "multi30k", "tokenizer": "sentencepeice"}, r"moses, sentencepiece.*Did you mean 'sentencepiece'"),
        ({"name": "multi30k", "source_lang": "es"}, r"valid choices: cs, de, en, fr"),
        ({"name": "multi30k", "source_lang": "en", "target_lang": "en"}, r"both 'en'"),
        ({"name": "synthetic", "task": "revrse"}, r"copy, reverse, sort.*Did you mean 'reverse'"),
    ],
)
def test_unknown_choices_list_valid_ones(overrides, message, tmp_path):
    name = overrides["name"] if overrides["name"] in ("scan", "multi30k", "synthetic") else "scan"
    config = default_data_config(name)
    config.tfds_dir = str(tmp_path)
    config.manual_dir = str(tmp_path / "nowhere")
    config.update(overrides)
    with pytest.raises(ValueError, match=message):
        load_dataset(config)


# --- The download branch, with TFDS's download manager faked (no internet in tests) ---------


def test_download_branch_uses_the_public_urls(tmp_path, monkeypatch):
    import tensorflow_datasets as tfds

    from attn_research.data import tfds_io
    from attn_research.data.builders import multi30k, scan

    archive = tmp_path / "extracted"
    _write_scan(
        archive / "SCAN-master", [f"IN: jump {'twice ' * k}OUT: I_JUMP" for k in range(3)], ["IN: walk OUT: I_WALK"]
    )
    files = tmp_path / "files"
    files.mkdir()
    requested = []

    def fake_download_and_extract(self, url):
        requested.append(url)
        return archive

    def fake_download(self, urls):
        requested.extend(urls.values())
        out = {}
        for key, url in urls.items():
            lang = url.rsplit(".", 2)[-2]
            out[key] = files / key.replace(".", "_")  # TFDS-style names: not ending in .gz
            _write_gz(out[key], [f"{lang} one", f"{lang} two"])
        return out

    monkeypatch.setattr(tfds.download.DownloadManager, "download_and_extract", fake_download_and_extract)
    monkeypatch.setattr(tfds.download.DownloadManager, "download", fake_download)
    monkeypatch.setattr(tfds_io, "check_reachable", lambda *args: None)  # downloads faked: no network needed
    monkeypatch.delenv("ATTN_RESEARCH_DATA_DIR", raising=False)
    data = load_dataset(_config("scan", tmp_path / "tfds"))
    assert requested == [scan.URL] and data["test"].source_tokens == [["walk"]]
    data = load_dataset(_config("multi30k", tmp_path / "tfds", source_lang="fr", target_lang="cs"))
    assert data["validation"].references == ["cs one", "cs two"]
    assert multi30k.URL_PATTERN.format(split="test_2016_flickr", lang="fr") in requested
    assert len(requested) == 1 + 6
