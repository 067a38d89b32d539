"""The captioning task (issue 17; Xu et al. 2015): NumPy references for the doubly stochastic term, the beta gate
and deep output, the initial-state MLPs and the localization metric; the canvases and their captions; the builder
on a small IDX fixture; the hard attention estimator's sign on a toy problem; the one-line bad-input errors."""

from __future__ import annotations

import gzip
import importlib.util
import runpy
import struct
from pathlib import Path

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from attn_research.attention.hard import position_log_prob, reinforce_loss, sample_position
from attn_research.config_validation import validate_config
from attn_research.sweeps import expand, load_experiment
from attn_research.sweeps.spec import check_config_keys
from attn_research.tasks.captioning import data as canvases
from attn_research.tasks.captioning.metrics import bleu_scores, doubly_stochastic_penalty, localization_sums
from attn_research.tasks.captioning.model import CaptionModel, ImageEncoder, default_model_config, region_coordinates
from attn_research.tasks.captioning.plots import plot_caption_attention, upsample
from attn_research.tasks.captioning.task import CaptioningTask
from attn_research.training.state import create_train_state
from tests.helpers import fast_jit

ROOT = Path(__file__).resolve().parents[1]


def _config_module():
    spec = importlib.util.spec_from_file_location("captioning_config_under_test", ROOT / "configs" / "captioning.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sources(train=80, test=40, seed=0):
    """Random items with no zero pixel (an item's pixels are never background), labels 0-9."""
    rng = np.random.default_rng(seed)
    return {
        split: {
            "image": rng.integers(1, 256, size=(n, 28, 28, 1), dtype=np.uint8),
            "label": rng.integers(0, 10, size=n).astype(np.int64),
        }
        for split, n in (("train", train), ("test", test))
    }


def _data_config(**changes):
    data = canvases.default_data_config()
    data.update(
        {"height": 60, "width": 60, "train_canvases": 12, "validation_canvases": 6, "test_canvases": 6}
        | {"validation_sources": 20}
        | changes
    )
    return data


def _tiny_model(**changes) -> CaptionModel:
    config = default_model_config()
    config.update({"encoder_channels": (4, 8), "embed_dim": 6, "hidden": 10} | changes)
    config.attention.dim = 7
    return CaptionModel(ml_collections.FrozenConfigDict(config), len(canvases.WORDS))


# --------------------------------------------------------------------------------------- the metrics
def test_doubly_stochastic_penalty_against_numpy():
    rng = np.random.default_rng(0)
    alignments = rng.dirichlet(np.ones(5), size=(3, 4)).astype(np.float32)  # [batch 3, steps 4, L 5]
    mask = np.array([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]], bool)
    expected = [
        sum((1 - sum(alignments[b, t, i] for t in range(4) if mask[b, t])) ** 2 for i in range(5)) for b in range(3)
    ]
    np.testing.assert_allclose(
        doubly_stochastic_penalty(jnp.asarray(alignments), jnp.asarray(mask)), expected, rtol=1e-5
    )
    # one step attending everything to region 0: (1 - 1)^2 + 4 * (1 - 0)^2 = 4
    one_hot = np.zeros((1, 1, 5), np.float32)
    one_hot[0, 0, 0] = 1
    assert float(doubly_stochastic_penalty(jnp.asarray(one_hot), jnp.ones((1, 1), bool))[0]) == 4.0


def test_localization_on_hand_made_boxes_and_maps():
    """Grid 2 x 2 over a 4 x 4 image: each region a 2 x 2 cell. Item 0's box covers the top-left cell, item 1's
    box the right half (cells 1 and 3)."""
    boxes = np.array([[[0, 0, 2, 2], [0, 2, 4, 4]]])
    alignments = np.array([[[0.7, 0.1, 0.1, 0.1], [0.4, 0.3, 0.0, 0.3]]])  # word 1's argmax (0.4) is outside
    sums = localization_sums(alignments, boxes, np.array([2]), np.array([2]), (2, 2), 4, 4)
    assert sums["localized_words"] == 2 and sums["localization_hits"] == 1
    np.testing.assert_allclose(sums["localization_mass"], 0.7 + 0.6)
    # a box covering half a cell counts half its weight: box rows 0-1 of cell 0 (2 x 1 of 2 x 2 pixels)
    half = localization_sums(
        np.array([[[1.0, 0, 0, 0]]]), np.array([[[0, 0, 2, 1]]]), np.array([1]), np.array([1]), (2, 2), 4, 4
    )
    np.testing.assert_allclose(half["localization_mass"], 0.5)
    assert half["localization_hits"] == 0  # the cell centre (1, 1) lies at column 1, outside [0, 1)
    # only words t < min(generated, gold items) count
    short = localization_sums(alignments, boxes, np.array([2]), np.array([1]), (2, 2), 4, 4)
    assert short["localized_words"] == 1 and short["localization_hits"] == 1


def test_bleu_orders_and_exact_caption():
    scores = bleu_scores(["Trouser Bag Sandal", "Coat"], ["Trouser Bag Sandal", "Coat"])
    assert all(abs(scores[f"bleu{n}"] - 100.0) < 1e-6 for n in (1, 2, 3, 4))  # no 4-gram: BLEU-4 is BLEU-3
    wrong = bleu_scores(["Bag Trouser Sandal"], ["Trouser Bag Sandal"])
    assert wrong["bleu1"] == pytest.approx(100.0) and wrong["bleu2"] < 100.0  # the words right, the order wrong


# ---------------------------------------------------------------------------------------- the model
@pytest.fixture(scope="module")
def tiny_step():
    """A tiny model's variables, one canvas batch, and the first decoder step's pieces."""
    model = _tiny_model()
    images = jnp.asarray(np.random.default_rng(1).integers(0, 256, size=(2, 56, 56, 1), dtype=np.uint8))
    target_input = jnp.array([[1, 4, 5], [1, 7, 0]], jnp.int32)
    variables = fast_jit(lambda: model.init(jax.random.PRNGKey(0), images, target_input, train=False))()

    def first_step(m, images, token):
        encoded = m.encode(images)
        carry = m.init_carry(encoded)
        new_carry, logits, weights, beta = m.decoder(encoded, carry, token)
        return encoded, carry, new_carry, logits, weights, beta

    token = jnp.array([1, 1], jnp.int32)
    pieces = fast_jit(lambda v: model.apply(v, images, token, method=first_step))(variables)
    return model, variables, images, token, jax.device_get(pieces)


def test_initial_state_mlps_read_the_mean_annotation(tiny_step):
    _, variables, _, _, (encoded, carry, *_) = tiny_step
    params = variables["params"]
    annotations = np.asarray(encoded.annotations)
    assert annotations.shape == (2, 14 * 14, 8 + 2)  # two pooling stages: 56 / 4 = 14, D = 8 + (row, column)
    mean = annotations.mean(axis=1)
    for name, part in (("f_init_c", 0), ("f_init_h", 1)):
        expected = np.tanh(mean @ np.asarray(params[name]["kernel"]) + np.asarray(params[name]["bias"]))
        np.testing.assert_allclose(np.asarray(carry["rnn"][0][part]), expected, rtol=1e-5, atol=1e-6)


def test_annotations_end_with_their_region_centre(tiny_step):
    """CoordConv features: region k = 14 r + c of the 14 x 14 grid carries (r, c) scaled to [-1, 1] by (2 x / 13) - 1
    (the pixel centre of a region is 4 x + 1.5 on the 56-pixel canvas: an affine map of x), the same for every image."""
    annotations = np.asarray(tiny_step[4][0].annotations)
    rows, columns = np.divmod(np.arange(14 * 14), 14)
    expected = np.stack([2 * rows / 13 - 1, 2 * columns / 13 - 1], axis=-1)
    for image in annotations:
        np.testing.assert_allclose(image[:, -2:], expected, atol=1e-6)
    assert region_coordinates(1, 3).tolist() == [[0.0, -1.0], [0.0, 0.0], [0.0, 1.0]]


def test_without_coordinates_the_annotations_are_the_cnn_features():
    images = np.random.default_rng(0).integers(0, 256, (2, 56, 56, 1)).astype(np.uint8)
    plain, with_coordinates = ImageEncoder((4, 8)), ImageEncoder((4, 8), coordinates=True)
    variables = plain.init(jax.random.PRNGKey(0), images)
    features = np.asarray(plain.apply(variables, images))
    assert features.shape == (2, 196, 8)
    np.testing.assert_array_equal(np.asarray(with_coordinates.apply(variables, images))[..., :8], features)


def _conv3x3_same(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """x [batch, H, W, C_in] * kernel [3, 3, C_in, C_out] + bias, zero padding of 1 (SAME), as a plain loop."""
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    out = np.zeros(x.shape[:3] + (kernel.shape[-1],))
    for dy in range(3):
        for dx in range(3):
            out += padded[:, dy : dy + x.shape[1], dx : dx + x.shape[2], :] @ kernel[dy, dx]
    return out + bias


def test_grid_layers_convolve_the_pooled_grid_against_numpy():
    """grid_layers = 1: a_i = relu(conv3x3(the pooled stages' grid)), the grid flattened in reading order."""
    images = np.random.default_rng(0).integers(0, 256, (2, 56, 56, 1)).astype(np.uint8)
    plain, deeper = ImageEncoder((4, 8)), ImageEncoder((4, 8), grid_layers=1)
    variables = deeper.init(jax.random.PRNGKey(0), images)
    stages = {"params": {k: v for k, v in variables["params"].items() if k.startswith("conv_")}}
    grid = np.asarray(plain.apply(stages, images), np.float64).reshape(2, 14, 14, 8)
    layer = variables["params"]["grid_conv_0"]
    expected = np.maximum(_conv3x3_same(grid, np.asarray(layer["kernel"]), np.asarray(layer["bias"])), 0.0)
    np.testing.assert_allclose(np.asarray(deeper.apply(variables, images)), expected.reshape(2, 196, 8), atol=1e-5)


def test_a_grid_layer_widens_what_a_region_sees():
    """Region (0, 0) after two conv + pool stages sees pixels 0-6 of each axis (SAME padding), after one grid layer
    pixels 0-10 (one more region on each side, 4 pixels a region): a pixel at (8, 8) reaches it only with the layer."""
    images = np.random.default_rng(1).integers(0, 256, (1, 56, 56, 1)).astype(np.uint8)
    changed = images.copy()
    changed[0, 8, 8, 0] = 255 - images[0, 8, 8, 0]
    for grid_layers, reaches in ((0, False), (1, True)):
        encoder = ImageEncoder((4, 8), grid_layers=grid_layers)
        variables = encoder.init(jax.random.PRNGKey(0), images)
        before, after = (np.asarray(encoder.apply(variables, x))[0, 0] for x in (images, changed))
        assert (not np.allclose(before, after)) == reaches, grid_layers


def test_beta_gate_lstm_input_and_deep_output_against_numpy(tiny_step):
    """z = sigmoid(f_beta(h_0)) sum_i alpha_i a_i; LSTM((c_0, h_0), [E y; z]); logits = L_o(E y + L_h h_1 + L_z z)."""
    _, variables, _, token, (encoded, carry, new_carry, logits, weights, beta) = tiny_step
    p = variables["params"]["decoder"]
    h0 = np.asarray(carry["rnn"][0][1])
    expected_beta = 1 / (1 + np.exp(-(h0 @ np.asarray(p["f_beta"]["kernel"]) + np.asarray(p["f_beta"]["bias"]))))
    np.testing.assert_allclose(beta, expected_beta[:, 0], rtol=1e-5)
    np.testing.assert_allclose(np.sum(weights, axis=-1), 1.0, rtol=1e-5)
    z = beta[:, None] * np.einsum("bl,bld->bd", weights, np.asarray(encoded.annotations))
    y = np.asarray(p["embed"]["embedding"])[np.asarray(token)]
    cell = nn.OptimizedLSTMCell(10)
    expected_carry, _ = cell.apply({"params": p["cell"]}, carry["rnn"][0], jnp.asarray(np.concatenate([y, z], -1)))
    np.testing.assert_allclose(new_carry["rnn"][0][1], expected_carry[1], rtol=1e-4, atol=1e-6)
    h1 = np.asarray(new_carry["rnn"][0][1])
    deep = y + h1 @ np.asarray(p["L_h"]["kernel"]) + z @ np.asarray(p["L_z"]["kernel"])
    expected = deep @ np.asarray(p["L_o"]["kernel"]) + np.asarray(p["L_o"]["bias"])
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.slow  # compiles two more models: about 100 s on the starved shared cores, several s on free ones
def test_teacher_forced_call_agrees_with_the_step_and_mean_context(tiny_step):
    model, variables, images, _, (_, _, _, logits, weights, beta) = tiny_step
    target_input = jnp.array([[1, 4, 5], [1, 7, 0]], jnp.int32)
    out = fast_jit(lambda v: model.apply(v, images, target_input, train=False))(variables)
    np.testing.assert_allclose(out.logits[:, 0], logits, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.alignments[:, 0], weights, rtol=1e-5, atol=1e-7)
    assert out.logits.shape == (2, 3, len(canvases.WORDS)) and out.betas.shape == (2, 3)
    mean_model = _tiny_model(context="mean", selector=False)
    mean_vars = fast_jit(lambda: mean_model.init(jax.random.PRNGKey(0), images, target_input, train=False))()
    assert "attention" not in mean_vars["params"]["decoder"]
    out = fast_jit(lambda v: mean_model.apply(v, images, target_input, train=False))(mean_vars)
    assert float(jnp.abs(out.alignments).max()) == 0.0 and float(jnp.min(out.betas)) == 1.0


# ---------------------------------------------------------------------------- hard attention's estimator
def test_reinforce_gradient_points_towards_the_rewarded_region():
    """A toy: alignment softmax(theta) over 3 regions, reward 1 for region 2, else 0. The REINFORCE surrogate
    (attention/hard.py, eq. 12) averaged over samples has d loss / d theta_2 < 0 and > 0 for the others, and the
    Monte-Carlo gradient is close to the exact -d E[R] / d theta = -a_2 (onehot_2 - a)."""
    theta = jnp.array([0.3, -0.2, 0.1])
    samples = 20000

    def surrogate(theta, rng):
        alignment = jnp.broadcast_to(jax.nn.softmax(theta), (samples, 1, 3))
        position = sample_position(rng, jax.lax.stop_gradient(alignment))
        log_prob = position_log_prob(alignment, position)  # [samples, 1]
        reward = (position[:, 0] == 2).astype(jnp.float32)
        loss, _ = reinforce_loss(log_prob, jnp.zeros_like(log_prob), jnp.ones_like(log_prob, bool), -reward, 0.3, 0.0)
        return loss

    grad = np.asarray(jax.jit(jax.grad(surrogate))(theta, jax.random.PRNGKey(0)))
    a = np.asarray(jax.nn.softmax(theta))
    exact = -a[2] * (np.eye(3)[2] - a)
    assert grad[2] < 0 and grad[0] > 0 and grad[1] > 0
    np.testing.assert_allclose(grad, exact, atol=0.02)


@pytest.mark.slow  # a train state for the task (compiles its init): several s of CPU
def test_hard_attention_model_sows_the_reinforce_term():
    config = _config_module().get_config("attention=hard")
    config.data = _data_config()
    config.model.update({"encoder_channels": (4, 8), "embed_dim": 6, "hidden": 10})
    config.model.attention.dim = 7
    task = CaptioningTask(config)
    data = canvases.build_caption_data(_sources(), config.data)
    arrays = task.step_arrays(task.train_batches(data, 4, 0, 0, True)[0])
    state = create_train_state(task, task.build_model(data), optax.sgd(0.1), arrays, 0)
    assert [name for name, _ in state.terms] == ["reinforce"]
    assert state.terms[0][1].entropy_weight == 0.01


# ------------------------------------------------------------------------------------ data and captions
def test_canvases_are_deterministic_by_seed_with_captions_of_their_items():
    sources, data = _sources(), _data_config()
    first, again = canvases.build_caption_data(sources, data), canvases.build_caption_data(sources, data)
    other = canvases.build_caption_data(sources, _data_config(seed=7))
    assert set(first.splits) == {"train", "validation", "test", "test_long"}
    for name, split in first.splits.items():
        np.testing.assert_array_equal(split.images, again.splits[name].images)
        np.testing.assert_array_equal(split.target_output, again.splits[name].target_output)
    assert not np.array_equal(first.splits["train"].images, other.splits["train"].images)
    assert set(first.splits["test_long"].num_items.tolist()) == {4}
    assert set(first.splits["train"].num_items.tolist()) <= {1, 2, 3}
    validation_items = {img.tobytes() for img in sources["train"]["image"][-20:, :, :, 0]}
    for name, split in first.splits.items():
        for i in range(len(split)):
            n = int(split.num_items[i])
            for t in range(n):  # the box holds an item of the caption's class, a pixel-exact source image
                top, left, bottom, right = split.boxes[i, t]
                patch = split.images[i, top:bottom, left:right, 0]
                assert patch.shape == (28, 28) and patch.min() > 0
                pool = sources["test" if name.startswith("test") else "train"]
                match = [k for k, img in enumerate(pool["image"][:, :, :, 0]) if np.array_equal(img, patch)]
                assert match and pool["label"][match[0]] + 3 == split.target_output[i, t]
                if name in ("train", "validation"):
                    assert (patch.tobytes() in validation_items) == (name == "validation")
            assert split.target_output[i, n] == canvases.EOS_ID and split.target_input[i, 0] == canvases.BOS_ID
            np.testing.assert_array_equal(split.target_input[i, 1 : n + 1], split.target_output[i, :n])
            assert split.target_mask[i].sum() == n + 1
    words = canvases.caption_text(np.array([3 + 9, 3 + 1, canvases.EOS_ID, 0]))
    assert words == "Ankle_boot Trouser"


def test_classes_select_the_source_images():
    data = canvases.build_caption_data(_sources(), _data_config(classes="Trouser, Bag,Coat"))
    used = {int(t) - 3 for split in data.splits.values() for t in split.target_output.ravel() if t >= 3}
    assert used <= {1, 4, 8} and used


def _write_idx(path, array):
    header = struct.pack(f">BBBB{array.ndim}i", 0, 0, 8, array.ndim, *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.mark.slow  # prepares a TFDS data set (about 10 s on the shared cores)
def test_load_caption_data_through_the_builder_on_a_small_fixture(tmp_path):
    sources = _sources(train=40, test=12)
    manual = tmp_path / "fmnist"
    manual.mkdir()
    for split, prefix in (("train", "train"), ("test", "t10k")):
        _write_idx(manual / f"{prefix}-images-idx3-ubyte.gz", sources[split]["image"][..., 0])
        _write_idx(manual / f"{prefix}-labels-idx1-ubyte.gz", sources[split]["label"])
    config = _data_config(manual_dir=str(manual), tfds_dir=str(tmp_path / "tfds"))
    loaded = canvases.load_caption_data(config)
    direct = canvases.build_caption_data(sources, config)
    for name in direct.splits:
        np.testing.assert_array_equal(loaded.splits[name].images, direct.splits[name].images)
        np.testing.assert_array_equal(loaded.splits[name].target_output, direct.splits[name].target_output)


# ---------------------------------------------------------------------------------- bad input, one line
@pytest.mark.parametrize(
    "changes, message",
    [
        ({"data.height": 48}, "data.height x data.width = 48 x 64 holds at most 2 items"),
        ({"data.test_long_items": 5}, "data.test_long_items = 5"),
        ({"data.classes": "Trousers"}, "unknown class name in data.classes 'Trousers'"),
        ({"model.context": "glimpse"}, "unknown captioning context (model.context)"),
        ({"model.attention.score": "adittive"}, "Did you mean 'additive'"),
        ({"model.encoder_channels": (8, 8, 8, 8, 8, 8, 8)}, "divisible by 128"),
        ({"model.grid_layers": -1}, "model.grid_layers must be >= 0, got -1"),
    ],
)
def test_bad_config_is_a_one_line_error(changes, message):
    config = _config_module().get_config("")
    for key, value in changes.items():
        section, *rest = key.split(".")
        node = config[section]
        for part in rest[:-1]:
            node = node[part]
        node[rest[-1]] = value
    with pytest.raises(ValueError, match=None) as error:
        validate_config(config)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_missing_data_files_name_the_file(tmp_path):
    (tmp_path / "fmnist").mkdir()
    (tmp_path / "fmnist" / "train-images-idx3-ubyte.gz").write_bytes(b"")
    config = _data_config(manual_dir=str(tmp_path / "fmnist"), tfds_dir=str(tmp_path / "tfds"))
    with pytest.raises(FileNotFoundError) as error:
        canvases.load_caption_data(config)
    assert "train-labels-idx1-ubyte.gz" in str(error.value) and "\n" not in str(error.value)


def test_config_arguments():
    module = _config_module()
    with pytest.raises(ValueError, match="unknown captioning attention 'sofft'"):
        module.get_config("attention=sofft")
    assert module.get_config("attention=gumbel").model.attention.estimator == "gumbel"
    assert module.get_config("attention=none").model.context == "mean"


# ------------------------------------------------------------------------------------------------ plots
def test_upsample_and_attention_picture(tmp_path):
    heat = upsample(np.array([0.1, 0.2, 0.3, 0.4]), (2, 2), 4, 6)
    np.testing.assert_allclose(heat[:2, :3], 0.1, rtol=1e-6)
    np.testing.assert_allclose(heat[2:, 3:], 0.4, rtol=1e-6)
    assert heat.shape == (4, 6) and np.isclose(heat.sum(), 6 * (0.1 + 0.2 + 0.3 + 0.4))
    path = plot_caption_attention(
        np.zeros((56, 56, 1), np.uint8),
        np.full((2, 196), 1 / 196),
        ["Bag", "Coat"],
        (14, 14),
        str(tmp_path / "a" / "p.png"),
        boxes=np.array([[0, 0, 28, 28]]),
    )
    assert Path(path).stat().st_size > 0


# ------------------------------------------------------------------------------------------- experiment
PUBLISHED = ROOT.parent / "shared" / "docs" / "published_numbers.md"


def test_experiment_points_keys_and_published_cells():
    path = str(ROOT / "experiments" / "xu2015_soft_hard.py")
    experiment = load_experiment(path)
    check_config_keys(experiment, path)
    points = expand.points(experiment, "full")
    rows = {experiment.table.row_label(expand.without_seed(p)) for p in points}
    assert rows == {
        "soft",
        "soft, no doubly stochastic term",
        "soft, no region coordinates",
        "hard (REINFORCE)",
        "hard (Gumbel straight-through)",
        "no attention (mean annotation)",
    }
    assert len(points) == 6 * 3 and len(expand.points(experiment, "smoke")) <= 4
    assert set(experiment.table.published) <= rows
    if PUBLISHED.is_file():  # each published cell is a cell of Xu et al.'s Flickr8k row, as transcribed
        module = runpy.run_path(path)
        text = PUBLISHED.read_text()
        for label, cells in experiment.table.published.items():
            row = next(
                line
                for line in text.splitlines()
                if line.startswith(f"| Flickr8k | {module['PUBLISHED_ROWS'][label]} |")
            )
            assert set(cells.values()) <= {cell.strip() for cell in row.split("|")}, (label, row)
