"""make_batches: contents, masks, static shapes, coverage and (seed, epoch) determinism."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attn_research.data import BOS_ID, EOS_ID, PAD_ID, Split, make_batches


def _split(lengths, seed=0):
    """A split whose source i has lengths[i] tokens and target i has lengths[i] // 2 + 1."""
    rng = np.random.default_rng(seed)
    sources = [rng.integers(4, 50, size=n).astype(np.int32) for n in lengths]
    targets = [rng.integers(4, 50, size=n // 2 + 1).astype(np.int32) for n in lengths]
    return Split(
        source_ids=sources,
        target_ids=targets,
        source_tokens=[[str(t) for t in s] for s in sources],
        target_tokens=[[str(t) for t in t_] for t_ in targets],
        references=["" for _ in lengths],
        name="train",
    )


def _check_epoch(split, batches, batch_size, length_multiple):
    seen = []
    for batch in batches:
        src_len = batch["source"].shape[1]
        tgt_len = batch["target_input"].shape[1]
        assert batch["source"].shape == batch["source_mask"].shape == (batch_size, src_len)
        for key in ("target_input", "target_output", "target_mask"):
            assert batch[key].shape == (batch_size, tgt_len)
        assert batch["index"].shape == (batch_size,)
        assert src_len % length_multiple == 0 and tgt_len % length_multiple == 0
        assert batch["source"].dtype == batch["target_input"].dtype == np.int32
        assert batch["index"].dtype == np.int32 and batch["source_mask"].dtype == bool
        for row, i in enumerate(batch["index"]):
            if i < 0:
                assert not batch["source_mask"][row].any() and not batch["target_mask"][row].any()
                assert not batch["source"][row].any() and not batch["target_input"][row].any()
                continue
            seen.append(int(i))
            source, target = split.source_ids[i], split.target_ids[i]
            np.testing.assert_array_equal(batch["source"][row][batch["source_mask"][row]], source)
            assert batch["source_mask"][row].sum() == len(source)
            assert batch["source_mask"][row][: len(source)].all()
            mask = batch["target_mask"][row]
            assert mask.sum() == len(target) + 1 and mask[: len(target) + 1].all()
            np.testing.assert_array_equal(batch["target_input"][row][mask], [BOS_ID, *target])
            np.testing.assert_array_equal(batch["target_output"][row][mask], [*target, EOS_ID])
            assert (batch["source"][row][~batch["source_mask"][row]] == PAD_ID).all()
            assert (batch["target_output"][row][~mask] == PAD_ID).all()
    assert sorted(seen) == list(range(len(split)))  # every example exactly once


def test_epoch_contents_masks_and_shapes():
    split = _split(np.random.default_rng(1).integers(1, 40, size=1003))
    batches = make_batches(split, 32, seed=0, epoch=0, shuffle=True)
    assert len(batches) == -(-1003 // 32)
    _check_epoch(split, batches, 32, 8)
    padding_rows = sum(int((b["index"] < 0).sum()) for b in batches)
    assert padding_rows == 32 * len(batches) - 1003


@settings(max_examples=25, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 30), min_size=1, max_size=120),
    batch_size=st.integers(1, 17),
    length_multiple=st.sampled_from([1, 3, 8]),
    shuffle=st.booleans(),
    seed=st.integers(0, 5),
    epoch=st.integers(0, 5),
)
def test_epoch_properties_hold_for_any_split(lengths, batch_size, length_multiple, shuffle, seed, epoch):
    split = _split(lengths)
    batches = make_batches(split, batch_size, seed=seed, epoch=epoch, shuffle=shuffle, length_multiple=length_multiple)
    _check_epoch(split, batches, batch_size, length_multiple)


def test_order_is_fixed_by_seed_and_epoch():
    split = _split(np.random.default_rng(2).integers(1, 40, size=500))
    order = lambda **kw: np.concatenate([b["index"] for b in make_batches(split, 16, shuffle=True, **kw)])
    np.testing.assert_array_equal(order(seed=0, epoch=3), order(seed=0, epoch=3))
    assert not np.array_equal(order(seed=0, epoch=3), order(seed=0, epoch=4))
    assert not np.array_equal(order(seed=0, epoch=3), order(seed=1, epoch=3))
    fixed = [
        np.concatenate([b["index"] for b in make_batches(split, 16, seed=s, epoch=e, shuffle=False)])
        for s, e in ((0, 0), (5, 7))
    ]
    np.testing.assert_array_equal(*fixed)


def test_batches_group_similar_lengths():
    lengths = np.random.default_rng(3).integers(1, 60, size=3200)
    split = _split(lengths)
    batches = make_batches(split, 32, seed=0, epoch=0, shuffle=True)
    spread = [np.ptp(lengths[b["index"][b["index"] >= 0]]) for b in batches]
    assert np.mean(spread) <= 3  # random batches of 32 would span about 55
    real = sum(b["source_mask"].sum() for b in batches)
    total = sum(b["source_mask"].size for b in batches)
    assert real / total > 0.75


def test_length_caps_truncate():
    split = _split([3, 25, 40, 7])
    batches = make_batches(
        split, 4, seed=0, epoch=0, shuffle=False, length_multiple=4, max_source_len=10, max_target_len=6
    )
    (batch,) = batches
    assert batch["source"].shape == (4, 12) and batch["target_input"].shape == (4, 8)
    assert batch["source_mask"].sum(1).max() == 10 and batch["target_mask"].sum(1).max() == 6
    row = list(batch["index"]).index(2)
    np.testing.assert_array_equal(batch["source"][row, :10], split.source_ids[2][:10])
    np.testing.assert_array_equal(batch["target_output"][row, :6], split.target_ids[2][:6])


def test_invalid_arguments():
    split = _split([3, 4])
    for kwargs in (dict(batch_size=0), dict(batch_size=2, length_multiple=0), dict(batch_size=2, max_source_len=0)):
        with pytest.raises(ValueError):
            make_batches(split, **kwargs, seed=0, epoch=0, shuffle=True)


def test_fixed_shape_pads_every_batch_to_the_split_maximum():
    lengths = [3, 25, 40, 7, 12, 5, 9]  # targets: n // 2 + 1, so the longest target + eos is 22
    split = _split(lengths)
    batches = make_batches(split, 1, seed=3, epoch=1, shuffle=True, length_multiple=8, fixed_shape=True)
    _check_epoch(split, batches, 1, 8)
    assert {b["source"].shape for b in batches} == {(1, 40)}
    assert {b["target_input"].shape for b in batches} == {(1, 24)}  # 40 // 2 + 1 + 1 = 22 -> 24
    plain = make_batches(split, 1, seed=3, epoch=1, shuffle=True, length_multiple=8)
    assert [int(b["index"][0]) for b in batches] == [int(b["index"][0]) for b in plain]  # same order
    capped = make_batches(
        split,
        2,
        seed=0,
        epoch=0,
        shuffle=True,
        length_multiple=4,
        fixed_shape=True,
        max_source_len=10,
        max_target_len=6,
    )
    assert {(b["source"].shape, b["target_input"].shape) for b in capped} == {((2, 12), (2, 8))}
