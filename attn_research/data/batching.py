"""Statically shaped batches for jit, in an order fixed by (seed, epoch), under one of two padding policies.

padding="multiple" (the default; what the recorded results used): examples sorted by length within chunks
of 100 batches, each batch padded to its longest source and target rounded up to a multiple of 8.
padding="buckets": every batch padded to a cell of a fixed (source length, target length) grid derived from
the split, so the set of compiled shapes is known in advance and the same in every epoch (`bucket_order`).
"""

from __future__ import annotations

import numpy as np

from attn_research.data.dataset import Split
from attn_research.data.vocabulary import BOS_ID, EOS_ID, PAD_ID
from attn_research.validation import check_choice

CHUNK_BATCHES = 100  # padding="multiple": examples are sorted by length within chunks of this many batches
PADDINGS = ("multiple", "buckets")


def _round_up(n: int, multiple: int) -> int:
    return max(1, -(-n // multiple)) * multiple


def _check_batch_size(batch_size: int) -> None:
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")


def batch_order(split: Split, batch_size: int, *, seed: int, epoch: int, shuffle: bool) -> list[np.ndarray]:
    """padding="multiple": example indices of each batch (the last may be short), a function of (seed, epoch) only.

    shuffle=True: permute the examples with `default_rng([seed, epoch])`, cut the permutation into
    chunks of CHUNK_BATCHES * batch_size, sort each chunk by length (longer side first key, then
    source length; stable), cut into batches and shuffle the batch order with the same generator.
    shuffle=False: the same in split order, batch order kept (the result is independent of
    seed and epoch). Each example appears in exactly one batch.
    """
    _check_batch_size(batch_size)
    n = len(split)
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(n) if shuffle else np.arange(n)
    src, tgt = split.source_lengths, split.target_lengths + 1  # + bos / eos
    chunk = CHUNK_BATCHES * batch_size
    batches = []
    for start in range(0, n, chunk):
        idx = order[start : start + chunk]
        idx = idx[np.lexsort((src[idx], np.maximum(src[idx], tgt[idx])))]
        batches += [idx[i : i + batch_size] for i in range(0, len(idx), batch_size)]
    if shuffle:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def length_grid(lengths: np.ndarray, count: int) -> np.ndarray:
    """At most `count` padded lengths (ascending, the last the longest) that minimize the padding of `lengths`.

    lengths: int [num_examples], in tokens (0 counts as 1). Every length is padded to the smallest grid
    value >= it; the grid minimizes the total padded positions sum(grid(l) - l) over the examples (an exact
    dynamic programme over the distinct lengths, O(count * distinct^2)). Returns int32 [<= count]; empty
    for no lengths. Raises ValueError if count < 1.
    """
    if count < 1:
        raise ValueError(f"the number of bucket lengths must be >= 1, got {count}.")
    values, counts = np.unique(np.maximum(np.asarray(lengths, np.int64), 1), return_counts=True)
    if values.size == 0:
        return np.zeros(0, np.int32)
    examples = np.concatenate([[0], np.cumsum(counts)])
    tokens = np.concatenate([[0], np.cumsum(counts * values)])

    def padding(first: int, last: int) -> int:  # the distinct lengths first..last padded to values[last]
        return values[last] * (examples[last + 1] - examples[first]) - (tokens[last + 1] - tokens[first])

    # A grid value more never adds padding, so the grid has min(count, distinct lengths) values. cost[j]: the
    # least padding of values[0..j] by a grid of k + 1 values whose last is values[j]; back[j]: the one below.
    cost = [padding(0, j) for j in range(values.size)]
    backs = []
    for k in range(1, min(count, values.size)):
        best, back = [np.inf] * values.size, [-1] * values.size
        for j in range(k, values.size):
            for i in range(k - 1, j):
                candidate = cost[i] + padding(i + 1, j)
                if candidate < best[j]:
                    best[j], back[j] = candidate, i
        cost = best
        backs.append(back)
    grid, j = [values[-1]], values.size - 1
    for back in reversed(backs):
        j = back[j]
        grid.append(values[j])
    return np.array(sorted(grid), np.int32)


def _lengths(split: Split, max_source_len: int | None, max_target_len: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(source lengths, target lengths + 1 for bos / eos), int [num_examples], capped."""
    src, tgt = split.source_lengths, split.target_lengths + 1
    src = src if max_source_len is None else np.minimum(src, max_source_len)
    return src, tgt if max_target_len is None else np.minimum(tgt, max_target_len)


def bucket_order(
    split: Split,
    batch_size: int,
    *,
    seed: int,
    epoch: int,
    shuffle: bool,
    buckets: int = 6,
    max_source_len: int | None = None,
    max_target_len: int | None = None,
) -> list[tuple[np.ndarray, int, int]]:
    """padding="buckets": (example indices, src_len, tgt_len) of each batch, a function of (seed, epoch) only.

    The grid: `length_grid` of the split's source lengths and of its target lengths + 1 (capped by
    max_source_len / max_target_len), at most `buckets` values per axis; an example's cell is the smallest
    (source, target) grid value holding it. shuffle=True: permute the examples with `default_rng([seed,
    epoch])`, sort the whole epoch by cell (larger of the two grid indices first, then source, then target;
    stable, so random within a cell), cut into batches of batch_size (the last may be short) and shuffle the
    batch order with the same generator. Each batch's (src_len, tgt_len) is the grid cell holding all its
    examples. The sorted sequence of cells, hence the multiset of batch shapes, is the same in every epoch:
    every shape a run compiles occurs in epoch 0. shuffle=False: the same in split order, batch order kept.
    Raises ValueError if batch_size or buckets is < 1.
    """
    _check_batch_size(batch_size)
    src, tgt = _lengths(split, max_source_len, max_target_len)
    source_grid, target_grid = length_grid(src, buckets), length_grid(tgt, buckets)
    source_cell = np.searchsorted(source_grid, np.maximum(src, 1))
    target_cell = np.searchsorted(target_grid, np.maximum(tgt, 1))
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(split)) if shuffle else np.arange(len(split))
    s, t = source_cell[order], target_cell[order]
    order = order[np.lexsort((t, s, np.maximum(s, t)))]
    batches = []
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        batches.append((idx, int(source_grid[source_cell[idx].max()]), int(target_grid[target_cell[idx].max()])))
    if shuffle:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def make_batches(
    split: Split,
    batch_size: int,
    *,
    seed: int,
    epoch: int,
    shuffle: bool,
    padding: str = "multiple",
    length_multiple: int = 8,
    buckets: int = 6,
    max_source_len: int | None = None,
    max_target_len: int | None = None,
    fixed_shape: bool = False,
) -> list[dict[str, np.ndarray]]:
    """One epoch of padded batches of `split` (the order: `batch_order` or `bucket_order`).

    Every batch has exactly `batch_size` rows; the batch holding the leftover examples is filled
    with padding rows (all masks False, index -1, so they add nothing to a masked loss). Each dict holds:
      source:        int32 [batch, src_len], source ids, pad 0 (no bos/eos)
      source_mask:   bool  [batch, src_len], True on real tokens
      target_input:  int32 [batch, tgt_len], bos + target ids (teacher forcing input)
      target_output: int32 [batch, tgt_len], target ids + eos (what to predict)
      target_mask:   bool  [batch, tgt_len], True on the len(target) + 1 real positions
      index:         int32 [batch], position of the example in `split`, -1 for padding rows
    padding="multiple": src_len and tgt_len are the batch's longest source and target + 1, rounded up to a
    multiple of `length_multiple`; fixed_shape=True gives every batch the split's longest source and
    target + 1 (capped, rounded the same way), so that batches can be stacked (training.steps.train_steps).
    padding="buckets": src_len and tgt_len are a cell of the split's grid of at most `buckets` lengths per
    axis (`bucket_order`; length_multiple is not used). max_source_len / max_target_len cap the lengths:
    longer sources are truncated, and target_input / target_output are cut to max_target_len positions (the
    eos is lost when a target is cut). Resume mid-epoch by skipping batches: the order depends only on
    (seed, epoch). Raises ValueError for an unknown padding, batch_size, length_multiple, buckets or a cap
    < 1, or fixed_shape with padding="buckets".
    """
    check_choice("padding", padding, PADDINGS)
    if length_multiple < 1:
        raise ValueError(f"length_multiple must be >= 1, got {length_multiple}.")
    for cap in (max_source_len, max_target_len):
        if cap is not None and cap < 1:
            raise ValueError(f"max_source_len / max_target_len must be >= 1, got {cap}.")
    if padding == "buckets":
        if fixed_shape:
            raise ValueError(
                "fixed_shape=True pads every batch to one shape; it cannot be used with padding='buckets'."
            )
        order = bucket_order(
            split,
            batch_size,
            seed=seed,
            epoch=epoch,
            shuffle=shuffle,
            buckets=buckets,
            max_source_len=max_source_len,
            max_target_len=max_target_len,
        )
    else:
        src, tgt = _lengths(split, max_source_len, max_target_len)
        order = []
        for idx in batch_order(split, batch_size, seed=seed, epoch=epoch, shuffle=shuffle):
            longest = (src, tgt) if fixed_shape else (src[idx], tgt[idx])
            order.append((idx, *(_round_up(int(lengths.max()), length_multiple) for lengths in longest)))
    return [
        _pad(split, idx, batch_size, src_len, tgt_len, max_source_len, max_target_len)
        for idx, src_len, tgt_len in order
    ]


def _pad(
    split: Split,
    idx: np.ndarray,
    batch_size: int,
    src_len: int,
    tgt_len: int,
    max_source_len: int | None,
    max_target_len: int | None,
) -> dict[str, np.ndarray]:
    """The batch dict of make_batches for examples `idx`, padded to [batch_size, src_len] / [batch_size, tgt_len]."""
    sources = [split.source_ids[i][:max_source_len] for i in idx]
    inputs = [np.concatenate([[BOS_ID], split.target_ids[i]])[:max_target_len] for i in idx]
    outputs = [np.concatenate([split.target_ids[i], [EOS_ID]])[:max_target_len] for i in idx]
    batch = {
        "source": np.full((batch_size, src_len), PAD_ID, np.int32),
        "target_input": np.full((batch_size, tgt_len), PAD_ID, np.int32),
        "target_output": np.full((batch_size, tgt_len), PAD_ID, np.int32),
        "index": np.full((batch_size,), -1, np.int32),
    }
    for row, (s, ti, to) in enumerate(zip(sources, inputs, outputs)):
        batch["source"][row, : len(s)] = s
        batch["target_input"][row, : len(ti)] = ti
        batch["target_output"][row, : len(to)] = to
    batch["index"][: len(idx)] = idx
    src_lengths = np.zeros(batch_size, np.int32)
    tgt_lengths = np.zeros(batch_size, np.int32)
    src_lengths[: len(idx)] = list(map(len, sources))
    tgt_lengths[: len(idx)] = list(map(len, inputs))
    batch["source_mask"] = np.arange(src_len)[None, :] < src_lengths[:, None]
    batch["target_mask"] = np.arange(tgt_len)[None, :] < tgt_lengths[:, None]
    return batch
