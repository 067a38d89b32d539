"""make_batches: contents, masks, static shapes, coverage and (seed, epoch) determinism, for both padding policies;
the bucket grid against a brute-force optimum; padding rows that change no loss or gradient."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attn_research.data import BOS_ID, EOS_ID, PAD_ID, Split, make_batches
from attn_research.data.batching import length_grid


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


def _check_epoch(split, batches, batch_size, length_multiple=1):
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
    for kwargs in (
        dict(batch_size=0),
        dict(batch_size=2, length_multiple=0),
        dict(batch_size=2, max_source_len=0),
        dict(batch_size=0, padding="buckets"),
        dict(batch_size=2, padding="buckets", buckets=0),
        dict(batch_size=2, padding="buckets", fixed_shape=True),
    ):
        with pytest.raises(ValueError):
            make_batches(split, **kwargs, seed=0, epoch=0, shuffle=True)
    with pytest.raises(ValueError, match="unknown padding 'bucket'.*Did you mean 'buckets'"):
        make_batches(split, 2, seed=0, epoch=0, shuffle=True, padding="bucket")


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


def _total_padding(lengths, grid):
    """Positions added when each length (0 counts as 1) is padded to the smallest grid value >= it."""
    lengths = np.maximum(lengths, 1)
    return sum(min(g for g in grid if g >= n) - n for n in lengths)


@settings(max_examples=40, deadline=None)
@given(lengths=st.lists(st.integers(0, 12), min_size=1, max_size=40), count=st.integers(1, 4))
def test_length_grid_is_the_least_padding_grid(lengths, count):
    grid = length_grid(np.array(lengths), count)
    distinct = sorted(set(np.maximum(lengths, 1)))
    assert list(grid) == sorted(set(grid)) and grid[-1] == max(distinct) and set(grid) <= set(distinct)
    assert len(grid) == min(count, len(distinct))
    # every grid of at most `count` of the distinct lengths that holds the longest (brute force)
    best = min(
        _total_padding(lengths, (*below, max(distinct)))
        for size in range(min(count, len(distinct)))
        for below in itertools.combinations(distinct[:-1], size)
    )
    assert _total_padding(lengths, grid) == best


def _shapes(batches):
    return sorted((b["source"].shape[1], b["target_input"].shape[1]) for b in batches)


@settings(max_examples=25, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 30), min_size=1, max_size=120),
    batch_size=st.integers(1, 17),
    buckets=st.integers(1, 5),
    seed=st.integers(0, 5),
)
def test_bucket_epochs_hold_every_example_in_grid_shapes_that_repeat_each_epoch(lengths, batch_size, buckets, seed):
    split = _split(lengths)
    source_grid = length_grid(split.source_lengths, buckets)
    target_grid = length_grid(split.target_lengths + 1, buckets)
    epochs = [
        make_batches(split, batch_size, seed=seed, epoch=e, shuffle=True, padding="buckets", buckets=buckets)
        for e in (0, 1, 2)
    ]
    for batches in epochs:
        _check_epoch(split, batches, batch_size)
        assert len(batches) == -(-len(split) // batch_size)  # one short batch at most
        for src_len, tgt_len in _shapes(batches):
            assert src_len in source_grid and tgt_len in target_grid
        assert _shapes(batches) == _shapes(epochs[0])  # the shapes of epoch 0, hence nothing new to compile
    unshuffled = make_batches(split, batch_size, seed=seed, epoch=0, shuffle=False, padding="buckets", buckets=buckets)
    _check_epoch(split, unshuffled, batch_size)
    assert _shapes(unshuffled) == _shapes(epochs[0])


def test_bucket_order_is_fixed_by_seed_and_epoch_and_shuffled_across_the_epoch():
    split = _split(np.random.default_rng(4).integers(1, 40, size=600))
    order = lambda **kw: [b["index"] for b in make_batches(split, 16, shuffle=True, padding="buckets", **kw)]
    np.testing.assert_array_equal(np.concatenate(order(seed=0, epoch=3)), np.concatenate(order(seed=0, epoch=3)))
    assert not np.array_equal(np.concatenate(order(seed=0, epoch=3)), np.concatenate(order(seed=0, epoch=4)))
    assert not np.array_equal(np.concatenate(order(seed=0, epoch=3)), np.concatenate(order(seed=1, epoch=3)))
    first = order(seed=0, epoch=0)
    mean_length = [split.source_lengths[b[b >= 0]].mean() for b in first]
    assert not np.all(np.diff(mean_length) >= 0)  # the batches of the sorted epoch come out of order
    together = lambda batches: {frozenset(b[b >= 0].tolist()) for b in batches}
    assert together(first) != together(order(seed=0, epoch=1))  # a cell's examples meet new partners


def test_buckets_keep_more_real_tokens_than_multiples_of_8_in_as_few_shapes():
    lengths = np.random.default_rng(5).gamma(6.0, 2.0, size=6000).astype(int) + 1  # skewed, like sentences
    split = _split(lengths)

    def real_share_and_shapes(**kwargs):
        batches = make_batches(split, 64, seed=0, epoch=0, shuffle=True, **kwargs)
        real = sum(b["source_mask"].sum() + b["target_mask"].sum() for b in batches)
        total = sum(b["source_mask"].size + b["target_mask"].size for b in batches)
        return real / total, len(set(_shapes(batches)))

    multiple, multiple_shapes = real_share_and_shapes(padding="multiple")
    buckets, bucket_shapes = real_share_and_shapes(padding="buckets", buckets=4)
    assert buckets > multiple + 0.05 and bucket_shapes <= multiple_shapes
    assert bucket_shapes <= 4 * 4


def test_padding_rows_change_neither_loss_nor_gradient(tmp_path):
    """A bucket batch's fully masked rows (index -1) leave the mean token cross-entropy and its gradient as they
    are without them (no dropout, full teacher forcing: nothing random depends on the batch size)."""
    import jax
    import jax.numpy as jnp

    from attn_research.models import build_model
    from tests.helpers import fast_jit, tiny_config

    split = _split(np.random.default_rng(6).integers(1, 12, size=10))
    (padded,) = make_batches(split, 16, seed=0, epoch=0, shuffle=False, padding="buckets", buckets=2)
    assert (padded["index"] < 0).sum() == 6
    real = {name: value[padded["index"] >= 0] for name, value in padded.items()}
    config = tiny_config(tmp_path)
    config.model.teacher_forcing_ratio = 1.0
    model = build_model(config.model, 50, 50)
    init = fast_jit(
        lambda rng, batch: model.init(rng, batch["source"], batch["source_mask"], batch["target_input"], train=False)
    )
    params = init(jax.random.PRNGKey(0), {k: v for k, v in real.items() if k != "index"})["params"]

    @fast_jit
    def loss_and_grad(params, batch):
        def mean_loss(params):
            output = model.apply(
                {"params": params}, batch["source"], batch["source_mask"], batch["target_input"], train=False
            )
            log_p = jax.nn.log_softmax(output.logits.astype(jnp.float32))
            nll = -jnp.take_along_axis(log_p, batch["target_output"][..., None], axis=-1)[..., 0]
            return jnp.sum(jnp.where(batch["target_mask"], nll, 0.0)) / jnp.sum(batch["target_mask"])

        return jax.value_and_grad(mean_loss)(params)

    inputs = lambda batch: {k: v for k, v in batch.items() if k != "index"}
    loss_real, grad_real = loss_and_grad(params, inputs(real))
    loss_padded, grad_padded = loss_and_grad(params, inputs(padded))
    assert np.isfinite(float(loss_padded)) and float(loss_padded) > 0
    np.testing.assert_allclose(loss_padded, loss_real, rtol=1e-6)
    for a, b in zip(jax.tree.leaves(grad_padded), jax.tree.leaves(grad_real)):
        assert np.all(np.isfinite(a))
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-7)
