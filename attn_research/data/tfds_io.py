"""Prepare a TFDS builder (array_record files, no TensorFlow) and read it back as text pairs.

Prepared data made from a manual directory carries the fingerprint of the files it was made from
(FINGERPRINT_FILE beside the array_record files); when those files change, the data is prepared
again. A download that cannot reach its host fails at once with a one-line DataUnavailableError
saying how to work offline.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import socket
from pathlib import Path
from urllib.parse import urlparse

from attn_research.jsonio import read_json, write_json

DEFAULT_TFDS_DIR = "~/.cache/attn_research/tfds"
FINGERPRINT_FILE = "manual_fingerprint.json"  # {"fingerprint", "manual_dir", "files": {path: sha256}}
CONNECT_TIMEOUT_S = 5.0
TextPairs = list[tuple[str, str]]


class DataUnavailableError(RuntimeError):
    """The data can be neither read from a manual directory nor downloaded; the message (one line)
    says how to work offline."""


@contextlib.contextmanager
def _file_lock(path: Path):
    """Exclusive advisory lock, so parallel jobs (sweeps, pytest -n) do not prepare twice."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manual_fingerprint(builder_cls, config: str, manual_dir: str | os.PathLike) -> dict:
    """The fingerprint of the files in `manual_dir` that `builder_cls` reads for `config`.

    Content hashes (SHA-256 of each file; a few MB per config, well under a second), so a copied
    folder with new mtimes but the same files keeps its prepared data, and an edited file of the
    same size does not. Returns {"fingerprint": 16 hex digits over the files' relative paths and
    hashes, "manual_dir": the folder, "files": {relative path: sha256 or "missing"}}.
    """
    root = Path(manual_dir).expanduser()
    files = {}
    for path in builder_cls.manual_files(config, root):
        path = Path(os.fspath(path))
        files[path.relative_to(root).as_posix()] = _sha256(path) if path.is_file() else "missing"
    summary = "".join(f"{name}\0{digest}\n" for name, digest in sorted(files.items()))
    return {"fingerprint": hashlib.sha256(summary.encode()).hexdigest()[:16], "manual_dir": str(root), "files": files}


def _recorded(builder) -> dict | None:
    path = Path(builder.data_dir) / FINGERPRINT_FILE
    return read_json(path) if path.is_file() else None


def prepared_fingerprint(builder_cls, config: str, *, tfds_dir: str | os.PathLike | None = None) -> str | None:
    """The fingerprint of the manual files the prepared data of `builder_cls(config)` in `tfds_dir` was
    made from; None if it is not prepared or was prepared from a download."""
    builder = builder_cls(
        config=config, data_dir=str(Path(tfds_dir or DEFAULT_TFDS_DIR).expanduser()), file_format="array_record"
    )
    recorded = _recorded(builder) if builder.is_prepared() else None
    return None if recorded is None else recorded["fingerprint"]


def _offline_hint(builder_cls, config: str) -> str:
    return (
        f"To work offline, set ATTN_RESEARCH_DATA_DIR to a folder holding {builder_cls.name}/ or pass "
        f"--config.data.manual_dir=<folder>. {builder_cls.MANUAL_DOWNLOAD_INSTRUCTIONS}"
    )


def check_reachable(builder_cls, config: str) -> None:
    """Raises DataUnavailableError (one line, with the offline hint) unless the host of
    `builder_cls.DOWNLOAD_URL` accepts a connection on the URL's port (80 for http, else 443) within
    CONNECT_TIMEOUT_S seconds."""
    url = urlparse(builder_cls.DOWNLOAD_URL)
    host = url.hostname
    port = url.port or (80 if url.scheme == "http" else 443)  # Fashion-MNIST's S3 website host serves http only
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as error:
        raise DataUnavailableError(
            f"cannot download {builder_cls.name}/{config}: {host} is unreachable ({error}). "
            f"{_offline_hint(builder_cls, config)}"
        ) from None


def _prepare(builder, builder_cls, config: str, manual_dir: Path | None) -> None:
    import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel

    if manual_dir is None:
        check_reachable(builder_cls, config)
    try:
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir=None if manual_dir is None else str(manual_dir))
        )
    except (OSError, tfds.core.download.DownloadError) as error:
        if manual_dir is not None:
            raise
        raise DataUnavailableError(
            f"download of {builder_cls.name}/{config} failed ({type(error).__name__}: "
            f"{' '.join(str(error).split())[:200]}). {_offline_hint(builder_cls, config)}"
        ) from None


def read_records(
    builder_cls,
    config: str | None,
    *,
    tfds_dir: str | os.PathLike | None = None,
    manual_dir: str | os.PathLike | None = None,
) -> dict[str, list[dict]]:
    """Builds `builder_cls(config=config)` in `tfds_dir` if needed; returns {split: [record]} in file order.

    A record is the dict `as_data_source()` gives: numpy arrays and scalars, `Text` as UTF-8 bytes.
    `config`: the builder config's name, None for a builder without configs. Files are written once as
    array_record under `tfds_dir/<name>/[<config>/]<version>/` (default `~/.cache/attn_research/tfds`).
    `manual_dir`: a folder with the upstream files (`builder_cls.manual_files` names them); None
    downloads them (or reuses data prepared before). With a manual_dir, data prepared from other
    files (another fingerprint, or none recorded) is deleted and prepared again from these.
    Raises FileNotFoundError (one line) if `manual_dir` is given but is missing or empty (and the data
    must be prepared) or lacks one of the files it must hold (naming it); DataUnavailableError (one line, saying how
    to work offline) if the download fails.
    """
    tfds_dir = Path(tfds_dir or DEFAULT_TFDS_DIR).expanduser()
    with _file_lock(tfds_dir / f".{builder_cls.name}.{config or 'default'}.lock"):
        # Constructed inside the lock: it reads the dataset info another process may just have written.
        builder = builder_cls(config=config, data_dir=str(tfds_dir), file_format="array_record")
        label = builder.name if config is None else f"{builder.name}/{config}"
        fingerprint = None
        manual_dir = Path(manual_dir).expanduser() if manual_dir else None  # "" is unset, as in the config
        if manual_dir is not None:
            if not manual_dir.is_dir() or not any(manual_dir.iterdir()):
                if not builder.is_prepared():
                    raise FileNotFoundError(
                        f"manual_dir {manual_dir} for {label} is missing or empty. "
                        f"{builder.MANUAL_DOWNLOAD_INSTRUCTIONS}"
                    )
                manual_dir = None  # nothing to compare with: the prepared data stays
            else:
                fingerprint = manual_fingerprint(builder_cls, config, manual_dir)
                missing = [name for name, digest in sorted(fingerprint["files"].items()) if digest == "missing"]
                if missing:  # before anything is deleted or prepared
                    raise FileNotFoundError(
                        f"{manual_dir / missing[0]} is missing ({len(missing)} of the files "
                        f"{label} reads are absent from manual_dir {manual_dir}). "
                        f"{builder.MANUAL_DOWNLOAD_INSTRUCTIONS}"
                    )
        if builder.is_prepared() and fingerprint is not None:
            recorded = _recorded(builder)
            if recorded is None or recorded["fingerprint"] != fingerprint["fingerprint"]:
                logging.warning(
                    "%s/%s: the files in %s differ from those the prepared data in %s was made "
                    "from; preparing it again",
                    builder.name,
                    config,
                    manual_dir,
                    builder.data_dir,
                )
                shutil.rmtree(builder.data_dir)
                builder = builder_cls(config=config, data_dir=str(tfds_dir), file_format="array_record")
        if not builder.is_prepared():
            _prepare(builder, builder_cls, config, manual_dir)
            if fingerprint is not None:
                write_json(Path(builder.data_dir) / FINGERPRINT_FILE, fingerprint)
        return {split: source.__getitems__(range(len(source))) for split, source in builder.as_data_source().items()}


def read_text_pairs(
    builder_cls, config: str, *, tfds_dir: str | os.PathLike | None = None, manual_dir: str | os.PathLike | None = None
) -> dict[str, TextPairs]:
    """`read_records` of a builder with Text features `source` and `target`: {split: [(source, target)]}.

    Same files, errors and re-preparation as `read_records`.
    """
    records = read_records(builder_cls, config, tfds_dir=tfds_dir, manual_dir=manual_dir)
    return {
        split: [(r["source"].decode("utf-8"), r["target"].decode("utf-8")) for r in split_records]
        for split, split_records in records.items()
    }


DATA_DIR_ENV = "ATTN_RESEARCH_DATA_DIR"


def resolve_manual_dir(data_config, name: str) -> Path | None:
    """`data_config.manual_dir`, else `$ATTN_RESEARCH_DATA_DIR/<name>` if that variable is set,
    else None (download)."""
    manual_dir = data_config.get("manual_dir")
    if manual_dir:
        return Path(manual_dir).expanduser()
    root = os.environ.get(DATA_DIR_ENV)
    return Path(root).expanduser() / name if root else None


def manual_dir_or_env(manual_dir: str | os.PathLike | None, name: str) -> Path | None:
    """`manual_dir`, else `$ATTN_RESEARCH_DATA_DIR/<name>` if that variable is set, else None (download):
    resolve_manual_dir for the loaders that take no data config (the builders' `load_*`)."""
    return resolve_manual_dir({"manual_dir": manual_dir}, name)
