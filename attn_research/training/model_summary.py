"""A model's parameter count and summary: per top-level module, then every parameter array's shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import numpy as np

SUMMARY_FILE = "model_summary.txt"


def count_by_module(params: Mapping[str, Any]) -> dict[str, int]:
    """{top-level module name: number of scalar parameters under it}, in the params' order."""
    return {name: int(sum(np.size(leaf) for leaf in jax.tree.leaves(tree))) for name, tree in params.items()}


def model_summary(params: Mapping[str, Any]) -> str:
    """Text: the total parameter count, the count per top-level module (with its share of the total), then
    one line per parameter array: its path, shape and dtype.

    params: the model's "params" collection (nested dicts of arrays or ShapeDtypeStructs).
    """
    counts = count_by_module(params)
    total = sum(counts.values())
    lines = [f"parameters: {total:,}", "", "per top-level module:"]
    width = max((len(name) for name in counts), default=0)
    for name, count in counts.items():
        lines.append(f"  {name:<{width}}  {count:>12,}  {100 * count / max(total, 1):5.1f}%")
    lines += ["", "arrays (path: shape dtype):"]
    for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
        name = "/".join(str(getattr(key, "key", key)) for key in path)
        lines.append(f"  {name}: {tuple(np.shape(leaf))} {np.dtype(leaf.dtype).name}")
    return "\n".join(lines) + "\n"
