"""Prepare a TFDS builder (array_record files, no TensorFlow) and read it back as text pairs."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

DEFAULT_TFDS_DIR = "~/.cache/attn_research/tfds"
TextPairs = list[tuple[str, str]]


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


def read_text_pairs(builder_cls, config: str, *, tfds_dir: str | os.PathLike | None = None,
                    manual_dir: str | os.PathLike | None = None) -> dict[str, TextPairs]:
  """Builds `builder_cls(config=config)` in `tfds_dir` if needed; returns {split: [(source, target)]}.

  Files are written once as array_record under `tfds_dir/<name>/<config>/<version>/` (default
  `~/.cache/attn_research/tfds`) and read back with `as_data_source()`, in file order.
  `manual_dir`: a folder with the upstream files; None downloads them. Raises FileNotFoundError
  if `manual_dir` is given but missing or empty (and the data is not prepared yet).
  """
  import tensorflow_datasets as tfds

  tfds_dir = Path(tfds_dir or DEFAULT_TFDS_DIR).expanduser()
  with _file_lock(tfds_dir / f".{builder_cls.name}.{config}.lock"):
    # Constructed inside the lock: it reads the dataset info another process may just have written.
    builder = builder_cls(config=config, data_dir=str(tfds_dir), file_format="array_record")
    if not builder.is_prepared():
      if manual_dir is not None:
        manual_dir = Path(manual_dir).expanduser()
        if not manual_dir.is_dir() or not any(manual_dir.iterdir()):
          raise FileNotFoundError(
              f"manual_dir {manual_dir} for {builder.name}/{config} is missing or empty. "
              f"{builder.MANUAL_DOWNLOAD_INSTRUCTIONS}")
      builder.download_and_prepare(
          download_config=tfds.download.DownloadConfig(
              manual_dir=None if manual_dir is None else str(manual_dir)))
  pairs = {}
  for split, source in builder.as_data_source().items():
    records = source.__getitems__(range(len(source)))
    pairs[split] = [(r["source"].decode("utf-8"), r["target"].decode("utf-8")) for r in records]
  return pairs
