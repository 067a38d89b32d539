"""JSON files that are never torn and never hold NaN: one writer and one reader for every record.

write_json writes to a temporary file in the destination's folder, fsyncs it and renames it over the
destination (os.replace is atomic on POSIX), so a reader sees the old file or the new one, never half.
read_json names the file in its error when the content is not valid JSON. write_text does the same atomic
replacement for text records (tables, the README).
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

MAX_NAME_BYTES = 255  # a file name's limit on Linux file systems (NAME_MAX)
TMP_NAME_KEEP = 200  # characters of the target's name in write_text's temporary name


class CorruptJSONError(ValueError):
    """A JSON file that exists but cannot be decoded (torn by a crash, edited by hand)."""


def write_json(
    path: str | os.PathLike, obj: Any, *, indent: int | None = 2, sort_keys: bool = False, default=None
) -> None:
    """Writes `obj` as JSON to `path` atomically (temporary file, fsync, os.replace).

    Non-finite floats are refused (json's allow_nan=False): raises ValueError naming `path` before
    anything is written, so a NaN never reaches a record. The folder is created if missing.
    """
    path = os.fspath(path)
    try:
        text = json.dumps(obj, indent=indent, sort_keys=sort_keys, default=default, allow_nan=False)
    except ValueError as e:
        raise ValueError(f"{path}: refusing to write a non-finite number ({e})") from None
    write_text(path, text + "\n")


def write_text(path: str | os.PathLike, text: str) -> None:
    """Writes `text` to `path` atomically: a temporary file in the same folder, fsync, os.replace.

    A reader (or a crash) sees the old content or the new, never half. The folder is created if missing.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    # the temporary name keeps at most TMP_NAME_KEEP characters of the target's, so that it fits the file system's
    # 255-byte names whenever the target's name does (mkstemp adds 8 random characters and the suffix)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)[:TMP_NAME_KEEP]}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def read_json(path: str | os.PathLike) -> Any:
    """The decoded content of the JSON file `path`.

    Raises FileNotFoundError for a missing file and CorruptJSONError (a ValueError) naming the file,
    line and column for content that is not valid JSON.
    """
    path = os.fspath(path)
    with open(path) as f:
        text = f.read()
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise CorruptJSONError(
            f"{path}: not valid JSON ({e.msg} at line {e.lineno}, column {e.colno}); "
            "the file may be torn by a crash: delete it to redo what wrote it"
        ) from None
