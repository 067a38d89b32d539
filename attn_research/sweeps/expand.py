"""An experiment's points: grid, random and bayes proposals from wandb's own sweep engine (`sweeps`).

We write no search algorithm: each block becomes a W&B sweep config (parameters named `config.<key>`)
and `sweeps.next_runs` proposes its points, exactly as the W&B sweep controller would.
    grid    every combination of the block's lists and the seeds (a grid over `config.seed` too).
    random  `count` draws per block (Python's `random`, seeded by the draw's index, so a resumed sweep
            draws the same points), each run once per seed.
    bayes   one draw at a time from a Gaussian-process model of the finished points' objective (their
            mean over seeds), each run once per seed.
A point is a dict config key -> value with the seed under "seed"; its run name (run_name) names its
workdir and results file.
"""
from __future__ import annotations

import random
import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import jsonschema
import numpy as np
from sklearn.exceptions import ConvergenceWarning

with warnings.catch_warnings():  # sweeps 0.3 still declares its pydantic model the v1 way
    warnings.simplefilter("ignore")
    import sweeps

from attn_research.sweeps.spec import Block, Experiment, Point, is_distribution

PREFIX = "config."
SEED = "seed"
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")


def wandb_parameters(block: Block, seeds: Sequence[int] | None) -> dict[str, dict]:
    """The `parameters` section of a W&B sweep config: "config.<key>" -> {"values": [...]} for a list,
    the distribution dict itself, or {"value": v} for a constant; plus "config.seed" when seeds are given."""
    parameters = {}
    for key, value in block.parameters.items():
        if is_distribution(value):
            parameters[PREFIX + key] = dict(value)
        elif isinstance(value, (list, tuple)):
            parameters[PREFIX + key] = {"values": list(value)}
        else:
            parameters[PREFIX + key] = {"value": value}
    if seeds is not None:
        parameters[PREFIX + SEED] = {"values": list(seeds)}
    return parameters


def sweep_config(method: str, block: Block, seeds: Sequence[int] | None, metric: Mapping | None = None) -> dict:
    """A W&B sweep config {method, parameters[, metric]} for one block, checked against the `sweeps`
    package's JSON schema. Raises ValueError listing the schema violations."""
    config = {"method": method, "parameters": wandb_parameters(block, seeds)}
    if metric is not None:
        config["metric"] = dict(metric)
    check_wandb_config(config)
    return config


def check_wandb_config(config: Mapping) -> None:
    """Raises ValueError (listing every violation) unless `config` passes the W&B sweep config schema of
    wandb's `sweeps` package (the schema `wandb sweep` is held to)."""
    try:
        sweeps.SweepConfig(dict(config))
    except (jsonschema.ValidationError, ValueError) as error:
        message = error.message if isinstance(error, jsonschema.ValidationError) else str(error)
        raise ValueError(f"invalid W&B sweep config: {message}") from None


def _point(run: sweeps.SweepRun) -> Point:
    """The point of a proposed run, with NumPy scalars (random draws) as plain Python values."""
    return {key.removeprefix(PREFIX): item["value"].item() if isinstance(item["value"], np.generic) else item["value"]
            for key, item in run.config.items()}


def grid_points(block: Block, seeds: Sequence[int]) -> list[Point]:
    """Every combination of the block's values and the seeds, in the `sweeps` grid order."""
    size = len(seeds)
    for value in block.parameters.values():
        size *= len(value) if isinstance(value, (list, tuple)) else 1
    config = sweep_config("grid", block, seeds)
    runs = sweeps.next_runs(config, [], validate=True, n=size)
    return [_point(run) for run in runs if run is not None]


def random_points(block: Block, count: int, seeds: Sequence[int], seed: int = 0) -> list[Point]:
    """`count` random draws from the block (draw i seeded with the string f"{seed}/{i}"), each once per seed.

    The global `random` state that `sweeps` samples from is restored afterwards.
    """
    config = sweep_config("random", block, None)
    state = random.getstate()
    try:
        draws = []
        for i in range(count):
            random.seed(f"{seed}/{i}")
            draws.append(_point(sweeps.next_runs(config, [], validate=True, n=1)[0]))
    finally:
        random.setstate(state)
    return [{**draw, SEED: s} for draw in draws for s in seeds]


def bayes_draws(block: Block, objective: Mapping, history: Sequence[tuple[Point, float | None]],
                n: int) -> list[Point]:
    """`n` new draws (no seed) for a bayes sweep. objective: {"name": ..., "goal": "maximize" |
    "minimize"}. history: (draw, objective value, None if its runs failed or are unfinished)."""
    config = sweep_config("bayes", block, None, metric=objective)
    runs = []
    for draw, value in history:
        run_config = {PREFIX + k: {"value": v} for k, v in draw.items()}
        if value is None:
            runs.append(sweeps.SweepRun(config=run_config, state=sweeps.RunState.failed))
        else:
            runs.append(sweeps.SweepRun(config=run_config, state=sweeps.RunState.finished,
                                        summary_metrics={objective["name"]: value}))
    with warnings.catch_warnings():  # the Gaussian-process fit warns on a handful of points
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        return [_point(run) for run in sweeps.next_runs(config, runs, validate=True, n=n)]


def points(experiment: Experiment, scale: str) -> list[Point]:
    """Every point of a grid or random sweep at `scale`, block by block (bayes points depend on results:
    see runner.run_bayes). Raises ValueError for a bayes experiment."""
    settings = experiment.scale(scale)
    result = []
    for block in experiment.blocks_at(scale):
        if experiment.method == "grid":
            result += grid_points(block, settings.seeds)
        elif experiment.method == "random":
            result += random_points(block, settings.count, settings.seeds)
        else:
            raise ValueError("bayes points are proposed one by one from results: use runner.run_bayes")
    return result


def _short_keys(keys: Sequence[str]) -> dict[str, str]:
    last = [k.rsplit(".", 1)[-1] for k in keys]
    return {k: (short if last.count(short) == 1 else k) for k, short in zip(keys, last)}


def run_name(point: Mapping[str, Any]) -> str:
    """A filesystem-safe name from a point's values: "key=value" joined by ",", keys sorted with the seed
    last, each key shortened to its last part where that is unambiguous, e.g.
    "score=general,window=local_p,seed=1". The same point from a W&B agent (values as strings) gets the
    same name."""
    keys = sorted(k for k in point if k != SEED) + ([SEED] if SEED in point else [])
    short = _short_keys(keys)
    return ",".join(f"{_UNSAFE.sub('_', short[k])}={_UNSAFE.sub('_', str(point[k]))}" for k in keys)


def without_seed(point: Mapping[str, Any]) -> Point:
    return {k: v for k, v in point.items() if k != SEED}
