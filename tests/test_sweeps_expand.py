"""Sweep expansion (grid, random, bayes through wandb's `sweeps` engine), run names, experiment validation."""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import random

import pytest

from attn_research.sweeps import Block, Experiment, Metric, Scale, Table, expand
from attn_research.sweeps.spec import base_config, check_config_keys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def experiment(method="grid", blocks=None, seeds=(0,), count=0, **changes):
    fields = dict(
        name="toy",
        title="toy",
        config="configs/synthetic.py:task=reverse",
        method=method,
        blocks=blocks or (Block({"model.attention.score": ["dot", "general"]}),),
        scales={"smoke": Scale("tiny", seeds=seeds, count=count)},
        table=Table(metrics=(Metric("test/bleu", "BLEU"),), row_label=str),
        objective=Metric("validation/bleu", "BLEU"),
    )
    fields.update(changes)
    return Experiment(**fields)


def test_grid_is_every_combination_of_values_and_seeds():
    block = Block(
        {
            "model.attention.score": ["dot", "general", "concat"],
            "model.attention.window": ["global", "local_p"],
            "model.bridge": "last",
        }
    )
    points = expand.points(experiment(blocks=(block,), seeds=(0, 1)), "smoke")
    expected = {
        ("model.attention.score", s, "model.attention.window", w, "seed", seed)
        for s, w, seed in itertools.product(["dot", "general", "concat"], ["global", "local_p"], [0, 1])
    }
    got = {
        (
            "model.attention.score",
            p["model.attention.score"],
            "model.attention.window",
            p["model.attention.window"],
            "seed",
            p["seed"],
        )
        for p in points
    }
    assert len(points) == 12 and got == expected
    assert all(p["model.bridge"] == "last" for p in points)
    assert len({expand.run_name(p) for p in points}) == 12


def test_an_experiment_is_the_union_of_its_blocks():
    blocks = (
        Block({"model.attention.dim": [8, 16]}, name="a"),
        Block({"model.decoder": ["none_state", "none_input"], "model.bridge": "last"}, name="b"),
    )
    points = expand.points(experiment(blocks=blocks, seeds=(3, 4, 5)), "smoke")
    assert len(points) == 2 * 3 + 2 * 3
    assert sum("model.decoder" in p for p in points) == 6 and sum("model.attention.dim" in p for p in points) == 6
    assert sorted(p["seed"] for p in points) == [3] * 4 + [4] * 4 + [5] * 4


def test_random_draws_lie_in_their_distributions_repeat_per_seed_and_are_reproducible():
    block = Block(
        {
            "train.learning_rate": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-2},
            "model.cell": ["gru", "lstm"],
            "model.attention.dim": {"distribution": "int_uniform", "min": 8, "max": 64},
        }
    )
    spec = experiment(method="random", blocks=(block,), seeds=(0, 1), count=6)
    before = random.getstate()
    points = expand.points(spec, "smoke")
    assert random.getstate() == before, "the global random state must be left as it was"
    assert len(points) == 12
    draws = [expand.without_seed(p) for p in points]
    assert all(draws[i] == draws[i + 1] for i in range(0, 12, 2)), "each draw runs once per seed"
    assert [p["seed"] for p in points] == [0, 1] * 6
    for draw in draws:
        assert 1e-4 <= draw["train.learning_rate"] <= 1e-2 and type(draw["train.learning_rate"]) is float
        assert draw["model.cell"] in ("gru", "lstm")
        assert 8 <= draw["model.attention.dim"] <= 64 and type(draw["model.attention.dim"]) is int
    assert len({expand.run_name(d) for d in draws}) == 6, "six different draws"
    assert expand.points(spec, "smoke") == points, "a resumed sweep must draw the same points"
    logs = [math.log10(d["train.learning_rate"]) for d in draws]
    assert max(logs) - min(logs) > 0.1


def test_bayes_proposes_draws_inside_the_bounds_from_a_history():
    block = Block({"train.learning_rate": {"min": 0.001, "max": 0.1}, "model.attention.dim": [8, 16, 32]})
    history = [
        ({"train.learning_rate": 0.01, "model.attention.dim": 8}, 10.0),
        ({"train.learning_rate": 0.05, "model.attention.dim": 16}, 20.0),
        ({"train.learning_rate": 0.09, "model.attention.dim": 32}, None),
    ]  # failed
    draws = expand.bayes_draws(block, {"name": "final/validation/bleu", "goal": "maximize"}, history, n=2)
    assert len(draws) == 2
    for draw in draws:
        assert 0.001 <= draw["train.learning_rate"] <= 0.1 and draw["model.attention.dim"] in (8, 16, 32)


def test_run_names_are_safe_sorted_with_the_seed_last_and_the_same_from_wandb_strings():
    point = {"model.attention.window": "local_p", "model.attention.score": "general", "seed": 1}
    assert expand.run_name(point) == "score=general,window=local_p,seed=1"
    clash = {"data.max_len": 15, "model.attention.max_len": 64, "model.cell": "gru/lstm x"}
    assert expand.run_name(clash) == "data.max_len=15,model.attention.max_len=64,cell=gru_lstm_x"
    typed = {"model.attention.dim": 128, "model.bidirectional": False, "train.learning_rate": 0.001, "seed": 2}
    as_passed_by_wandb = {k: str(v) for k, v in typed.items()}
    assert expand.run_name(typed) == expand.run_name(as_passed_by_wandb)


def test_a_long_run_name_is_cut_with_a_digest_of_the_whole_before_the_seed():
    point = {f"model.key_{i:02d}": "value" for i in range(20)}  # 20 x 17 characters
    names = {}
    for last, seed in (("value", 0), ("value", 1), ("other", 0)):
        names[last, seed] = expand.run_name({**point, "model.key_19": last, "seed": seed})
    full = ",".join(f"key_{i:02d}=value" for i in range(20)) + ",seed=0"
    digest = hashlib.sha1(full[: -len(",seed=0")].encode()).hexdigest()[:10]
    assert names["value", 0] == full[: 200 - len(",seed=0") - 11] + "~" + digest + ",seed=0"
    assert all(len(name) == 200 for name in names.values()) and len(set(names.values())) == 3
    assert names["value", 1].removesuffix(",seed=1") == names["value", 0].removesuffix(",seed=0")
    short = {"model.attention.score": "general", "seed": 0}
    assert expand.run_name(short) == "score=general,seed=0"  # under the limit: unchanged


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(method="gird"), "valid choices: bayes, grid, random"),
        (dict(blocks=(Block({"model.cell": {"min": 1, "max": 2}}),)), "needs a list of values"),
        (dict(blocks=(Block({"model.cell": []}),)), "empty list"),
        (dict(blocks=(Block({"model.cell": ["gru", "gru"]}),)), "twice"),
        (dict(blocks=(Block({"config.model.cell": ["gru"]}),)), "no 'config.' prefix"),
        (dict(blocks=(Block({"seed": [1, 2]}),)), "Scale.seeds"),
        (dict(blocks=(Block({"model.cell": [["gru"]]}),)), "must be str, int, float or bool"),
        (dict(blocks=(Block({"model.cell": ["gru"]}), Block({"model.cell": ["lstm"]}))), "distinct names"),
        (dict(name="Toy Table"), "must match"),
        (dict(config="configs/synthetic:task=reverse"), r"must be '<file>.py\[:<arg>\]'"),
        (dict(scales={"smoke": Scale("tiny", seeds=())}), "seeds"),
        (dict(method="random"), "count >= 1"),
        (dict(objective=Metric("eval/bleu", "BLEU")), "validation/<metric>"),
    ],
)
def test_malformed_experiments_are_refused_with_a_clear_message(change, message):
    with pytest.raises(ValueError, match=message):
        experiment(**change)


def test_unknown_scale_names_the_valid_ones():
    with pytest.raises(ValueError, match="valid choices: smoke"):
        experiment().scale("ful")


def test_a_config_file_without_arguments_is_the_config_of_its_defaults():
    path = os.path.join(REPO, "experiments", "toy.py")  # config paths are relative to the repository root
    alone, named = experiment(config="configs/synthetic.py"), experiment(config="configs/synthetic.py:task=sort")
    assert base_config(alone, path).to_dict() == base_config(experiment(), path).to_dict()  # task=reverse
    assert base_config(named, path).data.task == "sort" and base_config(alone, path).data.task == "reverse"


def test_config_keys_are_checked_against_the_base_config():
    path = os.path.join(REPO, "experiments", "toy.py")  # config paths are relative to the repository root
    check_config_keys(experiment(blocks=(Block({"model.attention.score": ["dot"]}),)), path)
    with pytest.raises(ValueError, match="unknown config key 'model.atention.score'.*attention"):
        check_config_keys(experiment(blocks=(Block({"model.atention.score": ["dot"]}),)), path)
    with pytest.raises(ValueError, match="unknown config key 'seed.x'"):
        check_config_keys(experiment(overrides={"seed.x": 1}), path)


# --- without wandb's `sweeps` package (issue 16, item 13) -------------------------------------------------

_BLOCK = Block(
    {
        "model.attention.score": ["dot", "general", "dot"],
        "model.attention.window": ["global", "local_p"],
        "train.learning_rate": [0.1, 0.01],
        "model.bridge": "last",
    }
)


def test_grid_and_random_without_sweeps_match_the_sweeps_engine():
    """Our grid and list draws against `sweeps.next_runs` itself (the reference), when it is installed."""
    sweeps = pytest.importorskip("sweeps")
    config = expand.sweep_config("grid", _BLOCK, [0, 1])
    reference = [expand._point(run) for run in sweeps.next_runs(config, [], validate=True, n=100) if run]
    ours = expand.grid_points(_BLOCK, [0, 1])
    assert ours == reference and [list(p) for p in ours] == [list(p) for p in reference]
    assert len(ours) == 2 * 2 * 2 * 2

    config = expand.sweep_config("random", _BLOCK, None)
    state = random.getstate()
    reference = []
    for i in range(20):
        random.seed(f"7/{i}")
        reference.append(expand._point(sweeps.next_runs(config, [], validate=True, n=1)[0]))
    random.setstate(state)
    assert expand.random_points(_BLOCK, 20, [0], seed=7) == [{**p, "seed": 0} for p in reference]


@pytest.mark.parametrize(
    "code",
    [
        # grid and random sweeps, the CLI's --help and a dry run work with `sweeps` blocked
        "from attn_research.sweeps import expand; from tests.test_sweeps_expand import _BLOCK; "
        "assert len(expand.grid_points(_BLOCK, [0])) == 8; assert len(expand.random_points(_BLOCK, 3, [0, 1])) == 6",
        "from attn_research import sweep; sweep.main(['--help'])",
        "from attn_research import sweep; raise SystemExit(sweep.main(['experiments/luong2015_table4.py', '--dry_run', "
        "'--workdir_root=' + __import__('tempfile').mkdtemp(), '--results_dir=' + __import__('tempfile').mkdtemp()]))",
    ],
)
def test_works_without_the_sweeps_package(code):
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    blocked = "import sys; sys.modules['sweeps'] = None\n" + code
    result = subprocess.run([sys.executable, "-c", blocked], cwd=root, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_bayes_without_sweeps_names_the_install_command(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "sweeps", None)
    with pytest.raises(ImportError, match="pip install --no-deps sweeps"):
        expand.bayes_draws(_BLOCK, {"name": "final/validation/bleu", "goal": "maximize"}, [], n=1)
