"""The prepared-data cache (attn_research/data/tfds_io.py): fingerprinted against the manual files it
was made from, prepared again when they change; a download with no network fails at once, saying how
to work offline."""

from __future__ import annotations

import hashlib
import os
import socket
import time

import pytest

from attn_research.data import default_data_config, load_dataset, tfds_io
from attn_research.data.builders import Scan


def _write_scan(root, train_lines, test_lines):
    folder = root / "simple_split"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tasks_train_simple.txt").write_text("\n".join(train_lines) + "\n")
    (folder / "tasks_test_simple.txt").write_text("\n".join(test_lines) + "\n")


TRAIN = [
    f"IN: {w} {n} OUT: {' '.join(['I_' + w.upper()] * k)}"
    for w in ("jump", "walk", "run", "look")
    for n, k in (("twice", 2), ("thrice", 3))
]


def _config(manual, tfds_dir):
    config = default_data_config("scan")
    config.update(dict(manual_dir=str(manual), tfds_dir=str(tfds_dir), split="simple"))
    return config


def test_changed_manual_file_is_prepared_again_and_fingerprinted(tmp_path):
    manual, tfds_dir = tmp_path / "scan", tmp_path / "tfds"
    _write_scan(manual, TRAIN, ["IN: look twice OUT: I_LOOK I_LOOK"])
    first = load_dataset(_config(manual, tfds_dir))
    assert first["test"].source_tokens == [["look", "twice"]]

    again = load_dataset(_config(manual, tfds_dir))  # unchanged files: same fingerprint, cache reused
    assert again.fingerprint == first.fingerprint

    _write_scan(manual, TRAIN, ["IN: jump thrice OUT: I_JUMP I_JUMP I_JUMP"])
    changed = load_dataset(_config(manual, tfds_dir))
    assert changed["test"].source_tokens == [["jump", "thrice"]]
    assert changed.fingerprint != first.fingerprint

    # The fingerprint is the files' content, computed independently here: sha256 of each file read.
    files = {
        name: hashlib.sha256((manual / name).read_bytes()).hexdigest()
        for name in ("simple_split/tasks_test_simple.txt", "simple_split/tasks_train_simple.txt")
    }
    summary = "".join(f"{name}\0{digest}\n" for name, digest in sorted(files.items()))
    assert changed.fingerprint == hashlib.sha256(summary.encode()).hexdigest()[:16]


def test_same_size_edit_with_old_mtime_is_still_seen(tmp_path):
    manual, tfds_dir = tmp_path / "scan", tmp_path / "tfds"
    _write_scan(manual, TRAIN, ["IN: look twice OUT: I_LOOK I_LOOK"])
    test_file = manual / "simple_split" / "tasks_test_simple.txt"
    stat = test_file.stat()
    load_dataset(_config(manual, tfds_dir))
    test_file.write_text("IN: walk twice OUT: I_WALK I_WALK\n")  # the same number of bytes
    assert test_file.stat().st_size == stat.st_size
    os.utime(test_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert load_dataset(_config(manual, tfds_dir))["test"].source_tokens == [["walk", "twice"]]


def test_download_without_network_fails_at_once_with_offline_hint(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "create_connection", no_network)
    start = time.perf_counter()
    with pytest.raises(tfds_io.DataUnavailableError) as error:
        tfds_io.read_text_pairs(Scan, "simple", tfds_dir=tmp_path / "tfds")
    assert time.perf_counter() - start < 30
    message = str(error.value)
    assert "\n" not in message
    assert "ATTN_RESEARCH_DATA_DIR" in message and "--config.data.manual_dir" in message


def test_empty_manual_dir_means_unset(tmp_path, monkeypatch):
    """The config's "" (unset) must not become Path("") = the current folder."""

    def no_network(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "create_connection", no_network)
    with pytest.raises(tfds_io.DataUnavailableError):
        tfds_io.read_text_pairs(Scan, "simple", tfds_dir=tmp_path / "tfds", manual_dir="")
