"""Runs a sweep's points, each in its own subprocess; skips finished runs; records failures and goes on.

Layout (scale = smoke | full, run = expand.run_name(point)):
    <workdirs>/<experiment>/<scale>/<run>/          the run's workdir (checkpoints, metrics.jsonl, sweep.log)
    <workdirs>/<experiment>/<scale>/failures.jsonl  one error record per failed run
    <results>/<experiment>/<scale>/<run>.json       the training results (attn_research.training.loop)
    <results>/<experiment>/<scale>/evaluation/<run>.json   the Evaluation's metrics, where the scale has one
    <results>/<experiment>/<scale>/proposals.json   a bayes sweep's draws so far, per block
A run is finished when its results JSON (and evaluation JSON) exist and read as JSON, so rerunning a stopped
sweep runs only what is missing (a torn file, with a warning naming it, counts as missing), and a run killed
half-way resumes from its own checkpoints. A SIGTERM or SIGINT to the runner is passed on to the runs it has
started; it waits for them to end, then exits (128 + the signal's number).
Each run is `python -m attn_research.main --config=<file>:<arg> --workdir=<run> --config.<key>=<value> ...`
(then `python -m attn_research.evaluate`), so a crash cannot take the sweep down; all runs of a sweep log
to one W&B group, "<experiment>-<scale>".
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from attn_research import jsonio
from attn_research.sweeps import expand
from attn_research.sweeps.spec import Experiment, Point, config_file

FAILURES_FILE = "failures.jsonl"
PROPOSALS_FILE = "proposals.json"
LOG_FILE = "sweep.log"
TRACEBACK_LINES = 20
STOP_TIMEOUT_S = 60  # after forwarding a signal, how long to wait for a run before killing it

log = logging.getLogger(__name__)


def read_record(path: str) -> Any | None:
    """The JSON content of `path`; None when it is missing or torn (CorruptJSONError, logged as a warning
    naming the file: the run that wrote it counts as unfinished and runs again)."""
    if not os.path.isfile(path):
        return None
    try:
        return jsonio.read_json(path)
    except jsonio.CorruptJSONError as error:
        log.warning("%s; treating its run as unfinished", error)
        return None


@dataclasses.dataclass(frozen=True)
class Paths:
    """Where a sweep writes. results: the results root ("results"); workdirs: the workdir root."""

    results: str = "results"
    workdirs: str = os.path.join("workdirs", "sweeps")

    def results_dir(self, experiment: str, scale: str) -> str:
        return os.path.join(self.results, experiment, scale)

    def sweep_dir(self, experiment: str, scale: str) -> str:
        return os.path.join(self.workdirs, experiment, scale)


@dataclasses.dataclass(frozen=True)
class Job:
    """One point of a sweep: its commands and the files that say it has finished."""

    name: str
    point: Point
    workdir: str
    results_path: str
    train_command: tuple[str, ...]
    evaluate_command: tuple[str, ...] | None = None
    eval_metrics_path: str | None = None  # what evaluate_command writes in the workdir
    evaluation_path: str | None = None  # where the runner keeps a copy, beside the results
    settings: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # experiment + scale + point overrides

    @property
    def log_path(self) -> str:
        return os.path.join(self.workdir, LOG_FILE)

    def trained(self) -> bool:
        """Whether its results JSON exists and is not torn."""
        return read_record(self.results_path) is not None

    def finished(self) -> bool:
        """Whether it is trained and its evaluation JSON (if it has one) exists and is not torn."""
        return self.trained() and (self.evaluation_path is None or read_record(self.evaluation_path) is not None)

    def stale(self) -> list[str]:
        """For a trained run, each setting its results JSON's config disagrees with, as "key: ran with X,
        the sweep now sets Y" (a scale's overrides changed after it ran); [] otherwise."""
        results = read_record(self.results_path)
        config = results.get("config") if isinstance(results, dict) else None
        if config is None:
            return []
        differences = []
        for key, wanted in self.settings.items():
            ran = config
            for part in key.split("."):
                ran = ran.get(part, _UNRECORDED) if isinstance(ran, dict) else _UNRECORDED
            if ran is _UNRECORDED:  # results record only the model keys the model read (tasks.recorded_config)
                continue
            if not _same_setting(ran, wanted):
                differences.append(f"{key}: ran with {ran!r}, the sweep now sets {wanted!r}")
        return differences

    def pending_commands(self) -> list[tuple[str, ...]]:
        """What is left to run: training unless its results exist, then the evaluation, if any. The evaluation
        decodes from the workdir's checkpoint, so a trained run whose workdir is gone (its results JSON copied from
        another machine, say) is trained again before it is evaluated."""
        retrain = self.evaluate_command is not None and not os.path.isdir(self.workdir)
        commands = [] if self.trained() and not retrain else [self.train_command]
        return commands + ([self.evaluate_command] if self.evaluate_command is not None else [])


_UNRECORDED = object()


def _same_setting(ran: Any, wanted: Any) -> bool:
    """Whether a config value read back from JSON is the override (numbers by value, booleans only as
    booleans; lists as tuples; a W&B agent's string "0.002" equals 0.002, "true" equals True)."""
    if isinstance(ran, list):
        ran = tuple(ran)
    if isinstance(wanted, list):
        wanted = tuple(wanted)
    if isinstance(ran, bool) or isinstance(wanted, bool):
        return str(ran).lower() == str(wanted).lower()
    if ran == wanted or str(ran) == str(wanted):
        return True
    try:
        return float(ran) == float(wanted)
    except (TypeError, ValueError):
        return False


def check_not_stale(jobs: Sequence[Job]) -> None:
    """Raises ValueError listing the finished runs whose settings the sweep has changed since, and what to
    delete so that they run again."""
    stale = [(job, job.stale()) for job in jobs]
    stale = [(job, differences) for job, differences in stale if differences]
    if stale:
        lines = [f"  {job.name}: {'; '.join(differences)}" for job, differences in stale]
        first = stale[0][0]
        raise ValueError(
            f"{len(stale)} finished run(s) ran with settings the sweep no longer uses:\n"
            + "\n".join(lines)
            + f"\ndelete their results and workdirs to run them again, e.g. "
            f"{first.results_path} and {first.workdir}"
        )


@dataclasses.dataclass(frozen=True)
class Failure:
    """A failed run: what ran, how it ended, and the end of its traceback."""

    run: str
    point: Point
    command: str
    returncode: int
    error_type: str
    error_message: str
    traceback_tail: tuple[str, ...]
    log: str

    def record(self) -> dict:
        return {
            **dataclasses.asdict(self),
            "traceback_tail": list(self.traceback_tail),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }


Execute = Callable[[Job], "Failure | None"]


def run_overrides(
    experiment: Experiment, scale: str, point: Mapping[str, Any], paths: Paths, wandb_mode: str | None = None
) -> dict[str, Any]:
    """Every --config.<key> of a run: experiment, scale and point overrides (later win), then where the
    run writes (config.experiment "<name>/<scale>", run_name, results_dir) and its W&B group, name, tags."""
    name = expand.run_name(point)
    overrides = {**experiment.overrides, **experiment.scale(scale).overrides, **point}
    overrides.update(
        {
            "experiment": f"{experiment.name}/{scale}",
            "run_name": name,
            "results_dir": paths.results,
            "wandb.group": f"{experiment.name}-{scale}",
            "wandb.name": name,
            "wandb.tags": (experiment.name, scale),
        }
    )
    if wandb_mode:
        overrides["wandb.mode"] = wandb_mode
    return overrides


def make_job(
    experiment: Experiment,
    experiment_path: str,
    scale: str,
    point: Mapping[str, Any],
    paths: Paths,
    wandb_mode: str | None = None,
    python: str = sys.executable,
) -> Job:
    """The Job of one point (its commands use this Python interpreter)."""
    name = expand.run_name(point)
    workdir = os.path.join(paths.sweep_dir(experiment.name, scale), name)
    results_dir = paths.results_dir(experiment.name, scale)
    file, arg = config_file(experiment, experiment_path)
    train = [
        python,
        "-m",
        "attn_research.main",
        f"--config={file}:{arg}" if arg else f"--config={file}",
        f"--workdir={workdir}",
    ]
    train += [
        f"--config.{key}={value}" for key, value in run_overrides(experiment, scale, point, paths, wandb_mode).items()
    ]
    settings = {**experiment.overrides, **experiment.scale(scale).overrides, **point}
    evaluation = experiment.scale(scale).evaluation
    if evaluation is None:
        return Job(
            name, dict(point), workdir, os.path.join(results_dir, f"{name}.json"), tuple(train), settings=settings
        )
    evaluate = (
        python,
        "-m",
        "attn_research.evaluate",
        f"--workdir={workdir}",
        f"--split={evaluation.split}",
        f"--beam={evaluation.beam}",
        "--heatmaps=0",
    )
    return Job(
        name,
        dict(point),
        workdir,
        os.path.join(results_dir, f"{name}.json"),
        tuple(train),
        evaluate,
        eval_metrics_path=os.path.join(workdir, f"eval_{evaluation.split}_beam{evaluation.beam}", "metrics.json"),
        evaluation_path=os.path.join(results_dir, "evaluation", f"{name}.json"),
        settings=settings,
    )


def parse_error(log_text: str, returncode: int) -> tuple[str, str, tuple[str, ...]]:
    """(error type, message, traceback tail) from a failed run's output: the exception line of the last
    traceback (its first unindented line: "ValueError: message"); without a traceback, the exit status
    and the last line printed."""
    lines = log_text.rstrip().splitlines()
    start = max(
        (i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last)")), default=None
    )
    if start is not None:
        tail = tuple(lines[start:][-TRACEBACK_LINES:])
        for line in lines[start + 1 :]:
            if line and not line[0].isspace():
                error_type, _, message = line.partition(":")
                return error_type, message.strip(), tail
    tail = tuple(lines[-TRACEBACK_LINES:])
    if returncode == 2 and lines and lines[-1].startswith("error: "):  # attn_research.main's one-line bad input
        return "InvalidInput", lines[-1].removeprefix("error: ").strip(), tail
    if returncode < 0:
        return "Killed", f"killed by {signal.Signals(-returncode).name}", tail
    return "ExitStatus", f"exit status {returncode}: {lines[-1].strip() if lines else '(no output)'}", tail


class _Children:
    """The runs' live subprocesses, so that a signal to the runner reaches them (see stop_on_signals)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.live: set[subprocess.Popen] = set()
        self.stopping = threading.Event()  # set by a signal: start nothing more

    def run(self, command: Sequence[str], log) -> int:
        """Runs `command` (output to the open file `log`) to its end; its exit status. Returns -1 without
        starting it once the runner is stopping."""
        with self.lock:
            if self.stopping.is_set():
                return -1
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            self.live.add(process)
        try:
            return process.wait()
        finally:
            with self.lock:
                self.live.discard(process)

    def stop(self, signum: int, timeout: float = STOP_TIMEOUT_S) -> None:
        """Sends `signum` to every live run, waits up to `timeout` s for them (SIGKILL after), starts no more."""
        with self.lock:
            self.stopping.set()
            live = list(self.live)
        for process in live:
            process.send_signal(signum)
        deadline = time.time() + timeout
        for process in live:
            try:
                process.wait(max(deadline - time.time(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


CHILDREN = _Children()


class stop_on_signals:
    """Context manager for the runner's main thread: on SIGTERM or SIGINT, pass the signal on to the live
    runs (CHILDREN.stop), then exit with status 128 + signum. Does nothing outside the main thread."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __enter__(self):
        self.previous = {}
        if threading.current_thread() is threading.main_thread():
            self.previous = {s: signal.signal(s, self._handle) for s in self.SIGNALS}
        return self

    def __exit__(self, *exc_info) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)

    @staticmethod
    def _handle(signum, frame) -> None:
        name = signal.Signals(signum).name
        print(
            f"sweep: {name} received; stopping the runs in progress (rerun the same command to resume)",
            file=sys.stderr,
            flush=True,
        )
        CHILDREN.stop(signum)
        raise SystemExit(128 + signum)


def run_subprocess(job: Job) -> Failure | None:
    """Runs the job's pending commands one after the other, output appended to <workdir>/sweep.log.
    Returns a Failure for the first command that fails, else None."""
    os.makedirs(job.workdir, exist_ok=True)
    for command in job.pending_commands():
        with open(job.log_path, "a") as log:
            log.write(f"\n$ {shlex.join(command)}\n")
            log.flush()
            start = log.tell()
            returncode = CHILDREN.run(command, log)
        if returncode != 0:
            with open(job.log_path) as log:
                log.seek(start)
                error_type, message, tail = parse_error(log.read(), returncode)
            return Failure(
                job.name, job.point, shlex.join(command), returncode, error_type, message, tail, job.log_path
            )
    return None


def _timed(job: Job, execute: Execute) -> tuple[Failure | None, float]:
    """(_finish(job, execute), its wall time in minutes)."""
    start = time.time()
    return _finish(job, execute), (time.time() - start) / 60


def _finish(job: Job, execute: Execute) -> Failure | None:
    """execute(job), then check that it left its results (and keep a copy of the evaluation)."""
    failure = execute(job)
    if failure is None and not job.trained():
        failure = Failure(
            job.name,
            job.point,
            shlex.join(job.train_command),
            0,
            "FileNotFoundError",
            f"the run exited without writing {job.results_path}",
            (),
            job.log_path,
        )
    if failure is None and job.evaluation_path is not None:
        evaluation = read_record(job.eval_metrics_path)
        if evaluation is None:
            return Failure(
                job.name,
                job.point,
                shlex.join(job.evaluate_command),
                0,
                "FileNotFoundError",
                f"the evaluation exited without writing {job.eval_metrics_path}",
                (),
                job.log_path,
            )
        jsonio.write_json(job.evaluation_path, evaluation)
    return failure


def run_jobs(
    jobs: Sequence[Job],
    failures_path: str,
    parallel: int = 1,
    execute: Execute = run_subprocess,
    out: Callable[[str], None] = print,
) -> list[Failure]:
    """Runs every unfinished job, `parallel` at a time; a failed one is appended to failures_path and
    the others go on. Returns the failures. Raises ValueError for parallel < 1."""
    if parallel < 1:
        raise ValueError(f"parallel must be >= 1, got {parallel}")
    pending = [job for job in jobs if not job.finished()]
    out(
        f"{len(jobs) - len(pending)} of {len(jobs)} runs already finished; running {len(pending)}, {parallel} at a time"
    )
    failures = []
    with stop_on_signals(), concurrent.futures.ThreadPoolExecutor(max_workers=parallel) as pool:
        started = {pool.submit(_timed, job, execute): job for job in pending}
        for done, future in enumerate(concurrent.futures.as_completed(started), start=1):
            job = started[future]
            try:
                failure, minutes = future.result()
            except Exception as error:  # the executor itself broke: still record it and go on
                failure, minutes = (
                    Failure(
                        job.name,
                        job.point,
                        shlex.join(job.train_command),
                        -1,
                        type(error).__name__,
                        str(error),
                        (),
                        job.log_path,
                    ),
                    0.0,
                )
            if failure is None:
                out(f"[{done}/{len(pending)}] {job.name}: finished in {minutes:.1f} min")
                continue
            failures.append(failure)
            os.makedirs(os.path.dirname(failures_path) or ".", exist_ok=True)
            with open(failures_path, "a") as f:
                f.write(json.dumps(failure.record(), default=str) + "\n")
            out(
                f"[{done}/{len(pending)}] {job.name}: FAILED after {minutes:.1f} min with {failure.error_type}: "
                f"{failure.error_message} (log: {failure.log})"
            )
    return failures


def read_proposals(path: str) -> dict[str, list[Point]]:
    """A bayes sweep's draws so far: block name -> draws (no seed); {} if none yet. Raises
    jsonio.CorruptJSONError naming the file when it is torn."""
    if not os.path.isfile(path):
        return {}
    return jsonio.read_json(path)  # a torn file: CorruptJSONError naming it (the draws cannot be guessed)


def planned_points(experiment: Experiment, scale: str, paths: Paths) -> list[Point]:
    """The sweep's points: its grid or random draws; for bayes, the draws proposed so far (x seeds)."""
    if experiment.method != "bayes":
        return expand.points(experiment, scale)
    seeds = experiment.scale(scale).seeds
    proposals = read_proposals(os.path.join(paths.results_dir(experiment.name, scale), PROPOSALS_FILE))
    return [
        {**draw, expand.SEED: s}
        for block in experiment.blocks_at(scale)
        for draw in proposals.get(block.name, [])
        for s in seeds
    ]


def parse_only(arguments: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """{key: values} from ["data.split=simple,length", ...] (the --only arguments); raises ValueError."""
    only = {}
    for argument in arguments:
        key, equals, values = argument.partition("=")
        if not equals or not key or not values:
            raise ValueError(f"--only {argument!r}: expected <config key>=<value>[,<value>...]")
        only[key] = tuple(values.split(","))
    return only


def select_points(points: Sequence[Point], only: Mapping[str, Sequence[str]]) -> list[Point]:
    """The points whose value of each key in `only` is one of its values (compared as strings).

    Raises ValueError naming the valid keys or values when a key is not swept or a value is never taken."""
    for key, values in only.items():
        taken = {str(p[key]) for p in points if key in p}
        if not taken:
            swept = sorted({k for p in points for k in p})
            raise ValueError(f"--only: {key!r} is not swept here; valid keys: {', '.join(swept)}")
        unknown = [v for v in values if v not in taken]
        if unknown:
            raise ValueError(f"--only: {key} never takes {', '.join(unknown)}; valid: {', '.join(sorted(taken))}")
    return [p for p in points if all(str(p.get(k)) in values for k, values in only.items())]


def objective_value(experiment: Experiment, jobs: Sequence[Job]) -> float | None:
    """The mean of the experiment's objective over the finished jobs (the seeds of one draw); None if none."""
    split, _, metric = experiment.objective.key.partition("/")
    values = []
    for job in jobs:
        if job.finished():
            values.append(jsonio.read_json(job.results_path)["metrics"][split][metric])
    return sum(values) / len(values) if values else None


def run_sweep(
    experiment: Experiment,
    experiment_path: str,
    scale: str,
    paths: Paths,
    parallel: int = 1,
    execute: Execute = run_subprocess,
    wandb_mode: str | None = None,
    out: Callable[[str], None] = print,
    only: Mapping[str, Sequence[str]] | None = None,
) -> list[Failure]:
    """Runs every point of the sweep at `scale`, seed by seed (a bayes sweep proposes `count` draws per block, `parallel`
    at a time, from the results so far), or of a grid or random sweep only the points `select_points(only)`
    keeps. Returns the failures (also in <sweep dir>/failures.jsonl). Raises ValueError for `only` on a bayes
    sweep, or with a key or value the sweep does not have, and for finished runs that ran with other settings
    (check_not_stale)."""
    failures_path = os.path.join(paths.sweep_dir(experiment.name, scale), FAILURES_FILE)

    def jobs_of(points):
        return [make_job(experiment, experiment_path, scale, p, paths, wandb_mode) for p in points]

    if experiment.method != "bayes":
        seeds = experiment.scale(scale).seeds  # every point once before any point's next seed
        points = sorted(planned_points(experiment, scale, paths), key=lambda p: seeds.index(p[expand.SEED]))
        jobs = jobs_of(select_points(points, only) if only else points)
        check_not_stale(jobs)
        return run_jobs(jobs, failures_path, parallel, execute, out)
    if only:
        raise ValueError("--only selects among a grid or random sweep's points; a bayes sweep proposes its own")
    settings = experiment.scale(scale)
    proposals_path = os.path.join(paths.results_dir(experiment.name, scale), PROPOSALS_FILE)
    objective = {"name": "final/" + experiment.objective.key, "goal": experiment.objective.goal}
    failures, attempted = [], set()  # a run that fails is not tried again in the same invocation
    for block in experiment.blocks_at(scale):
        while True:
            proposals = read_proposals(proposals_path)
            draws = proposals.get(block.name, [])
            per_draw = [jobs_of([{**draw, expand.SEED: s} for s in settings.seeds]) for draw in draws]
            jobs = [job for jobs in per_draw for job in jobs if job.name not in attempted]
            failures += run_jobs(jobs, failures_path, parallel, execute, out)
            attempted.update(job.name for job in jobs)
            if len(draws) >= settings.count:
                break
            history = [(draw, objective_value(experiment, jobs)) for draw, jobs in zip(draws, per_draw)]
            new = expand.bayes_draws(block, objective, history, min(parallel, settings.count - len(draws)))
            proposals[block.name] = draws + new
            jsonio.write_json(proposals_path, proposals)
    return failures
