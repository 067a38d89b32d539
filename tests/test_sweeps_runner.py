"""The sweep runner: commands, resume, failures, parallel runs; one real sweep through the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from attn_research.sweeps import Block, Evaluation, Experiment, Metric, Scale, Table, expand, runner

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPERIMENT_PATH = os.path.join(REPO, "experiments", "toy.py")


def toy(evaluation=None, seeds=(0, 1)):
    return Experiment(
        name="toy",
        title="toy",
        config="configs/synthetic.py:task=reverse",
        overrides={"data.task": "copy", "train.num_steps": 5},
        blocks=(Block({"model.attention.score": ["dot", "general"], "model.bridge": "last"}),),
        scales={
            "smoke": Scale(
                "tiny", overrides={"train.num_steps": 7, "model.embed_dim": 8}, seeds=seeds, evaluation=evaluation
            )
        },
        table=Table(metrics=(Metric("test/bleu", "BLEU"),), row_label=str),
        objective=Metric("validation/bleu", "BLEU"),
    )


class FakeRun:
    """Stands in for the subprocess: writes a results JSON (BLEU = 10 * seed) unless told to fail."""

    def __init__(self, fail=(), sleep=0.0):
        self.fail, self.sleep, self.ran = set(fail), sleep, []
        self.active = self.most_active = 0
        self.lock = threading.Lock()

    def __call__(self, job):
        with self.lock:
            self.ran.append(job.name)
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        time.sleep(self.sleep)
        with self.lock:
            self.active -= 1
        if job.name in self.fail:
            return runner.Failure(job.name, job.point, "fake", 1, "ValueError", "bad value", ("Traceback",), "log")
        os.makedirs(os.path.dirname(job.results_path), exist_ok=True)
        with open(job.results_path, "w") as f:
            bleu = 10.0 * float(job.point["seed"])
            json.dump({"metrics": {"test": {"bleu": bleu}, "validation": {"bleu": bleu}}}, f)
        return None


def sweep(tmp_path, fake, experiment=None, parallel=1):
    paths = runner.Paths(str(tmp_path / "results"), str(tmp_path / "workdirs"))
    failures = runner.run_sweep(
        experiment or toy(), EXPERIMENT_PATH, "smoke", paths, parallel=parallel, execute=fake, out=lambda line: None
    )
    return paths, failures


def test_a_job_runs_main_with_the_overrides_in_order_and_writes_where_the_layout_says(tmp_path):
    paths = runner.Paths(str(tmp_path / "results"), str(tmp_path / "workdirs"))
    point = {"model.attention.score": "dot", "model.bridge": "last", "seed": 1}
    job = runner.make_job(toy(), EXPERIMENT_PATH, "smoke", point, paths, wandb_mode="online", python="py")
    name = "score=dot,bridge=last,seed=1"
    assert job.name == name
    assert job.workdir == str(tmp_path / "workdirs" / "toy" / "smoke" / name)
    assert job.results_path == str(tmp_path / "results" / "toy" / "smoke" / f"{name}.json")
    command = list(job.train_command)
    assert command[:5] == [
        "py",
        "-m",
        "attn_research.main",
        f"--config={REPO}/configs/synthetic.py:task=reverse",
        f"--workdir={job.workdir}",
    ]
    flags = dict(arg.removeprefix("--config.").split("=", 1) for arg in command[5:])
    assert flags["data.task"] == "copy"  # experiment override
    assert flags["train.num_steps"] == "7"  # the scale's wins over the experiment's
    assert flags["model.attention.score"] == "dot" and flags["seed"] == "1"
    assert flags["experiment"] == "toy/smoke" and flags["run_name"] == name
    assert flags["results_dir"] == paths.results and flags["wandb.group"] == "toy-smoke"
    assert flags["wandb.name"] == name and flags["wandb.mode"] == "online"
    assert len(command[5:]) == len(flags), "each key once"
    assert job.evaluate_command is None and job.pending_commands() == [job.train_command]


def test_a_resumed_sweep_runs_only_what_has_not_finished(tmp_path):
    first = FakeRun()
    paths, failures = sweep(tmp_path, first)
    assert failures == [] and first.ran == [
        "score=dot,bridge=last,seed=0",
        "score=general,bridge=last,seed=0",
        "score=dot,bridge=last,seed=1",
        "score=general,bridge=last,seed=1",
    ], "every point once, seed by seed"
    again = FakeRun()
    sweep(tmp_path, again)
    assert again.ran == [], "every run had finished"
    os.remove(os.path.join(paths.results_dir("toy", "smoke"), "score=general,bridge=last,seed=1.json"))
    third = FakeRun()
    sweep(tmp_path, third)
    assert third.ran == ["score=general,bridge=last,seed=1"]


def test_only_runs_the_selected_points_and_rejects_keys_and_values_the_sweep_lacks(tmp_path):
    fake = FakeRun()
    paths = runner.Paths(str(tmp_path / "results"), str(tmp_path / "workdirs"))
    only = runner.parse_only(["model.attention.score=general", "seed=1,0"])
    assert only == {"model.attention.score": ("general",), "seed": ("1", "0")}
    runner.run_sweep(toy(), EXPERIMENT_PATH, "smoke", paths, execute=fake, out=lambda line: None, only=only)
    assert fake.ran == ["score=general,bridge=last,seed=0", "score=general,bridge=last,seed=1"]
    points = runner.planned_points(toy(), "smoke", paths)
    with pytest.raises(ValueError, match="valid keys: model.attention.score, model.bridge, seed"):
        runner.select_points(points, {"score": ("dot",)})
    with pytest.raises(ValueError, match="never takes concat; valid: dot, general"):
        runner.select_points(points, {"model.attention.score": ("dot", "concat")})
    with pytest.raises(ValueError, match="expected <config key>=<value>"):
        runner.parse_only(["model.attention.score"])


def test_a_finished_run_made_with_other_settings_stops_the_sweep_with_what_to_delete(tmp_path):
    paths, _ = sweep(tmp_path, FakeRun())
    name = "score=dot,bridge=last,seed=0"
    results = os.path.join(paths.results_dir("toy", "smoke"), f"{name}.json")
    ran = {
        "data": {"task": "copy"},
        "train": {"num_steps": 7},
        "model": {"embed_dim": 8, "bridge": "last", "attention": {"score": "dot"}},
        "seed": 0,
    }
    with open(results, "w") as f:  # the settings it asks for now: not stale
        json.dump({"metrics": {}, "config": ran}, f)
    assert sweep(tmp_path, FakeRun())[1] == []
    del ran["model"]["attention"]  # a model that reads no attention records none: a key never read is no change
    with open(results, "w") as f:
        json.dump({"metrics": {}, "config": ran}, f)
    assert sweep(tmp_path, FakeRun())[1] == []
    ran["train"]["num_steps"] = 5  # the scale said 5 steps when it ran; it says 7 now
    with open(results, "w") as f:
        json.dump({"metrics": {}, "config": ran}, f)
    fake = FakeRun()
    with pytest.raises(
        ValueError,
        match=r"score=dot,bridge=last,seed=0: train.num_steps: ran with 5, the sweep now "
        r"sets 7\ndelete their results and workdirs",
    ):
        sweep(tmp_path, fake)
    assert fake.ran == [], "nothing runs"


def test_settings_compare_by_value_across_json_and_wandb_strings():
    assert runner._same_setting(0.002, 2e-3) and runner._same_setting(0.002, "0.002")
    assert runner._same_setting(["a", "b"], ("a", "b")) and runner._same_setting(3, 3.0)
    assert not runner._same_setting(5, 7) and not runner._same_setting("dot", "general")
    assert not runner._same_setting(None, 1) and not runner._same_setting(True, 1.0)
    assert runner._same_setting(True, "true") and not runner._same_setting(False, True)


def test_a_failing_run_is_recorded_and_the_others_finish(tmp_path):
    bad = "score=dot,bridge=last,seed=0"
    fake = FakeRun(fail={bad})
    paths, failures = sweep(tmp_path, fake)
    assert [f.run for f in failures] == [bad] and len(fake.ran) == 4
    results = sorted(os.listdir(paths.results_dir("toy", "smoke")))
    assert results == sorted(f"{n}.json" for n in set(fake.ran) - {bad})
    with open(os.path.join(paths.sweep_dir("toy", "smoke"), runner.FAILURES_FILE)) as f:
        records = [json.loads(line) for line in f]
    assert len(records) == 1
    assert records[0]["run"] == bad and records[0]["error_type"] == "ValueError"
    assert records[0]["error_message"] == "bad value" and records[0]["point"]["seed"] == 0


def test_a_run_that_writes_no_results_counts_as_failed(tmp_path):
    _, failures = sweep(tmp_path, lambda job: None)
    assert len(failures) == 4 and all(f.error_type == "FileNotFoundError" for f in failures)


def test_parallel_runs_that_many_at_once(tmp_path):
    fake = FakeRun(sleep=0.3)
    sweep(tmp_path, fake, parallel=2)
    assert fake.most_active == 2 and len(fake.ran) == 4
    with pytest.raises(ValueError, match="parallel"):
        runner.run_jobs([], "failures.jsonl", parallel=0)


def test_a_bayes_sweep_proposes_its_draws_from_the_results_and_resumes(tmp_path):
    bayes = Experiment(
        name="toy",
        title="toy",
        config="configs/synthetic.py:task=reverse",
        method="bayes",
        blocks=(Block({"train.learning_rate": {"min": 0.001, "max": 0.1}, "model.attention.dim": [8, 16]}),),
        scales={"smoke": Scale("tiny", seeds=(0, 1), count=3)},
        table=Table(metrics=(Metric("test/bleu", "BLEU"),), row_label=str),
        objective=Metric("validation/bleu", "BLEU"),
    )
    fake = FakeRun()
    paths, failures = sweep(tmp_path, fake, bayes, parallel=2)
    assert failures == [] and len(fake.ran) == 3 * 2
    with open(os.path.join(paths.results_dir("toy", "smoke"), runner.PROPOSALS_FILE)) as f:
        draws = json.load(f)[""]
    assert len(draws) == 3 and all(0.001 <= d["train.learning_rate"] <= 0.1 for d in draws)
    planned = runner.planned_points(bayes, "smoke", paths)
    assert sorted(expand.run_name(p) for p in planned) == sorted(fake.ran)
    again = FakeRun()
    sweep(tmp_path, again, bayes)
    assert again.ran == [], "all draws had finished"


def test_the_evaluation_is_copied_beside_the_results_and_a_trained_run_only_evaluates(tmp_path):
    experiment = toy(evaluation=Evaluation("test", beam=3), seeds=(0,))

    def train_and_evaluate(job):
        FakeRun()(job)
        os.makedirs(os.path.dirname(job.eval_metrics_path), exist_ok=True)
        with open(job.eval_metrics_path, "w") as f:
            json.dump({"bleu": 1.0, "bleu_by_length": []}, f)

    paths, failures = sweep(tmp_path, train_and_evaluate, experiment)
    assert failures == []
    job = runner.make_job(
        experiment, EXPERIMENT_PATH, "smoke", {"model.attention.score": "dot", "model.bridge": "last", "seed": 0}, paths
    )
    assert job.eval_metrics_path.endswith(os.path.join("eval_test_beam3", "metrics.json"))
    assert "--beam=3" in job.evaluate_command and "--split=test" in job.evaluate_command
    with open(job.evaluation_path) as f:
        assert json.load(f)["bleu"] == 1.0
    assert job.finished()
    os.remove(job.evaluation_path)
    assert job.trained() and not job.finished()
    assert job.pending_commands() == [job.evaluate_command]
    shutil.rmtree(job.workdir)  # its checkpoint gone: the evaluation has nothing to decode from
    assert job.pending_commands() == [job.train_command, job.evaluate_command]


def test_parse_error_finds_the_last_exception_of_chained_tracebacks():
    log = textwrap.dedent("""\
        I1121 loading data
        Traceback (most recent call last):
          File "a.py", line 1, in <module>
        KeyError: 'x'

        The above exception was the direct cause of the following exception:

        Traceback (most recent call last):
          File "b.py", line 2, in main
            build(config)
            ^^^^^^^^^^^^^
        ValueError: unknown attention score 'bogus'; valid choices: additive, dot.
        """)
    error_type, message, tail = runner.parse_error(log, 1)
    assert (error_type, message) == ("ValueError", "unknown attention score 'bogus'; valid choices: additive, dot.")
    assert tail[0].startswith("Traceback") and tail[-1].startswith("ValueError")
    assert runner.parse_error("step 10\nstep 20", -9)[:2] == ("Killed", "killed by SIGKILL")
    assert runner.parse_error("FATAL Flags parsing error: bad flag", 1)[:2] == (
        "ExitStatus",
        "exit status 1: FATAL Flags parsing error: bad flag",
    )
    assert runner.parse_error("error: unknown attention score 'x'", 2)[:2] == (
        "InvalidInput",
        "unknown attention score 'x'",
    )


@pytest.mark.slow  # three real runs in subprocesses: 47 s on 2 cores
def test_a_real_sweep_records_a_failing_run_finishes_the_other_and_resumes(tmp_path):
    """End to end through the CLI and real subprocesses: one tiny run trains, one fails fast."""
    experiment_file = tmp_path / "tiny.py"
    experiment_file.write_text(
        textwrap.dedent(f"""\
        from attn_research.sweeps import SMOKE, Block, Experiment, Metric, Scale, Table
        EXPERIMENT = Experiment(
            name="tiny", title="tiny", config={os.path.join(REPO, "configs", "synthetic.py") + ":task=reverse"!r},
            blocks=(Block({{"model.attention.score": ["dot", "bogus"]}}),),
            scales={{"smoke": Scale("tiny", overrides={{**SMOKE, "train.num_steps": 4,
                                                          "model.encoder_hidden": 8, "model.decoder_hidden": 16}})}},
            table=Table(metrics=(Metric("test/bleu", "BLEU"),), row_label=lambda p: p["model.attention.score"]),
            objective=Metric("validation/bleu", "BLEU"))
        """)
    )
    results, workdirs = tmp_path / "results", tmp_path / "workdirs"
    command = [
        sys.executable,
        "-m",
        "attn_research.sweep",
        str(experiment_file),
        "--scale=smoke",
        f"--results_dir={results}",
        f"--workdir_root={workdirs}",
    ]
    first = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert first.returncode == 1, first.stdout + first.stderr
    assert (results / "tiny" / "smoke" / "score=dot,seed=0.json").is_file()
    assert not (results / "tiny" / "smoke" / "score=bogus,seed=0.json").exists()
    records = [json.loads(line) for line in open(workdirs / "tiny" / "smoke" / runner.FAILURES_FILE)]
    assert [r["run"] for r in records] == ["score=bogus,seed=0"]
    assert records[0]["error_type"] == "InvalidInput" and "bogus" in records[0]["error_message"]
    assert "additive" in records[0]["error_message"], "the error lists the valid scores"
    table = (results / "tables" / "smoke" / "tiny.md").read_text()
    assert "| dot | 1/1 |" in table and "| bogus | 0/1 | – |" in table

    second = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert second.returncode == 1
    assert "1 of 2 runs already finished; running 1" in second.stdout
    log = (workdirs / "tiny" / "smoke" / "score=dot,seed=0" / runner.LOG_FILE).read_text()
    assert log.count("\n$ ") == 1, "the finished run was not started again"
    assert len(open(workdirs / "tiny" / "smoke" / runner.FAILURES_FILE).readlines()) == 2


def test_a_torn_results_json_counts_as_unfinished_and_its_run_runs_again(tmp_path, caplog):
    paths, _ = sweep(tmp_path, FakeRun())
    torn = os.path.join(paths.results_dir("toy", "smoke"), "score=dot,bridge=last,seed=1.json")
    with open(torn, "r+") as f:
        f.truncate(os.path.getsize(torn) // 2)  # as a crash in the middle of the write leaves it
    again = FakeRun()
    with caplog.at_level("WARNING"):
        _, failures = sweep(tmp_path, again)  # before: json.JSONDecodeError, naming no file, stopped the sweep
    assert failures == [] and again.ran == ["score=dot,bridge=last,seed=1"]
    assert any(torn in record.getMessage() for record in caplog.records), "the warning names the file"
    with open(torn) as f:
        assert json.load(f)["metrics"]["test"]["bleu"] == 10.0


RUNNER_WITH_A_SLOW_CHILD = textwrap.dedent("""\
    import sys
    sys.path.insert(0, {repo!r})
    from attn_research.sweeps import runner
    child = [sys.executable, "-c", "import os, time; open({pid_file!r}, 'w').write(str(os.getpid())); time.sleep(120)"]
    job = runner.Job("slow", {{}}, {workdir!r}, {results!r}, tuple(child))
    runner.run_jobs([job, job], {failures!r})
    """)


def test_a_signalled_sweep_runner_stops_its_running_child_and_exits(tmp_path):
    import signal

    pid_file = tmp_path / "child.pid"
    script = RUNNER_WITH_A_SLOW_CHILD.format(
        repo=REPO,
        pid_file=str(pid_file),
        workdir=str(tmp_path / "work"),
        results=str(tmp_path / "r.json"),
        failures=str(tmp_path / "f.jsonl"),
    )
    sweep_runner = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.time() + 60
    while not (pid_file.exists() and pid_file.read_text()) and time.time() < deadline:
        time.sleep(0.05)
    child = int(pid_file.read_text())
    sweep_runner.send_signal(signal.SIGTERM)
    _, stderr = sweep_runner.communicate(timeout=30)
    assert sweep_runner.returncode == 128 + signal.SIGTERM, stderr
    assert "SIGTERM received" in stderr
    for _ in range(50):  # the child got the signal too (before: it ran on, orphaned)
        if not os.path.exists(f"/proc/{child}"):
            break
        time.sleep(0.1)
    assert not os.path.exists(f"/proc/{child}"), "the child outlived the sweep runner"
    assert pid_file.read_text() == str(child), "the second job never started"


def _tear(path):
    with open(path, "r+") as f:
        f.truncate(os.path.getsize(path) // 2)


def test_torn_evaluation_and_proposal_files_are_unfinished_or_named(tmp_path):
    from attn_research import jsonio
    from attn_research.sweeps import aggregate

    experiment = toy(evaluation=Evaluation("test", beam=3), seeds=(0,))

    def train_and_tear_the_evaluation(job):
        FakeRun()(job)
        os.makedirs(os.path.dirname(job.eval_metrics_path), exist_ok=True)
        with open(job.eval_metrics_path, "w") as f:
            f.write('{"bleu": 1.0, "bleu_by')  # the evaluation died in the middle of its write

    paths, failures = sweep(tmp_path, train_and_tear_the_evaluation, experiment)
    assert len(failures) == 2 and all("exited without writing" in f.error_message for f in failures)
    jobs = [
        runner.make_job(experiment, EXPERIMENT_PATH, "smoke", p, paths)
        for p in runner.planned_points(experiment, "smoke", paths)
    ]
    assert all(job.trained() and not job.finished() for job in jobs)
    assert aggregate.read_run_metrics(jobs) == {}, "an unfinished run is not in the table"

    proposals = os.path.join(paths.results_dir("toy", "smoke"), runner.PROPOSALS_FILE)
    jsonio.write_json(proposals, {"": [{"train.learning_rate": 0.01}]})
    _tear(proposals)
    with pytest.raises(jsonio.CorruptJSONError, match=runner.PROPOSALS_FILE):
        runner.read_proposals(proposals)
