"""The train state's model_state: BatchNorm's running statistics (Ioffe and Szegedy 2015, sec. 3.1) written by the
train step, read by evaluation and kept by the checkpoints, with PatchTST's encoder (Nie et al. 2023) as the model."""

from __future__ import annotations

import jax
import numpy as np
import optax

from attn_research.tasks import build_task
from attn_research.tasks.forecasting.patch import PatchAttention
from attn_research.training.checkpoint import Checkpoints
from attn_research.training.state import create_train_state, eval_variables
from attn_research.training.steps import eval_step, train_step
from tests.test_forecasting_task import config_module

LOOKBACK, HORIZON, CHANNELS = 24, 6, 3


def arrays(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "lookback": (rng.normal(size=(8, LOOKBACK, CHANNELS)) * 3 + 2).astype(np.float32),
        "target": rng.normal(size=(8, HORIZON, CHANNELS)).astype(np.float32),
        "weight": np.ones(8, np.float32),
    }


def test_train_step_updates_the_running_statistics_that_evaluation_and_checkpoints_use(tmp_path):
    task = build_task(config_module().get_config("model=patch_attention"))
    model = PatchAttention(
        horizon=HORIZON, patch_len=8, stride=4, d_model=8, heads=2, ff_dim=16, layers=1, dropout=0.0,
        normalization="batch",
    )  # fmt: skip
    state = create_train_state(task, model, optax.adam(1e-3), arrays(0), 0)
    initial = jax.tree.map(np.asarray, state.model_state)
    assert set(initial) == {"batch_stats"}
    assert np.all(initial["batch_stats"]["encoder_0"]["self_attention_norm"]["mean"] == 0.0)

    batch = arrays(1)
    # the step keeps what the training pass writes into batch_stats (its formula: test_forecasting_models.py)
    _, seen = model.apply({"params": state.params, **initial}, batch["lookback"], train=True, mutable=["batch_stats"])
    state, _ = train_step(state, batch)
    stats = state.model_state["batch_stats"]["encoder_0"]["self_attention_norm"]
    np.testing.assert_allclose(
        stats["mean"], seen["batch_stats"]["encoder_0"]["self_attention_norm"]["mean"], rtol=1e-5
    )
    assert np.any(np.abs(np.asarray(stats["mean"])) > 1e-4)

    # evaluation applies the running statistics: the same sums as the model applied with them by hand
    test = arrays(2)
    sums = eval_step(state, test)
    forecast = model.apply(eval_variables(state), test["lookback"], train=False).forecast
    np.testing.assert_allclose(sums["se_sum"], np.sum((np.asarray(forecast) - test["target"]) ** 2), rtol=1e-5)
    without = model.apply({"params": state.params, **initial}, test["lookback"], train=False).forecast
    assert not np.allclose(without, forecast, atol=1e-4)

    checkpoints = Checkpoints(str(tmp_path / "work"))
    checkpoints.save_latest(1, state)
    checkpoints.wait()
    restored = checkpoints.restore_latest(state.replace(model_state=initial))
    checkpoints.close()
    for kept, saved in zip(jax.tree.leaves(restored.model_state), jax.tree.leaves(state.model_state)):
        np.testing.assert_array_equal(kept, saved)
