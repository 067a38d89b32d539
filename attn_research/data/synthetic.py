"""Algorithmic sequence tasks generated with numpy: copy, reverse, sort.

Symbols are `a0 .. a{V-1}` zero-padded to one width (`a00 .. a99` for V = 100), so sorting the
strings sorts by symbol index. Deterministic from the seed; each split draws from its own stream
(`default_rng([seed, split_number])`), so changing one split's size leaves the others unchanged.
"""

from __future__ import annotations

import numpy as np

TASKS = ("copy", "reverse", "sort")


def symbols(vocab_size: int) -> list[str]:
    """The `vocab_size` symbol strings, in index order."""
    width = len(str(max(vocab_size - 1, 0)))
    return [f"a{i:0{width}d}" for i in range(vocab_size)]


def apply_task(task: str, source: np.ndarray) -> np.ndarray:
    """The target of `task` for a source array [seq_len] of symbol indices."""
    if task == "copy":
        return source.copy()
    if task == "reverse":
        return source[::-1].copy()
    if task == "sort":
        return np.sort(source, kind="stable")
    raise ValueError(f"Unknown synthetic task {task!r}; valid: {TASKS}.")


def generate(
    task: str, *, vocab_size: int, min_len: int, max_len: int, num_examples: int, seed: int | list[int]
) -> tuple[list[list[str]], list[list[str]]]:
    """`num_examples` (source, target) token lists; lengths uniform in [min_len, max_len].

    Symbols are drawn uniformly with replacement. Raises ValueError for an unknown task,
    vocab_size < 1, min_len < 1, min_len > max_len or num_examples < 0.
    """
    if task not in TASKS:
        raise ValueError(f"Unknown synthetic task {task!r}; valid: {TASKS}.")
    if vocab_size < 1 or min_len < 1 or min_len > max_len or num_examples < 0:
        raise ValueError(
            f"Need vocab_size >= 1, 1 <= min_len <= max_len, num_examples >= 0; got "
            f"vocab_size={vocab_size}, min_len={min_len}, max_len={max_len}, "
            f"num_examples={num_examples}."
        )
    rng = np.random.default_rng(seed)
    names = np.asarray(symbols(vocab_size))
    lengths = rng.integers(min_len, max_len + 1, size=num_examples)
    sources, targets = [], []
    for length in lengths:
        source = rng.integers(0, vocab_size, size=int(length))
        sources.append(names[source].tolist())
        targets.append(names[apply_task(task, source)].tolist())
    return sources, targets
