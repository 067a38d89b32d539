"""The forecasting models and metrics against NumPy references of their equations, and their properties
(attention rows sum to 1, channel independence, jit = eager), on tiny sizes."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attn_research.attention import attention_config
from attn_research.models.transformer_layers import EncoderLayer
from attn_research.tasks.forecasting.linear import DLinear, Repeat, moving_average
from attn_research.tasks.forecasting.metrics import error_sums, mean_errors
from attn_research.tasks.forecasting.models import MODELS, check_model, default_model_config
from attn_research.tasks.forecasting.patch import PatchAttention, make_patches, num_patches, patch_attention_weights
from attn_research.tasks.forecasting.temporal import TemporalAttentionForecaster
from attn_research.tasks.forecasting.transformer import TransformerForecaster
from tests.helpers import fast_jit
from tests.test_attention_reference import np_multihead

X = np.random.default_rng(0).normal(size=(2, 24, 3)).astype(np.float32)


def init_and_apply(model):
    """(variables, model.apply(variables, X)), both jitted (tiny programs compile fast; eager Flax is slow)."""
    variables = fast_jit(model.init)(jax.random.PRNGKey(0), X)
    return variables, fast_jit(model.apply)(variables, X)


def numpy_moving_average(x: np.ndarray, kernel: int) -> np.ndarray:
    """Zeng et al. (2023)'s moving_avg, step by step: edge padding with the first / last value, then the mean
    of each window of `kernel` consecutive values."""
    pad = (kernel - 1) // 2
    out = np.empty_like(x)
    for b in range(x.shape[0]):
        for c in range(x.shape[2]):
            series = [x[b, 0, c]] * pad + list(x[b, :, c]) + [x[b, -1, c]] * pad
            out[b, :, c] = [np.mean(series[t : t + kernel]) for t in range(x.shape[1])]
    return out


@pytest.mark.parametrize("kernel", [1, 5, 25])
def test_moving_average_matches_numpy_with_edge_padding(kernel):
    np.testing.assert_allclose(moving_average(jnp.asarray(X), kernel), numpy_moving_average(X, kernel), atol=1e-5)


def test_dlinear_is_one_linear_map_per_component():
    model = DLinear(horizon=5, kernel=7)
    variables, jitted = init_and_apply(model)
    params = variables["params"]
    trend = numpy_moving_average(X, 7)
    expected = np.zeros((2, 5, 3), np.float32)
    for part, name in ((trend, "trend"), (X - trend, "seasonal")):
        kernel, bias = np.asarray(params[name]["kernel"]), np.asarray(params[name]["bias"])  # [L, H], [H]
        expected += np.einsum("blc,lh->bhc", part, kernel) + bias[None, :, None]
    np.testing.assert_allclose(model.apply({"params": params}, X).forecast, expected, atol=1e-4)
    np.testing.assert_allclose(jitted.forecast, expected, atol=1e-4)  # jit = eager
    with pytest.raises(ValueError, match="odd"):
        DLinear(horizon=5, kernel=4).init(jax.random.PRNGKey(0), X)


def test_dlinear_initializes_as_the_reference_code_pytorch_linear():
    """PyTorch nn.Linear(L, H)'s default: weight and bias uniform in +-1/sqrt(L), i.e. variance 1/(3 L); Flax's
    lecun draws the weight with variance 1/L and a zero bias. L = 400 draws 2 x 400 x 50 weights."""
    lookback = np.zeros((1, 400, 1), np.float32)
    bound = 1 / np.sqrt(400)
    params = DLinear(horizon=50, kernel=3).init(jax.random.PRNGKey(0), lookback)["params"]
    for name in ("trend", "seasonal"):
        kernel, bias = np.asarray(params[name]["kernel"]), np.asarray(params[name]["bias"])
        assert np.abs(kernel).max() <= bound and np.abs(bias).max() <= bound and np.abs(bias).max() > bound / 2
        np.testing.assert_allclose(kernel.var(), bound**2 / 3, rtol=0.05)
    lecun = DLinear(horizon=50, kernel=3, linear_init="lecun").init(jax.random.PRNGKey(0), lookback)["params"]["trend"]
    np.testing.assert_allclose(np.asarray(lecun["kernel"]).var(), bound**2, rtol=0.1)
    assert not np.asarray(lecun["bias"]).any()
    with pytest.raises(ValueError, match="model.linear_init"):
        DLinear(horizon=5, kernel=3, linear_init="xavier").init(jax.random.PRNGKey(0), X)


def test_repeat_repeats_the_last_value():
    model = Repeat(horizon=4)
    forecast = model.apply(model.init(jax.random.PRNGKey(0), X), X).forecast
    np.testing.assert_array_equal(forecast, np.repeat(X[:, -1:], 4, axis=1))


def test_patches_are_padded_with_the_last_value_and_counted_as_in_patchtst():
    assert num_patches(336, 16, 8) == 42  # PatchTST/42
    series = np.arange(10, dtype=np.float32)[None]
    patches = np.asarray(make_patches(jnp.asarray(series), 4, 3))  # padded: 0..9, 9, 9, 9
    np.testing.assert_array_equal(patches[0], [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9], [9, 9, 9, 9]])
    with pytest.raises(ValueError, match="patch_len"):
        num_patches(8, 16, 8)


def test_patch_attention_is_channel_independent_and_its_weights_are_distributions():
    model = PatchAttention(horizon=6, patch_len=8, stride=4, d_model=8, heads=2, ff_dim=16, layers=1, dropout=0.0)
    variables, output = init_and_apply(model)
    swapped = np.asarray(fast_jit(model.apply)(variables, X[:, :, ::-1]).forecast)
    np.testing.assert_allclose(swapped, output.forecast[:, :, ::-1], atol=1e-5)  # shared parameters, channels apart
    weights = np.asarray(fast_jit(lambda v, x: patch_attention_weights(model, v, x))(variables, X))
    assert weights.shape == (2, 3, 6, 6) and np.all(weights >= 0)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)


def test_temporal_attention_weights_cover_the_lookback_with_a_catalogue_score():
    model = TemporalAttentionForecaster(
        horizon=4, cell="gru", hidden=8, attention_config=attention_config("general", dim=8).to_dict()
    )
    variables, output = init_and_apply(model)
    assert "GeneralScore" in str(jax.tree.map(jnp.shape, variables))  # the catalogue's score, by config
    assert output.forecast.shape == (2, 4, 3) and output.attention.shape == (2, 4, 24)
    np.testing.assert_allclose(output.attention.sum(-1), 1.0, atol=1e-5)
    assert np.all(np.isfinite(output.forecast))


def test_transformer_forecast_reads_the_lookback_through_cross_attention():
    model = TransformerForecaster(horizon=5, label_len=6, d_model=8, heads=2, ff_dim=16, encoder_layers=1)
    _, output = init_and_apply(model)
    assert output.forecast.shape == (2, 5, 3) and output.attention.shape == (2, 5, 24)
    np.testing.assert_allclose(output.attention.sum(-1), 1.0, atol=1e-5)
    assert np.all(np.isfinite(output.forecast))
    with pytest.raises(ValueError, match="label_len"):
        TransformerForecaster(horizon=5, label_len=30, d_model=8, heads=2).init(jax.random.PRNGKey(0), X)


def test_metrics_on_a_hand_made_case():
    """Two windows of 2 steps x 1 channel and one padding window: errors (1, -2) and (0, 3); the padding
    window's error of 10 is not counted. MSE = (1 + 4 + 0 + 9) / 4 = 3.5, MAE = (1 + 2 + 0 + 3) / 4 = 1.5."""
    target = np.zeros((3, 2, 1), np.float32)
    forecast = np.array([[[1.0], [-2.0]], [[0.0], [3.0]], [[10.0], [10.0]]], np.float32)
    sums = {k: float(v) for k, v in error_sums(forecast, target, np.array([1.0, 1.0, 0.0])).items()}
    assert sums == {"se_sum": 14.0, "ae_sum": 6.0, "count": 4.0}
    assert mean_errors(sums) == {"mse": 3.5, "mae": 1.5}


def test_every_registered_model_is_checked_by_name():
    model = default_model_config()
    for name in MODELS.names():
        model.name = name
        check_model(model, 336)
    model.name, model.linear_init = "dlinear", "xavier"
    with pytest.raises(ValueError, match="model.linear_init.*torch"):
        check_model(model, 336)
    model.name, model.linear_init = "informer", "torch"
    with pytest.raises(ValueError, match="dlinear"):
        check_model(model, 336)
    model.name, model.attention.score = "temporal_attention", "nope"
    with pytest.raises(ValueError, match="additive"):
        check_model(model, 336)


def test_temporal_attention_with_several_hours_per_decoder_step():
    """step_len s = 4, H = 10: 3 decoder steps of 4 hours (the last cut to 2); the hours of one step share its
    weights over the look-back; s > L is a one-line error naming model.step_len."""
    model = TemporalAttentionForecaster(
        horizon=10, hidden=8, step_len=4, attention_config=attention_config("additive", dim=8).to_dict()
    )
    variables, output = init_and_apply(model)
    assert output.forecast.shape == (2, 10, 3) and output.attention.shape == (2, 10, 24)
    weights = np.asarray(output.attention)
    for first, stop in ((0, 4), (4, 8), (8, 10)):
        np.testing.assert_allclose(weights[:, first:stop], np.repeat(weights[:, first : first + 1], stop - first, 1))
    assert not np.allclose(weights[:, 0], weights[:, 4])
    assert variables["params"]["decoder"]["output"]["kernel"].shape[-1] == 4 * 3  # 4 hours x 3 channels
    with pytest.raises(ValueError, match=r"model.step_len \(30\) must be in \[1, data.lookback = 24\]"):
        TemporalAttentionForecaster(horizon=10, hidden=8, step_len=30, attention_config=model.attention_config).init(
            jax.random.PRNGKey(0), X
        )
    config = default_model_config()
    config.name, config.step_len = "temporal_attention", 400
    with pytest.raises(ValueError, match="model.step_len"):
        check_model(config, 336)


def test_patch_attention_final_norm_and_the_explicit_attention_path():
    """norm 'pre' with final_norm False has no LayerNorm after the last layer (the head reads the residual
    stream); EncoderLayer's explicit_weights path computes the same function as jax.nn.dot_product_attention."""
    sizes = dict(horizon=6, patch_len=8, stride=4, d_model=8, heads=2, ff_dim=16, layers=2, dropout=0.0, norm="pre")
    with_norm, _ = init_and_apply(PatchAttention(**sizes))
    without, output = init_and_apply(PatchAttention(**sizes, final_norm=False))
    assert "encoder_norm" in with_norm["params"] and "encoder_norm" not in without["params"]
    assert np.all(np.isfinite(output.forecast))

    x = np.random.default_rng(1).normal(size=(3, 5, 8)).astype(np.float32)
    mask = np.array([[True] * 5, [True] * 3 + [False] * 2, [True] * 5])
    layers = [
        EncoderLayer(d_model=8, heads=2, ff_dim=16, dropout=0.0, attention_dropout=0.0, norm="post", explicit_weights=e)
        for e in (False, True)
    ]
    variables = fast_jit(lambda k: layers[0].init(k, x, mask, train=False))(jax.random.PRNGKey(0))
    fused, explicit = (fast_jit(lambda v, m=m: m.apply(v, x, mask, train=False))(variables) for m in layers)
    np.testing.assert_allclose(explicit, fused, atol=1e-5)


def numpy_batch_norm(x: np.ndarray, scale, bias, mean=None, var=None, eps: float = 1e-5):
    """Ioffe and Szegedy (2015), Algorithm 1, per feature (last axis) over every other axis; with mean and var
    given (evaluation), those instead of the batch's. Returns (y, batch mean, batch variance (biased))."""
    flat = x.reshape(-1, x.shape[-1]).astype(np.float64)
    batch_mean, batch_var = flat.mean(0), flat.var(0)
    m, v = (batch_mean, batch_var) if mean is None else (np.asarray(mean, np.float64), np.asarray(var, np.float64))
    return (x - m) / np.sqrt(v + eps) * np.asarray(scale) + np.asarray(bias), batch_mean, batch_var


def numpy_gelu(x: np.ndarray) -> np.ndarray:
    """x Phi(x), Phi the standard normal CDF through erf (Hendrycks and Gimpel 2016; PyTorch's F.gelu)."""
    return x * 0.5 * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def numpy_post_batch_norm_layer(params, stats, x, mask, train: bool, activation=lambda h: np.maximum(h, 0.0)):
    """EncoderLayer, norm 'post', normalization 'batch', no dropout (Vaswani et al. 2017, sec. 3.1; PatchTST's
    TSTEncoderLayer): n1 = BN(x + MHA(x)), out = BN(n1 + FFN(n1)), FFN's activation `activation`. Returns (out,
    {norm: (batch mean, var)})."""
    allowed = np.broadcast_to(mask[:, None, :], (x.shape[0], x.shape[1], x.shape[1]))
    attended, _ = np_multihead({"params": params["self_attention"]}, x, x, x, allowed)
    seen = {}

    def norm(name, h):
        p, s = params[name], stats[name]
        y, m, v = numpy_batch_norm(h, p["scale"], p["bias"], *(() if train else (s["mean"], s["var"])))
        seen[name] = (m, v)
        return y

    n1 = norm("self_attention_norm", x + attended)
    ff = params["feed_forward"]
    hidden = activation(n1 @ ff["inner"]["kernel"] + ff["inner"]["bias"])
    return norm("feed_forward_norm", n1 + hidden @ ff["outer"]["kernel"] + ff["outer"]["bias"]), seen


def test_batch_norm_encoder_layer_matches_numpy_in_training_and_evaluation():
    """PatchTST's encoder layer (post-norm BatchNorm): the batch's statistics in training, the running ones
    (0.9 old + 0.1 batch, from mean 0 and variance 1) in evaluation, against Algorithm 1 in NumPy."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3, 5, 8)).astype(np.float32) * 2.0 + 1.0
    mask = np.ones((3, 5), bool)
    layer = EncoderLayer(
        d_model=8, heads=2, ff_dim=16, dropout=0.0, attention_dropout=0.0, norm="post", normalization="batch"
    )
    variables = fast_jit(lambda k: layer.init(k, x, mask, train=False))(jax.random.PRNGKey(0))
    params = jax.tree.map(
        lambda p: np.asarray(p) + rng.normal(size=p.shape).astype(np.float32) * 0.1, variables["params"]
    )
    stats = jax.tree.map(np.asarray, variables["batch_stats"])
    out, updated = fast_jit(lambda v: layer.apply(v, x, mask, train=True, mutable=["batch_stats"]))(
        {"params": params, "batch_stats": stats}
    )
    expected, seen = numpy_post_batch_norm_layer(params, stats, x, mask, train=True)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    for name, (mean, var) in seen.items():
        np.testing.assert_allclose(updated["batch_stats"][name]["mean"], 0.1 * mean, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(updated["batch_stats"][name]["var"], 0.9 + 0.1 * var, rtol=1e-4, atol=1e-5)
    running = jax.tree.map(np.asarray, updated["batch_stats"])
    evaluated = fast_jit(lambda v: layer.apply(v, x, mask, train=False))({"params": params, "batch_stats": running})
    expected, _ = numpy_post_batch_norm_layer(params, running, x, mask, train=False)
    np.testing.assert_allclose(evaluated, expected, rtol=1e-4, atol=1e-4)


def test_gelu_feed_forward_and_the_reference_dropouts():
    """PatchTST's encoder layer: the exact GELU in the feed-forward network (against erf in NumPy); its dropout
    inside the feed-forward network and on the attention projection act in training only."""
    rng = np.random.default_rng(6)
    x = rng.normal(size=(3, 5, 8)).astype(np.float32)
    mask = np.ones((3, 5), bool)
    sizes = dict(d_model=8, heads=2, ff_dim=16, dropout=0.0, attention_dropout=0.0, norm="post", normalization="batch")
    layer = EncoderLayer(**sizes, activation="gelu")
    variables = fast_jit(lambda k: layer.init(k, x, mask, train=False))(jax.random.PRNGKey(0))
    params = jax.tree.map(lambda p: np.asarray(p) + rng.normal(size=p.shape).astype(np.float32), variables["params"])
    stats = jax.tree.map(np.asarray, variables["batch_stats"])
    out = fast_jit(lambda v: layer.apply(v, x, mask, train=False))({"params": params, "batch_stats": stats})
    expected, _ = numpy_post_batch_norm_layer(params, stats, x, mask, train=False, activation=numpy_gelu)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    relu, _ = numpy_post_batch_norm_layer(params, stats, x, mask, train=False)
    assert not np.allclose(out, relu, atol=1e-3)  # the inner activations reach the negative side

    v = {"params": params, "batch_stats": stats}
    rngs = {"dropout": jax.random.PRNGKey(1)}
    for key in ("ff_dropout", "projection_dropout"):
        dropped = EncoderLayer(**sizes, activation="gelu", **{key: 0.3})
        train = fast_jit(lambda v, m=dropped: m.apply(v, x, mask, train=True, rngs=rngs, mutable=["batch_stats"])[0])
        plain = fast_jit(lambda v: layer.apply(v, x, mask, train=True, rngs=rngs, mutable=["batch_stats"])[0])
        assert not np.allclose(train(v), plain(v), atol=1e-4), key
        np.testing.assert_allclose(fast_jit(lambda v, m=dropped: m.apply(v, x, mask, train=False))(v), out, atol=1e-6)


def test_patch_attention_as_the_reference_code_builds_it():
    """BatchNorm and residual attention (PatchTST's defaults): in evaluation a window's forecast does not depend
    on the other windows of its batch (running statistics), in training it does (the batch's); each layer's
    attention reads the previous layer's scores."""
    model = PatchAttention(
        horizon=6, patch_len=8, stride=4, d_model=8, heads=2, ff_dim=16, layers=2, dropout=0.0,
        normalization="batch", residual_attention=True,
    )  # fmt: skip
    variables, output = init_and_apply(model)
    assert set(variables) == {"params", "batch_stats"} and np.all(np.isfinite(output.forecast))
    alone = fast_jit(model.apply)(variables, X[:1]).forecast
    np.testing.assert_allclose(alone, output.forecast[:1], atol=1e-5)
    train = fast_jit(lambda v, x: model.apply(v, x, train=True, mutable=["batch_stats"])[0].forecast)
    assert not np.allclose(train(variables, X[:1]), train(variables, X)[:1], atol=1e-4)
    plain = model.clone(residual_attention=False)
    assert not np.allclose(fast_jit(plain.apply)(variables, X).forecast, output.forecast, atol=1e-4)
    with pytest.raises(ValueError, match="model.normalization"):
        config = default_model_config()
        config.update({"name": "patch_attention", "normalization": "group"})
        check_model(config, 336)
    for key, value in (("activation", "swish"), ("ff_dropout", 1.0), ("projection_dropout", -0.1)):
        config = default_model_config()
        config.update({"name": "patch_attention", key: value})
        with pytest.raises(ValueError, match=f"model.{key}"):
            check_model(config, 336)
