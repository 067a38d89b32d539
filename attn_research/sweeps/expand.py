"""An experiment's points: grid, random and bayes proposals as wandb's own sweep engine (`sweeps`) makes them.

Each block becomes a W&B sweep config (parameters named `config.<key>`).
    grid    every combination of the block's lists and the seeds (a grid over `config.seed` too), in the
            order of `sweeps`' grid search (keys sorted; each list in its order; repeated values once).
    random  `count` draws per block (Python's `random`, seeded by the draw's index, so a resumed sweep
            draws the same points), each run once per seed. Lists and constants are drawn here exactly
            as `sweeps` draws them (one random.uniform per sorted key); W&B distributions by `sweeps`.
    bayes   one draw at a time by `sweeps` from a Gaussian-process model of the finished points'
            objective (their mean over seeds), each run once per seed.
The `sweeps` package (not a dependency: it pins numpy<2; `pip install --no-deps sweeps`) is imported only
where it is needed: bayes proposals, random draws from distributions, and the schema check of W&B exports.
A point is a dict config key -> value with the seed under "seed"; its run name (run_name) names its
workdir and results file.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random
import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from attn_research.sweeps.spec import Block, Experiment, Point, is_distribution

PREFIX = "config."
SEED = "seed"
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")
# a run name's bytes at most: <name>.json, its workdir and write_text's temporary copy stay within the file
# system's 255-byte names
MAX_RUN_NAME = 200
_WARMED: list[bool] = []  # [True] once _sweeps made its throwaway draw in this process
SWEEPS_HINT = "pip install --no-deps sweeps"  # it pins numpy<2 but works with numpy 2 (Makefile: make install)


def _sweeps():
    """wandb's `sweeps` package, imported on first use; ImportError with the install command if missing.

    The first next_runs of a process draws from `random` once more than every later one (a lazy import inside
    `sweeps`), so a seeded draw differed between a process's first call and the next: one throwaway draw here,
    with the global `random` state restored, makes every seeded draw the same.
    """
    try:
        with warnings.catch_warnings():  # sweeps 0.3 still declares its pydantic model the v1 way
            warnings.simplefilter("ignore")
            import sweeps  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise ImportError(
            f"bayes sweeps, random draws from distributions and W&B sweep exports need wandb's "
            f"`sweeps` package: {SWEEPS_HINT}"
        ) from None
    if not _WARMED:
        state = random.getstate()
        try:
            sweeps.next_runs({"method": "random", "parameters": {"x": {"values": [0, 1]}}}, [], validate=False, n=1)
        finally:
            random.setstate(state)
        _WARMED.append(True)
    return sweeps


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
    wandb's `sweeps` package (the schema `wandb sweep` is held to); ImportError if `sweeps` is missing."""
    sweeps = _sweeps()
    import jsonschema  # pylint: disable=import-outside-toplevel

    try:
        sweeps.SweepConfig(dict(config))
    except (jsonschema.ValidationError, ValueError) as error:
        message = error.message if isinstance(error, jsonschema.ValidationError) else str(error)
        raise ValueError(f"invalid W&B sweep config: {message}") from None


def _point(run) -> Point:
    """The point of a proposed run, with NumPy scalars (random draws) as plain Python values."""
    return {
        key.removeprefix(PREFIX): item["value"].item() if isinstance(item["value"], np.generic) else item["value"]
        for key, item in run.config.items()
    }


def _distinct(values: Sequence[Any]) -> list[Any]:
    """The values without repeats (first occurrence kept; 1 and 1.0 are one value, as in `sweeps`)."""
    kept = []
    for value in values:
        if not any(value == k and isinstance(value, bool) == isinstance(k, bool) for k in kept):
            kept.append(value)
    return kept


def grid_points(block: Block, seeds: Sequence[int]) -> list[Point]:
    """Every combination of the block's values and the seeds, in the `sweeps` grid order: the swept keys
    (lists, and the seed) sorted by name, the last varying fastest, each list in its given order."""
    parameters = {
        key: list(value) if isinstance(value, (list, tuple)) else value for key, value in block.parameters.items()
    }
    parameters[SEED] = list(seeds)
    swept = sorted((PREFIX + key, key) for key, value in parameters.items() if isinstance(value, list))
    constants = {key: value for key, value in parameters.items() if not isinstance(value, list)}
    combinations = itertools.product(*(_distinct(parameters[key]) for _, key in swept))
    order = sorted(parameters, key=lambda key: PREFIX + key)  # the key order of a `sweeps` run config
    points = []
    for combination in combinations:
        point = {**constants, **dict(zip((key for _, key in swept), combination))}
        points.append({key: point[key] for key in order})
    return points


def random_points(block: Block, count: int, seeds: Sequence[int], seed: int = 0) -> list[Point]:
    """`count` random draws from the block (draw i seeded with the string f"{seed}/{i}"), each once per seed.

    As `sweeps` draws them: one random.uniform(0, 1) per key in sorted order, u -> values[ceil(u n) - 1]
    for a list of n values, a constant as is. A block with a W&B distribution is drawn by `sweeps` itself
    (ImportError with the install command if it is missing). The global `random` state is restored.
    """
    use_sweeps = any(is_distribution(value) for value in block.parameters.values())
    config = sweep_config("random", block, None) if use_sweeps else None
    module = _sweeps() if use_sweeps else None
    state = random.getstate()
    try:
        draws = []
        for i in range(count):
            random.seed(f"{seed}/{i}")
            if use_sweeps:
                draws.append(_point(module.next_runs(config, [], validate=True, n=1)[0]))
            else:
                draws.append(
                    {
                        key: _draw(block.parameters[key], random.uniform(0.0, 1.0))
                        for key in sorted(block.parameters, key=lambda k: PREFIX + k)
                    }
                )
    finally:
        random.setstate(state)
    return [{**draw, SEED: s} for draw in draws for s in seeds]


def _draw(value: Any, u: float) -> Any:
    """A list's value at quantile u in [0, 1] (scipy's randint.ppf, as `sweeps` uses), or the constant."""
    if not isinstance(value, (list, tuple)):
        return value
    return value[math.ceil(u * len(value)) - 1]


def bayes_draws(block: Block, objective: Mapping, history: Sequence[tuple[Point, float | None]], n: int) -> list[Point]:
    """`n` new draws (no seed) for a bayes sweep. objective: {"name": ..., "goal": "maximize" |
    "minimize"}. history: (draw, objective value, None if its runs failed or are unfinished)."""
    sweeps = _sweeps()
    from sklearn.exceptions import ConvergenceWarning  # pylint: disable=import-outside-toplevel

    config = sweep_config("bayes", block, None, metric=objective)
    runs = []
    for draw, value in history:
        run_config = {PREFIX + k: {"value": v} for k, v in draw.items()}
        if value is None:
            runs.append(sweeps.SweepRun(config=run_config, state=sweeps.RunState.failed))
        else:
            runs.append(
                sweeps.SweepRun(
                    config=run_config, state=sweeps.RunState.finished, summary_metrics={objective["name"]: value}
                )
            )
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
    same name. A name over MAX_RUN_NAME bytes keeps its beginning and ends with "~" and 10 hex digits of the
    SHA-1 of the whole name without the seed, then ",seed=<seed>": still one name per point, the same but for
    the seed across the seeds of a point."""
    keys = sorted(k for k in point if k != SEED) + ([SEED] if SEED in point else [])
    short = _short_keys(keys)
    name = ",".join(f"{_UNSAFE.sub('_', short[k])}={_UNSAFE.sub('_', str(point[k]))}" for k in keys)
    if len(name) <= MAX_RUN_NAME:  # the safe characters are ASCII: characters are bytes
        return name
    seed = f",{SEED}={_UNSAFE.sub('_', str(point[SEED]))}" if SEED in point else ""
    digest = hashlib.sha1(name.removesuffix(seed).encode()).hexdigest()[:10]
    return f"{name[: MAX_RUN_NAME - len(seed) - len(digest) - 1]}~{digest}{seed}"


def without_seed(point: Mapping[str, Any]) -> Point:
    return {k: v for k, v in point.items() if k != SEED}
