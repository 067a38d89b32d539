"""Seeds aggregated the way Britz et al. (2017) report them: mean ± std, with the best seed in parentheses.

Each finished run gives a flat dict of metrics (run_metrics); the runs of one point that differ only in
their seed make one Row, with a Stat per metric: mean, sample standard deviation (ddof = 1; None for a
single run) and the best run (max, or min for a metric whose goal is "minimize", e.g. perplexity).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping, Sequence

from attn_research import jsonio
from attn_research.sweeps import expand
from attn_research.sweeps.runner import Job
from attn_research.sweeps.spec import Metric, Point, Table

BY_LENGTH = "eval/bleu_by_length/"
WALL_TIME = "wall_time_min"  # a run's training wall time (its results JSON's wall_time_s), minutes


@dataclasses.dataclass(frozen=True)
class Stat:
    """A metric over seeds. std is None for one run."""

    mean: float
    std: float | None
    best: float
    n: int


@dataclasses.dataclass(frozen=True)
class Row:
    """One point of the sweep (seeds aggregated): its label, how many of its seeds finished, and a Stat
    (None where no run reported the metric) per metric key."""

    label: str
    point: Point
    runs: int
    expected: int
    stats: Mapping[str, Stat | None]


def summarize(values: Sequence[float], goal: str = "maximize") -> Stat | None:
    """Mean, sample std (None for one value), best (max, or min if goal is "minimize") and count of the
    finite values; None if there are none."""
    values = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not values:
        return None
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else None
    return Stat(mean, std, min(values) if goal == "minimize" else max(values), n)


def run_metrics(results: Mapping, evaluation: Mapping | None = None) -> dict[str, float]:
    """The flat metrics of one run: "<split>/<metric>", "num_params" and WALL_TIME (minutes) from its results
    JSON; "eval/bleu", "eval/bleu_tokens" (token-level BLEU, metrics.token_bleu; evaluations from before it lack
    it) and "eval/bleu_by_length/<bucket>" (e.g. "[10, 20)") from its evaluation, if any."""
    flat = {f"{split}/{name}": value for split, values in results["metrics"].items() for name, value in values.items()}
    flat["num_params"] = results.get("num_params")
    if results.get("wall_time_s") is not None:
        flat[WALL_TIME] = results["wall_time_s"] / 60
    if evaluation is not None:
        flat["eval/bleu"] = evaluation["bleu"]
        if "bleu_tokens" in evaluation:
            flat["eval/bleu_tokens"] = evaluation["bleu_tokens"]
        for bucket in evaluation.get("bleu_by_length", []):
            flat[BY_LENGTH + bucket["bucket"]] = bucket["bleu"]
    return flat


def read_run_metrics(jobs: Sequence[Job]) -> dict[str, dict[str, float]]:
    """run name -> run_metrics of every finished job (a torn results JSON: not finished)."""
    records = {}
    for job in jobs:
        if not job.finished():  # missing, or torn (a warning names the file)
            continue
        results = jsonio.read_json(job.results_path)
        evaluation = None if job.evaluation_path is None else jsonio.read_json(job.evaluation_path)
        records[job.name] = run_metrics(results, evaluation)
    return records


def aggregate(
    points: Sequence[Point],
    records: Mapping[str, Mapping[str, float]],
    metrics: Sequence[Metric],
    row_label: Callable[[Point], str],
) -> list[Row]:
    """One Row per distinct point without its seed, in order of first appearance, with a Stat per metric
    and one for WALL_TIME (the runs' wall time in minutes).

    points: the sweep's points (with seeds); records: run name -> flat metrics of the finished runs.
    """
    groups: dict[str, tuple[Point, list[str]]] = {}
    for point in points:
        key = expand.run_name(expand.without_seed(point))
        groups.setdefault(key, (expand.without_seed(point), []))[1].append(expand.run_name(point))
    rows = []
    for point, names in groups.values():
        finished = [records[name] for name in names if name in records]
        stats = {m.key: summarize([r.get(m.key) for r in finished], m.goal) for m in metrics}
        stats[WALL_TIME] = summarize([r.get(WALL_TIME) for r in finished], "minimize")
        rows.append(Row(row_label(point), point, len(finished), len(names), stats))
    return rows


def bucket_edges(key: str) -> tuple[float, float]:
    """The (low, high) edges of a by-length metric key ("eval/bleu_by_length/[5, 10)" -> (5.0, 10.0); high may be
    inf): the order of the buckets by length."""
    low, high = re.fullmatch(r"\[(\S+), (\S+)\)", key.removeprefix(BY_LENGTH)).groups()
    return float(low), float(high)


def with_length_buckets(table: Table, records: Mapping[str, Mapping[str, float]]) -> Table:
    """The table with a Metric per source-length bucket found in the records (in order of length) added to
    its metrics when table.by_length; the table itself otherwise."""
    if not table.by_length:
        return table
    keys = sorted({key for record in records.values() for key in record if key.startswith(BY_LENGTH)}, key=bucket_edges)
    return dataclasses.replace(
        table, metrics=table.metrics + tuple(Metric(key, key.removeprefix(BY_LENGTH)) for key in keys)
    )
