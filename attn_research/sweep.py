"""Command line: run an experiment's sweep and render its tables, or export it as W&B sweeps.

    python -m attn_research.sweep experiments/<name>.py [--scale smoke|full] [--parallel N]
    python -m attn_research.sweep experiments/<name>.py --scale full --tables_only   # tables from results so far
    python -m attn_research.sweep experiments/<name>.py --scale full --dry_run       # the runs and their state
    python -m attn_research.sweep experiments/<name>.py --scale full --only data.split=simple,length  # a subset
    python -m attn_research.sweep experiments/<name>.py --scale full --export_wandb  # W&B sweep YAML
    python -m attn_research.sweep experiments/<name>.py --scale full --config.<key>=<value> ...   # one point

Also installed as `attn-sweep`. A sweep runs every point not finished yet (attn_research/sweeps/runner.py
has the layout), each in its own subprocess, `--parallel` at a time, then writes the tables
(attn_research/sweeps/tables.py). The one-point form is what `wandb agent` runs: the arguments W&B passes
(${args}) name the point. Exit status: 0, 1 if a run failed (its error is in
<workdir_root>/<experiment>/<scale>/failures.jsonl), 2 for bad arguments or a malformed experiment.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import sys

from attn_research.sweeps import aggregate, runner, tables, wandb_export
from attn_research.sweeps.spec import Experiment, base_config, check_config_keys, load_experiment

CONFIG_FLAG = "--config."


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="attn-sweep", description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("experiment", help="experiment file, e.g. experiments/luong2015_table4.py")
    p.add_argument(
        "--scale",
        default="smoke",
        help="one of the experiment's scales: smoke (a quick check) or full (the paper's setup)",
    )
    p.add_argument("--parallel", type=int, default=1, help="runs at a time")
    p.add_argument("--tables_only", action="store_true", help="only render the tables from the results so far")
    p.add_argument("--dry_run", action="store_true", help="list the runs and whether they have finished")
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="KEY=V1,V2",
        help="run only the points whose swept KEY is one of the values (repeatable); the tables still show every point",
    )
    p.add_argument(
        "--export_wandb",
        action="store_true",
        help="write W&B sweep YAML to <workdir_root>/<experiment>/<scale>/wandb/ and stop",
    )
    p.add_argument("--export-wandb", dest="export_wandb", action="store_true", help=argparse.SUPPRESS)  # old spelling
    p.add_argument("--results_dir", default="results", help="results root")
    p.add_argument("--workdir_root", default=os.path.join("workdirs", "sweeps"), help="workdir root")
    p.add_argument("--tables_dir", default=None, help="tables root (default <results_dir>/tables)")
    p.add_argument(
        "--wandb_mode",
        choices=("offline", "online", "disabled"),
        default=None,
        help="W&B mode of the runs (None: the config's wandb.mode, else $WANDB_MODE, else offline)",
    )
    return p


def parse_point(arguments: list[str]) -> dict[str, str]:
    """{key: value} from ["--config.<key>=<value>", ...]; raises ValueError for any other argument."""
    point = {}
    for argument in arguments:
        key, equals, value = argument.removeprefix(CONFIG_FLAG).partition("=")
        if not argument.startswith(CONFIG_FLAG) or not equals or not key:
            raise ValueError(f"unexpected argument {argument!r}: only --config.<key>=<value> may follow")
        point[key] = value
    return point


def write_tables(experiment: Experiment, path: str, scale: str, paths: runner.Paths, tables_dir: str) -> list[str]:
    """Aggregates the finished runs of the sweep and writes its tables; returns the files written."""
    points = runner.planned_points(experiment, scale, paths)
    jobs = [runner.make_job(experiment, path, scale, point, paths) for point in points]
    records = aggregate.read_run_metrics(jobs)
    table = aggregate.with_length_buckets(experiment.table, records)
    rows = aggregate.aggregate(points, records, table.metrics, table.row_label)
    return tables.write_tables(dataclasses.replace(experiment, table=table), scale, rows, tables_dir)


def _error(error: BaseException) -> int:
    """Prints `attn-sweep: error: <message>` (no usage text) and returns the exit status for bad input, 2."""
    print(f"attn-sweep: error: {error}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args, extra = p.parse_known_args(argv)
    try:
        experiment = load_experiment(args.experiment)
        experiment.scale(args.scale)
        check_config_keys(experiment, args.experiment)
        point = parse_point(extra)
        only = runner.parse_only(args.only)
        if only and experiment.method != "bayes":
            runner.select_points(
                runner.planned_points(experiment, args.scale, runner.Paths(args.results_dir, args.workdir_root)), only
            )
    except (ValueError, FileNotFoundError) as error:
        return _error(error)
    paths = runner.Paths(args.results_dir, args.workdir_root)
    sweep_dir = paths.sweep_dir(experiment.name, args.scale)

    if args.export_wandb:
        project = base_config(experiment, args.experiment).wandb.project
        try:
            written = wandb_export.write_wandb_sweeps(
                experiment, os.path.relpath(args.experiment), args.scale, os.path.join(sweep_dir, "wandb"), project
            )
        except ImportError as error:  # wandb's `sweeps` package checks the YAML
            return _error(error)
        for yaml_path in written:
            print(f"wrote {yaml_path}; start it with: wandb sweep {yaml_path}")
        print("then, from the repository root on each machine: wandb agent <entity>/<project>/<sweep id>")
        return 0

    failures_path = os.path.join(sweep_dir, runner.FAILURES_FILE)
    if point:  # one point, e.g. from `wandb agent`
        job = runner.make_job(experiment, args.experiment, args.scale, point, paths, args.wandb_mode)
        return 1 if runner.run_jobs([job], failures_path) else 0

    if args.dry_run:
        points = runner.planned_points(experiment, args.scale, paths)
        for point in runner.select_points(points, only) if only else points:
            job = runner.make_job(experiment, args.experiment, args.scale, point, paths, args.wandb_mode)
            state = (
                "stale"
                if job.stale()
                else "finished"
                if job.finished()
                else "to evaluate"
                if job.trained()
                else "to run"
            )
            print(f"{state:12s} {job.name}\n             {shlex.join(job.train_command)}")
        return 0

    failures = []
    if not args.tables_only:
        try:
            failures = runner.run_sweep(
                experiment, args.experiment, args.scale, paths, args.parallel, wandb_mode=args.wandb_mode, only=only
            )
        except (ValueError, ImportError) as error:  # finished runs made with other settings; no `sweeps`
            return _error(error)
    for written in write_tables(
        experiment, args.experiment, args.scale, paths, args.tables_dir or os.path.join(args.results_dir, "tables")
    ):
        print(f"wrote {written}")
    if failures:
        print(f"{len(failures)} run(s) failed; errors in {failures_path}", file=sys.stderr)
    return 1 if failures else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
