"""Helper shared by the builders: a manual directory if the caller gave one."""

from __future__ import annotations

from etils import epath


def manual_dir_or_none(dl_manager) -> epath.Path | None:
    """`dl_manager.manual_dir` if it exists and is non-empty, else None (then the builder downloads).

    TFDS raises AssertionError from `manual_dir` when the directory is missing or empty; the
    loader (`tfds_io`) checks an explicitly given directory before building, so a typo there
    becomes a FileNotFoundError rather than a silent download.
    """
    try:
        return dl_manager.manual_dir
    except AssertionError:
        return None
