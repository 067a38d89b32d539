"""The glimpses task end to end (Mnih et al. 2014): a tiny RAM learns where to look (REINFORCE moves its policy onto
the item, its classification beats chance), the model's output shapes and location convention, the one-line
errors for bad configs, the glimpse picture, and the experiment's rows, keys, published cells and findings."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import jax
import ml_collections
import numpy as np
import optax
import pytest

from attn_research.config_validation import validate_config
from attn_research.sweeps import expand, load_experiment
from attn_research.sweeps.aggregate import Row, Stat
from attn_research.sweeps.spec import check_config_keys
from attn_research.tasks.glimpses import data as glimpse_data
from attn_research.tasks.glimpses.metrics import glimpses_on_item
from attn_research.tasks.glimpses.model import RecurrentAttentionModel, default_model_config
from attn_research.tasks.glimpses.plots import plot_glimpse_path
from attn_research.tasks.glimpses.task import GlimpsesTask
from attn_research.training.state import create_train_state
from attn_research.training.steps import train_step
from tests.helpers import fast_jit

ROOT = Path(__file__).resolve().parents[1]


def _config(arg="model=ram,variant=translated,glimpses=2", **model):
    spec = importlib.util.spec_from_file_location("glimpses_config_under_test", ROOT / "configs" / "glimpses.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = module.get_config(arg)
    config.model.update(model)
    return config


def _corner_task(count: int, seed: int):
    """16 x 16 canvases, a 6 x 6 item always in the top-left corner: three horizontal bars (class 0) or three
    vertical bars (class 1). A 4 x 4 glimpse at the centre (pixels 6-9) misses it; only one moved up and left
    (l < 0 in both coordinates) tells them apart."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=count).astype(np.int32)
    images = np.zeros((count, 16, 16, 1), np.uint8)
    for image, label in zip(images, labels):
        if label == 0:
            image[0:6:2, 0:6, 0] = 255
        else:
            image[0:6, 0:6:2, 0] = 255
    boxes = np.tile(np.array([0, 0, 6, 6]), (count, 1))
    return glimpse_data.GlimpseSplit(images, labels, boxes)


@pytest.mark.slow  # 96 updates of a tiny RAM: 17 s alone (imports included), 53 s beside a sweep (2026-12-03)
def test_ram_learns_to_look_at_the_item_and_beats_chance():
    """Glimpse 1 (at the centre, one 4 x 4 scale) sees nothing; REINFORCE must move glimpse 2 to the corner. After
    training, the policy's mean location lies in the top-left quadrant and the test accuracy beats chance (50%)
    by far."""
    config = _config(glimpse_size=4, scales=1, glimpse_hidden=16, glimpse_features=32, hidden=32, location_std=0.3)
    config.model.glimpses = 2
    config.model = ml_collections.FrozenConfigDict(config.model)
    task = GlimpsesTask(config)
    data = glimpse_data.GlimpseData({"train": _corner_task(2048, 0)}, ("bar", "column"), 16)
    model = RecurrentAttentionModel(config.model, 2)
    batches = glimpse_data.train_batches(data, 64, seed=0, epoch=0)
    state = create_train_state(task, model, optax.adam(1e-2), task.step_arrays(batches[0]), 0)
    for epoch in range(3):  # 96 updates (it looks at the corner after about 64)
        for batch in glimpse_data.train_batches(data, 64, seed=0, epoch=epoch):
            state, _ = train_step(state, task.step_arrays(batch))
    test = _corner_task(256, 1)
    output = model.apply({"params": state.params}, test.images, train=False)
    accuracy = float(np.mean(np.argmax(output.logits, -1) == test.labels))
    second = np.asarray(output.locations[:, 1])
    assert np.all(second < -0.3), second.mean(0)  # every canvas: glimpse 2 goes up and left, onto the item
    assert glimpses_on_item(np.asarray(output.locations[:, 1:]), test.boxes, 16) > 0.5
    assert accuracy > 0.9


def test_output_shapes_and_first_glimpse_at_the_centre():
    config = default_model_config()
    config.update({"glimpses": 3, "glimpse_size": 4, "scales": 2, "glimpse_hidden": 5, "glimpse_features": 6})
    config.hidden = 7
    model = RecurrentAttentionModel(ml_collections.FrozenConfigDict(config), 10)
    images = np.zeros((2, 20, 20, 1), np.uint8)
    key = jax.random.PRNGKey(1)
    params = fast_jit(model.init)(jax.random.PRNGKey(0), images)["params"]
    apply = fast_jit(lambda params, images: model.apply({"params": params}, images, train=True, rngs={"sampling": key}))
    out = apply(params, images)
    assert out.logits.shape == (2, 10) and out.locations.shape == (2, 3, 2)
    assert out.log_probs.shape == (2, 2) and out.baselines.shape == (2, 2)
    np.testing.assert_array_equal(np.asarray(out.locations[:, 0]), 0.0)
    assert np.all(np.abs(np.asarray(out.locations)) <= 1.0)
    config.locations = "random"
    random = RecurrentAttentionModel(ml_collections.FrozenConfigDict(config), 10)
    out = fast_jit(lambda params, images: random.apply({"params": params}, images, train=False))(params, images)
    assert out.log_probs is None and out.locations.shape == (2, 3, 2)


@pytest.mark.parametrize(
    "arg,model,message",
    [
        ("model=ram,variant=centered,glimpses=0", {}, r"model.glimpses must be >= 1"),
        ("model=ram,variant=centered,glimpses=4", {"glimpse_size": 40}, r"larger than the 28 x 28 canvas"),
        ("model=ram,variant=translated,glimpses=4", {"locations": "randm"}, r"unknown glimpse locations"),
        ("model=conv,variant=centered,glimpses=4", {"conv_kernel": 30}, r"model.conv_kernel must be in 1..28"),
        ("model=ram,variant=translated,glimpses=4", {"location_std": 0.0}, r"model.location_std must be > 0"),
    ],
)
def test_bad_config_is_a_one_line_error(arg, model, message):
    config = _config(arg, **model)
    with pytest.raises(ValueError, match=message) as error:
        validate_config(config)
    assert "\n" not in str(error.value)


def test_unknown_variant_or_model_argument_is_a_one_line_error():
    for arg, message in (("variant=clutter", "unknown glimpses variant"), ("model=cnn", "unknown glimpses model")):
        with pytest.raises(ValueError, match=message) as error:
            _config(arg)
        assert "\n" not in str(error.value)


def test_glimpses_on_item_and_the_path_picture(tmp_path):
    boxes = np.array([[0, 0, 28, 28], [32, 32, 60, 60]])
    locations = np.array([[[-0.9, -0.9], [0.9, 0.9]], [[0.5, 0.5], [-0.5, 0.5]]])  # 60 x 60 canvases
    assert glimpses_on_item(locations, boxes, 60) == pytest.approx(0.5)  # (3, 3) in box 0; (45, 45) in box 1
    path = plot_glimpse_path(
        np.zeros((60, 60, 1), np.uint8),
        locations[0],
        str(tmp_path / "a" / "p.png"),
        glimpse_size=8,
        scales=3,
        box=boxes[0],
        title="t",
    )
    assert Path(path).stat().st_size > 0
    with pytest.raises(ValueError, match="locations must be"):
        plot_glimpse_path(np.zeros((60, 60)), locations, str(tmp_path / "q.png"), glimpse_size=8, scales=3)


# ------------------------------------------------------------------------------------------- experiment
PUBLISHED = ROOT.parent / "shared" / "docs" / "published_numbers.md"
PATH = str(ROOT / "experiments" / "mnih2014_ram.py")


def test_experiment_points_keys_and_published_cells():
    experiment = load_experiment(PATH)
    check_config_keys(experiment, PATH)
    points = expand.points(experiment, "full")
    assert len(points) == 6 * 3 * 3
    rows = {experiment.table.row_label(expand.without_seed(p)) for p in points}
    assert len(rows) == 18 and set(experiment.table.published) <= rows
    assert len(expand.points(experiment, "smoke")) == 2
    if PUBLISHED.is_file():  # every published cell is in its canvas's column of section 10's table, as printed
        section = PUBLISHED.read_text().split("## 10.")[1].split("## 11.")[0]
        lines = [line for line in section.splitlines() if re.match(r"\| \S", line) and "---" not in line]
        table = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[1:]]
        for label, cells in experiment.table.published.items():
            model, variant = label.split(" · ")
            column = ["28x28 centered", "60x60 translated", "60x60 cluttered"].index(variant)
            glimpses = re.findall(r"\d+", model)[:1] if model.startswith("RAM") else []
            matches = [
                row[2 * column + 1]
                for row in table
                if row[2 * column].split(" ")[0] == model.split(",")[0]
                and ("random" in row[2 * column]) == ("random" in model)
                and all(re.search(rf"\b{n}\b", row[2 * column]) for n in glimpses)
            ]
            assert matches == [cells["test/error"]], (label, matches)


def _row(label, error, std=0.01, on_item=None, runs=3):
    stats = {"test/error": Stat(error, std, error, runs)}
    if on_item is not None:
        stats["test/glimpses_on_item"] = Stat(on_item, 0.01, on_item, runs)
    return Row(label, {}, runs, 3, stats)


def test_findings_are_computed_from_the_rows():
    experiment = load_experiment(PATH)
    rows = [
        _row("RAM, 8 glimpses · 28x28 centered", 0.120),
        _row("Conv, 2 layers · 28x28 centered", 0.115),
        _row("RAM, 8 glimpses · 60x60 cluttered", 0.30, on_item=0.6),
        _row("Conv, 2 layers · 60x60 cluttered", 0.25),
        _row("RAM, 8 random glimpses · 60x60 cluttered", 0.45, on_item=0.2, runs=2),
        _row("RAM, 4 glimpses · 60x60 cluttered", 0.40),
        _row("RAM, 6 glimpses · 60x60 cluttered", 0.35),
    ]
    lines = experiment.table.findings(rows)
    text = "\n".join(lines)
    assert "centered items: holds" in text
    assert "below the conv net on 60x60 cluttered: does not hold" in text
    assert "random glimpses (8) on 60x60 cluttered: holds, by more than the seeds' spread" in text
    assert "on the item 60% learned vs 20% random" in text
    assert "(4 > 6 > 8): holds" in text
    assert "RAM, 8 random glimpses · 60x60 cluttered (1)" in lines[-1]
