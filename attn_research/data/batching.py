"""Length-bucketed, statically shaped batches for jit, in an order fixed by (seed, epoch)."""

from __future__ import annotations

import numpy as np

from attn_research.data.dataset import Split
from attn_research.data.vocabulary import BOS_ID, EOS_ID, PAD_ID

CHUNK_BATCHES = 100  # examples are sorted by length within chunks of this many batches


def _round_up(n: int, multiple: int) -> int:
    return max(1, -(-n // multiple)) * multiple


def batch_order(split: Split, batch_size: int, *, seed: int, epoch: int, shuffle: bool) -> list[np.ndarray]:
    """Example indices of each batch (the last may be short), a function of (seed, epoch) only.

    shuffle=True: permute the examples with `default_rng([seed, epoch])`, cut the permutation into
    chunks of CHUNK_BATCHES * batch_size, sort each chunk by length (longer side first key, then
    source length; stable), cut into batches and shuffle the batch order with the same generator.
    shuffle=False: the same in split order, batch order kept (the result is independent of
    seed and epoch). Each example appears in exactly one batch.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
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


def make_batches(
    split: Split,
    batch_size: int,
    *,
    seed: int,
    epoch: int,
    shuffle: bool,
    length_multiple: int = 8,
    max_source_len: int | None = None,
    max_target_len: int | None = None,
    fixed_shape: bool = False,
) -> list[dict[str, np.ndarray]]:
    """One epoch of padded batches of `split` (see `batch_order` for the order).

    Every batch has exactly `batch_size` rows; the batch holding the leftover examples is filled
    with padding rows (all masks False, index -1). Each dict holds:
      source:        int32 [batch, src_len], source ids, pad 0 (no bos/eos)
      source_mask:   bool  [batch, src_len], True on real tokens
      target_input:  int32 [batch, tgt_len], bos + target ids (teacher forcing input)
      target_output: int32 [batch, tgt_len], target ids + eos (what to predict)
      target_mask:   bool  [batch, tgt_len], True on the len(target) + 1 real positions
      index:         int32 [batch], position of the example in `split`, -1 for padding rows
    src_len and tgt_len are the batch's longest source and target + 1, rounded up to a multiple
    of `length_multiple`. max_source_len / max_target_len cap them: longer sources are truncated,
    and target_input / target_output are cut to max_target_len positions (the eos is lost when a
    target is cut). fixed_shape=True: every batch gets the same src_len and tgt_len, those of the
    split's longest source and target + 1 (capped the same way), rounded up to `length_multiple`, so
    that batches can be stacked (training.steps.train_steps). Resume mid-epoch by skipping batches:
    the order depends only on (seed, epoch).
    Raises ValueError if batch_size, length_multiple or a cap is < 1.
    """
    if length_multiple < 1:
        raise ValueError(f"length_multiple must be >= 1, got {length_multiple}.")
    for cap in (max_source_len, max_target_len):
        if cap is not None and cap < 1:
            raise ValueError(f"max_source_len / max_target_len must be >= 1, got {cap}.")
    if fixed_shape:
        longest_source = int(max(split.source_lengths, default=1))
        longest_target = int(max(split.target_lengths, default=0)) + 1  # + bos / eos
        longest_source = _round_up(min(longest_source, max_source_len or longest_source), length_multiple)
        longest_target = _round_up(min(longest_target, max_target_len or longest_target), length_multiple)
    out = []
    for idx in batch_order(split, batch_size, seed=seed, epoch=epoch, shuffle=shuffle):
        sources = [split.source_ids[i][:max_source_len] for i in idx]
        inputs = [np.concatenate([[BOS_ID], split.target_ids[i]])[:max_target_len] for i in idx]
        outputs = [np.concatenate([split.target_ids[i], [EOS_ID]])[:max_target_len] for i in idx]
        src_len = _round_up(max(map(len, sources)), length_multiple)
        tgt_len = _round_up(max(map(len, inputs)), length_multiple)
        if fixed_shape:
            src_len, tgt_len = longest_source, longest_target
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
        out.append(batch)
    return out
