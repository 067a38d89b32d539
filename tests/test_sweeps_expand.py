"""Sweep expansion (grid, random, bayes through wandb's `sweeps` engine), run names, experiment validation."""
from __future__ import annotations

import itertools
import math
import os
import random

import pytest

from attn_research.sweeps import Block, Experiment, Metric, Scale, Table
from attn_research.sweeps import expand
from attn_research.sweeps.spec import check_config_keys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def experiment(method="grid", blocks=None, seeds=(0,), count=0, **changes):
    fields = dict(
        name="toy", title="toy", config="configs/synthetic.py:reverse", method=method,
        blocks=blocks or (Block({"model.attention.score": ["dot", "general"]}),),
        scales={"smoke": Scale("tiny", seeds=seeds, count=count)},
        table=Table(metrics=(Metric("test/bleu", "BLEU"),), row_label=str),
        objective=Metric("validation/bleu", "BLEU"))
    fields.update(changes)
    return Experiment(**fields)


def test_grid_is_every_combination_of_values_and_seeds():
    block = Block({"model.attention.score": ["dot", "general", "concat"],
                   "model.attention.window": ["global", "local_p"], "model.bridge": "last"})
    points = expand.points(experiment(blocks=(block,), seeds=(0, 1)), "smoke")
    expected = {("model.attention.score", s, "model.attention.window", w, "seed", seed)
                for s, w, seed in itertools.product(["dot", "general", "concat"], ["global", "local_p"], [0, 1])}
    got = {("model.attention.score", p["model.attention.score"], "model.attention.window",
            p["model.attention.window"], "seed", p["seed"]) for p in points}
    assert len(points) == 12 and got == expected
    assert all(p["model.bridge"] == "last" for p in points)
    assert len({expand.run_name(p) for p in points}) == 12


def test_an_experiment_is_the_union_of_its_blocks():
    blocks = (Block({"model.attention.dim": [8, 16]}, name="a"),
              Block({"model.decoder": ["none_state", "none_input"], "model.bridge": "last"}, name="b"))
    points = expand.points(experiment(blocks=blocks, seeds=(3, 4, 5)), "smoke")
    assert len(points) == 2 * 3 + 2 * 3
    assert sum("model.decoder" in p for p in points) == 6 and sum("model.attention.dim" in p for p in points) == 6
    assert sorted(p["seed"] for p in points) == [3] * 4 + [4] * 4 + [5] * 4


def test_random_draws_lie_in_their_distributions_repeat_per_seed_and_are_reproducible():
    block = Block({"train.learning_rate": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-2},
                   "model.cell": ["gru", "lstm"], "model.attention.dim": {"distribution": "int_uniform",
                                                                         "min": 8, "max": 64}})
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
    history = [({"train.learning_rate": 0.01, "model.attention.dim": 8}, 10.0),
               ({"train.learning_rate": 0.05, "model.attention.dim": 16}, 20.0),
               ({"train.learning_rate": 0.09, "model.attention.dim": 32}, None)]  # failed
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


@pytest.mark.parametrize("change, message", [
    (dict(method="gird"), "valid choices: bayes, grid, random"),
    (dict(blocks=(Block({"model.cell": {"min": 1, "max": 2}}),)), "needs a list of values"),
    (dict(blocks=(Block({"model.cell": []}),)), "empty list"),
    (dict(blocks=(Block({"model.cell": ["gru", "gru"]}),)), "twice"),
    (dict(blocks=(Block({"config.model.cell": ["gru"]}),)), "no 'config.' prefix"),
    (dict(blocks=(Block({"seed": [1, 2]}),)), "Scale.seeds"),
    (dict(blocks=(Block({"model.cell": [["gru"]]}),)), "must be str, int, float or bool"),
    (dict(blocks=(Block({"model.cell": ["gru"]}), Block({"model.cell": ["lstm"]}))), "distinct names"),
    (dict(name="Toy Table"), "must match"),
    (dict(config="configs/synthetic.py"), "<file>.py:<arg>"),
    (dict(scales={"smoke": Scale("tiny", seeds=())}), "seeds"),
    (dict(method="random"), "count >= 1"),
    (dict(objective=Metric("eval/bleu", "BLEU")), "validation/<metric>"),
])
def test_malformed_experiments_are_refused_with_a_clear_message(change, message):
    with pytest.raises(ValueError, match=message):
        experiment(**change)


def test_unknown_scale_names_the_valid_ones():
    with pytest.raises(ValueError, match="valid choices: smoke"):
        experiment().scale("ful")


def test_config_keys_are_checked_against_the_base_config():
    path = os.path.join(REPO, "experiments", "toy.py")  # config paths are relative to the repository root
    check_config_keys(experiment(blocks=(Block({"model.attention.score": ["dot"]}),)), path)
    with pytest.raises(ValueError, match="unknown config key 'model.atention.score'.*attention"):
        check_config_keys(experiment(blocks=(Block({"model.atention.score": ["dot"]}),)), path)
    with pytest.raises(ValueError, match="unknown config key 'seed.x'"):
        check_config_keys(experiment(overrides={"seed.x": 1}), path)
