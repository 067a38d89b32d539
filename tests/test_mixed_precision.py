"""Mixed precision (config.model.compute_dtype 'bfloat16', models/precision.py): float32 master params and
optimizer state, bfloat16 matmuls, float32 attention normalization, and training that matches float32."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from attn_research.attention import normalizers
from attn_research.config_defaults import attention_config
from attn_research.data import load_dataset, make_batches
from attn_research.models import build_model
from attn_research.models.precision import cast_params, compute_dtype_name
from attn_research.training.optimizer import make_optimizer
from attn_research.training.state import create_train_state
from attn_research.training.steps import eval_step, train_step
from tests.helpers import seq2seq_task, tiny_config


def _model_config(
    compute_dtype: str, *, decoder: str = "luong", cell: str = "lstm", architecture: str = "rnn"
) -> ml_collections.ConfigDict:
    config = tiny_config("/tmp").model
    config.update(
        dict(
            decoder=decoder,
            cell=cell,
            bridge="last",
            compute_dtype=compute_dtype,
        )
    )
    config.attention = attention_config("general" if decoder == "luong" else "additive", dim=16)
    if architecture == "transformer":
        config.update(
            dict(
                architecture="transformer",
                d_model=32,
                heads=4,
                key_dim=0,
                encoder_layers=1,
                decoder_layers=1,
                ff_dim=64,
                attention_dropout=0.0,
                norm="pre",
                positions="sinusoidal",
                tie_embeddings=False,
                max_len=32,
            )
        )
    return config


def _batch(batch_size: int = 4, src_len: int = 7, tgt_len: int = 6, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    lengths = np.array([src_len, 5, 2, 1][:batch_size])
    source_mask = np.arange(src_len)[None, :] < lengths[:, None]
    return {
        "source": np.where(source_mask, rng.integers(1, 11, (batch_size, src_len)), 0).astype(np.int32),
        "source_mask": source_mask,
        "target_input": rng.integers(1, 13, (batch_size, tgt_len)).astype(np.int32),
        "target_output": rng.integers(1, 13, (batch_size, tgt_len)).astype(np.int32),
        "target_mask": np.ones((batch_size, tgt_len), bool),
    }


def _state(model_config, batch, train_config=None):
    model = build_model(model_config, 11, 13)
    train_config = train_config or tiny_config("/tmp").train
    return model, create_train_state(seq2seq_task(), model, make_optimizer(train_config, 10), batch, 0)


def _matmul_operand_dtypes(jaxpr) -> list[tuple[str, int]]:
    """(operand dtype, lhs size) of every dot_general in a jaxpr, sub-programs included."""
    found = []
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "dot_general":
            lhs, rhs = eqn.invars
            found.append((f"{lhs.aval.dtype}/{rhs.aval.dtype}", int(np.prod(lhs.aval.shape))))
        for sub in jax.extend.core.jaxprs_in_params(eqn.params):
            found += _matmul_operand_dtypes(getattr(sub, "jaxpr", sub))
    return found


@pytest.mark.parametrize("architecture", ["rnn", pytest.param("transformer", marks=pytest.mark.slow)])  # 20 s
def test_params_and_optimizer_state_stay_float32_and_matmuls_run_in_bfloat16(architecture):
    batch = _batch()
    _, state = _state(_model_config("bfloat16", architecture=architecture), batch)
    assert state.compute_dtype == "bfloat16"
    jaxpr = jax.make_jaxpr(lambda s, b: train_step(s, b))(state, batch)
    dtypes = _matmul_operand_dtypes(jaxpr.jaxpr)
    bf16 = sum(size for kind, size in dtypes if kind == "bfloat16/bfloat16")
    assert bf16 > 0.5 * sum(size for _, size in dtypes), dtypes  # most matmul work reads bfloat16 operands
    for _ in range(2):
        state, metrics = train_step(state, batch)
        assert np.isfinite(float(metrics["loss"]))
    floats = [x for x in jax.tree.leaves((state.params, state.opt_state)) if jnp.issubdtype(x.dtype, jnp.floating)]
    assert floats and {x.dtype for x in floats} == {jnp.dtype(jnp.float32)}
    assert {x.dtype for x in jax.tree.leaves(metrics)} == {jnp.dtype(jnp.float32)}


def test_float32_policy_runs_no_bfloat16():
    batch = _batch()
    _, state = _state(_model_config("float32"), batch)
    jaxpr = jax.make_jaxpr(lambda s, b: train_step(s, b))(state, batch)
    assert {kind for kind, _ in _matmul_operand_dtypes(jaxpr.jaxpr)} == {"float32/float32"}


def test_cast_params_casts_float_leaves_once_and_gradients_arrive_in_float32():
    params = {"w": jnp.ones((3, 2), jnp.float32), "step": jnp.zeros((), jnp.int32)}
    cast = cast_params(params, jnp.bfloat16)
    assert cast["w"].dtype == jnp.bfloat16 and cast["step"].dtype == jnp.int32
    assert cast_params(params, jnp.float32) is params
    grads = jax.grad(lambda w: jnp.sum(cast_params({"w": w}, jnp.bfloat16)["w"].astype(jnp.float32) ** 2))(params["w"])
    assert grads.dtype == jnp.float32
    np.testing.assert_allclose(grads, 2.0)


def test_unknown_compute_dtype_is_a_one_line_error():
    with pytest.raises(ValueError, match=r"unknown model compute_dtype 'float16'; valid: float32, bfloat16$"):
        compute_dtype_name({"compute_dtype": "float16"})
    with pytest.raises(ValueError, match="compute_dtype"):
        build_model(_model_config("fp16"), 11, 13)


def test_softmax_of_bfloat16_scores_normalizes_in_float32():
    rng = np.random.default_rng(0)
    scores = jnp.asarray(rng.normal(0, 30, (3, 2, 9)), jnp.bfloat16)
    allowed = np.arange(9)[None, None, :] < np.array([9, 4, 0])[:, None, None]
    allowed = np.broadcast_to(allowed, scores.shape)
    weights = normalizers.softmax(scores, allowed)
    assert weights.dtype == jnp.float32
    assert not np.any(np.isnan(weights))
    np.testing.assert_array_equal(np.asarray(weights)[~allowed], 0.0)  # exactly zero on padding
    np.testing.assert_allclose(np.sum(weights[:2], -1), 1.0, atol=1e-6)  # float32 sums, not bfloat16 ones
    np.testing.assert_array_equal(weights[2], 0.0)  # nothing allowed: a zero row, no NaN
    reference = jax.nn.softmax(jnp.where(allowed, scores.astype(jnp.float32), -jnp.inf)[:2], axis=-1)
    np.testing.assert_allclose(weights[:2], reference, atol=1e-6)


@pytest.mark.parametrize("decoder,cell", [("luong", "lstm"), ("bahdanau", "gru")])
def test_bfloat16_alignments_sum_to_one_in_float32_and_are_zero_on_padding(decoder, cell):
    batch = _batch()
    model, state = _state(_model_config("bfloat16", decoder=decoder, cell=cell), batch)
    params = cast_params(state.params, jnp.bfloat16)
    output = model.apply({"params": params}, batch["source"], batch["source_mask"], batch["target_input"], train=False)
    assert output.alignments.dtype == jnp.float32 and output.logits.dtype == jnp.float32
    weights = np.asarray(output.alignments)
    assert not np.any(np.isnan(weights))
    np.testing.assert_array_equal(weights[~np.broadcast_to(batch["source_mask"][:, None, :], weights.shape)], 0.0)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-6)


def _train_reverse(compute_dtype: str, seed: int, steps: int) -> tuple[np.ndarray, float]:
    """Trains the tiny reverse model; returns (loss per step, teacher-forced validation token accuracy)."""
    config = tiny_config("/tmp", steps=steps)
    config.seed = seed
    config.model.compute_dtype = compute_dtype
    data = load_dataset(config.data)
    model = build_model(config.model, data.source_vocab.size, data.target_vocab.size)
    batches = make_batches(data.splits["train"], config.train.batch_size, seed=0, epoch=0, shuffle=True)
    task = seq2seq_task(config)
    state = create_train_state(task, model, make_optimizer(config.train, len(batches)), batches[0], seed)
    losses = []
    for step in range(steps):
        state, metrics = train_step(state, task.step_arrays(batches[step % len(batches)]))
        losses.append(float(metrics["loss"]))
    correct = tokens = 0.0
    for batch in make_batches(data.splits["validation"], 64, seed=0, epoch=0, shuffle=False):
        result = eval_step(state, task.step_arrays(batch))
        correct, tokens = correct + float(result["correct_tokens"]), tokens + float(result["tokens"])
    return np.asarray(losses), correct / tokens


@pytest.mark.slow  # two trainings to a curve: 52 s on 2 cores
def test_bfloat16_training_matches_float32_within_seed_noise():
    """The bf16 loss curve stays as close to the f32 curve (same seed) as another f32 seed's curve is, and both
    policies learn the task (reverse, 3-6 symbols)."""
    steps, window = 240, 40
    f32, f32_accuracy = _train_reverse("float32", 0, steps)
    bf16, bf16_accuracy = _train_reverse("bfloat16", 0, steps)
    other, _ = _train_reverse("float32", 1, steps)

    def curve(losses):  # mean loss over consecutive windows: the curve without per-batch noise
        return losses.reshape(-1, window).mean(1)

    seed_gap = np.max(np.abs(curve(other) - curve(f32)))
    precision_gap = np.max(np.abs(curve(bf16) - curve(f32)))
    assert precision_gap <= max(1.5 * seed_gap, 0.05), (precision_gap, seed_gap, curve(f32), curve(bf16))
    assert f32_accuracy > 0.9 and bf16_accuracy > 0.9, (f32_accuracy, bf16_accuracy)
    assert curve(bf16)[-1] < 0.5 * curve(bf16)[0]


def test_multi30k_config_has_a_mixed_precision_variant():
    from benchmarks.multi30k import get_config

    plain, mixed = get_config("model=luong_general"), get_config("model=luong_general,precision=bfloat16")
    assert plain.model.compute_dtype == "float32" and mixed.model.compute_dtype == "bfloat16"
    assert mixed.name == "de_en_luong_general_bfloat16"
    mixed.model.compute_dtype, mixed.name = "float32", plain.name
    assert mixed.to_dict() == plain.to_dict()  # nothing else changes
    with pytest.raises(ValueError, match="unknown Multi30k precision 'float16'"):
        get_config("model=luong_general,precision=float16")
