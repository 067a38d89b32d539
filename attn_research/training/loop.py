"""The training loop of any task: data, model, optimizer, checkpoints, evaluation, logging, results JSON.

train_and_evaluate(config, workdir) turns a config into a trained, logged, checkpointed model. The task of
config.task (tasks/base.py) gives the data, the model, the batches, the loss, the evaluation, the plots and
its own results fields; this loop knows no task. Rerunning
the same command after a crash or kill resumes from the latest checkpoint: the batch order is a function
of (seed, epoch) and every step's randomness of (seed, step), so a resumed run ends with the same metrics
as an uninterrupted one.

A workdir trains one config (training/run_config.py), one process at a time (training/workdir_lock.py). An
ordinary run writes its results to <workdir>/results.json only; a run with config.results_dir set (sweeps,
--config.results_dir=results) also records them under <results_dir>/<experiment>/ (results_path). A
non-finite training loss stops the run (NonFiniteLossError) before anything of it is recorded. With
train.early_stopping_patience = P > 0 training stops once P evaluations in a row have not bettered the best
validation metric (patience_spent; the rule is a function of the steps, so a resumed run stops where an
uninterrupted one does); the best checkpoint is tested either way.

Several processes (training/distributed.py) run this same loop: each feeds its own rows of every global
batch, every process takes part in the checkpoints, and only process 0 locks the workdir and writes the
records (config.json, metrics.jsonl, W&B, plots, results JSON).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import time
from collections.abc import Callable

import jax
import ml_collections
import numpy as np
from absl import logging

from attn_research import jsonio, provenance
from attn_research.config_validation import validate_config
from attn_research.logging import MetricWriter, NullWriter, progress_bar
from attn_research.logging.progress import metrics_line
from attn_research.tasks import build_task, recorded_config
from attn_research.training import run_config
from attn_research.training.checkpoint import CheckpointError, Checkpoints
from attn_research.training.distributed import is_primary
from attn_research.training.mesh import make_mesh, replicate, shard_batch, shard_rows
from attn_research.training.model_summary import SUMMARY_FILE, model_summary
from attn_research.training.optimizer import make_optimizer
from attn_research.training.state import count_params, create_train_state
from attn_research.training.steps import train_step, train_steps
from attn_research.training.workdir_lock import WorkdirLock, WorkdirLockedError

RESULTS_FILE = "results.json"


class NonFiniteLossError(FloatingPointError):
    """The training loss (or gradient norm) became NaN or infinite."""


# What train_and_evaluate raises with a one-line message meant for the user as is (no traceback needed).
RUN_ERRORS = (WorkdirLockedError, run_config.ConfigMismatchError, CheckpointError, NonFiniteLossError)


def _num_steps(config: ml_collections.ConfigDict, steps_per_epoch: int) -> int:
    if config.train.get("num_steps"):
        return int(config.train.num_steps)
    return int(config.train.num_epochs * steps_per_epoch)


class _WallClock:
    """Training wall time summed over resumed runs (kept in <workdir>/wall_time.json, written atomically).
    A torn or unreadable file counts as 0 s, with a warning, rather than stopping the restart."""

    def __init__(self, workdir: str):
        self.path = os.path.join(workdir, "wall_time.json")
        self.previous = 0.0
        if os.path.exists(self.path):
            try:
                self.previous = float(jsonio.read_json(self.path)["wall_time_s"])
            except (ValueError, KeyError, TypeError) as error:  # CorruptJSONError is a ValueError
                logging.warning("%s unreadable (%s); the earlier runs' wall time counts as 0", self.path, error)
        self.start = time.time()

    def total(self) -> float:
        return self.previous + time.time() - self.start

    def save(self) -> None:
        if is_primary():
            jsonio.write_json(self.path, {"wall_time_s": self.total()})


def results_path(config: ml_collections.ConfigDict) -> str | None:
    """Where a finished run records its results JSON: None when config.results_dir is "" (the default: the
    results stay in <workdir>/results.json); else <results_dir>/<experiment>/<run_name or name>.json, unless
    that file already holds a run of another config (a key changed on the command line, say): then
    <name>-<8 hex digits of this config's hash>.json beside it, so that a trial never overwrites a recorded
    result. The same config again writes over its own file (its config recorded as recorded_config gives it,
    or whole, as results before the task layer were), and so does any run over a torn file (with a
    warning; it holds nothing to keep)."""
    if not config.get("results_dir"):
        return None
    directory = os.path.join(config.results_dir, config.experiment)
    path = os.path.join(directory, f"{config.get('run_name') or config.name}.json")
    if not os.path.isfile(path):
        return path
    try:
        recorded = jsonio.read_json(path).get("config")
    except jsonio.CorruptJSONError as error:
        logging.warning("%s; this run's results replace it", error)
        return path
    mine = json.loads(json.dumps(recorded_config(config), sort_keys=True, default=str))
    whole = json.loads(json.dumps(config.to_dict(), sort_keys=True, default=str))  # as results recorded it before
    if recorded is None or recorded in (mine, whole):
        return path
    digest = hashlib.sha256(json.dumps(mine, sort_keys=True).encode()).hexdigest()[:8]
    logging.warning("%s holds a run of another config; this run's results go to its -%s sibling", path, digest)
    return path.removesuffix(".json") + f"-{digest}.json"


def _call_size(step: int, steps_per_call: int, num_steps: int, cadences: tuple[int, ...]) -> int:
    """How many updates the call starting after `step` updates makes: steps_per_call, clipped so that the call
    ends on the next multiple of each cadence (log, eval, checkpoint) and on num_steps, never past them."""
    return min(steps_per_call, num_steps - step, *(every - step % every for every in cadences))


def stack_batches(arrays: list[dict], mesh) -> dict:
    """The step arrays of equally shaped batches stacked on a new axis 0 ([K, batch, ...]), the batch axis
    sharded over the mesh's 'data' axis (each process puts its own rows). Raises ValueError if the batch size
    is not divisible by the devices."""
    stacked = {name: np.stack([batch[name] for batch in arrays]) for name in arrays[0]}
    return shard_rows(stacked, mesh, axis=1)


@jax.jit
def _add_metrics(sums: dict, metrics: dict) -> dict:
    """sums + metrics, key by key, in one program (one dispatch a step; with several processes, one step of
    lockstep instead of one per metric)."""
    return jax.tree.map(lambda total, value: total + value, sums, metrics)


def _check_finite(sums: dict, first: int, done: int) -> None:
    """Raises NonFiniteLossError naming the steps when the summed loss or gradient norm of steps
    first..done is NaN or infinite. sums: host floats, or device scalars (then fetched: two scalars)."""
    for key in ("loss", "grad_norm"):
        if key in sums:
            value = float(jax.device_get(sums[key]))
            if not math.isfinite(value):
                raise NonFiniteLossError(
                    f"training {key} is {value} by step {done} (steps {first}-{done}); nothing recorded: lower "
                    "train.learning_rate (or check the data) and train in a new --workdir"
                )


def patience_spent(step: int, best_step: int | None, patience: int, eval_every: int) -> bool:
    """Early stopping (train.early_stopping_patience): whether, at `step`, `patience` evaluations (one every
    eval_every steps) have passed since the best one (best_step; None before any) without a better validation
    metric. patience 0 never stops. The reference codes of DLinear and PatchTST stop so (their patience 3 and
    100, in epochs)."""
    return patience > 0 and best_step is not None and step - best_step >= patience * eval_every


def train_and_evaluate(
    config: ml_collections.ConfigDict, workdir: str, step_callback: Callable[[int], None] | None = None
) -> dict:
    """Trains config.model on config.data, evaluates, and writes <workdir>/results.json (and, when
    config.results_dir is set, the recorded copy at results_path(config)).

    workdir receives config.json, model_summary.txt, metrics.jsonl, checkpoints/, best/, the task's plots
    (seq2seq: attention/*.png) and artifacts, and the W&B offline run. step_callback(step) is called after every optimizer step, or with train.steps_per_call
    = K > 1 after every jitted call of up to K steps (tests use it to simulate a crash). Returns the results dictionary written to the JSON file.
    Raises, each with a one-line message: config_validation.ConfigError for an invalid config (before the
    workdir is made); and the RUN_ERRORS: WorkdirLockedError when another process trains in `workdir`,
    run_config.ConfigMismatchError when `workdir` was trained with a config that differs in a key that
    changes the model, checkpoint.CheckpointError when no checkpoint loads or one holds another model's
    shapes, and NonFiniteLossError when the training loss becomes NaN or infinite (no results written).
    """
    validate_config(config)
    os.makedirs(workdir, exist_ok=True)
    with WorkdirLock(workdir) if is_primary() else contextlib.nullcontext():
        if is_primary():
            run_config.check_and_save(config, workdir)
        return _train(config, workdir, step_callback)


def _train(config: ml_collections.ConfigDict, workdir: str, step_callback: Callable[[int], None] | None) -> dict:
    """train_and_evaluate's work, in a locked workdir whose config.json agrees with `config`."""
    clock = _WallClock(workdir)
    git_commit = provenance.git_commit()  # the code this run starts from
    task = build_task(config)
    data = task.load_data()
    primary = is_primary()
    if primary:
        task.save_artifacts(workdir, data)
    mesh = make_mesh()
    model = task.build_model(data)
    batch_size = config.train.batch_size
    steps_per_call = int(config.train.get("steps_per_call", 1))

    def epoch_batches(epoch: int) -> list[dict]:  # one shape for all when calls stack several batches
        batches = task.train_batches(data, batch_size, config.seed, epoch, fixed_shape=steps_per_call > 1)
        return [task.step_arrays(batch) for batch in batches]

    first_batches = epoch_batches(0)
    steps_per_epoch = len(first_batches)
    num_steps = _num_steps(config, steps_per_epoch)
    train_config = ml_collections.ConfigDict(config.train)
    with train_config.unlocked():
        train_config.num_steps = num_steps
    tx = make_optimizer(train_config, steps_per_epoch)
    state = create_train_state(task, model, tx, first_batches[0], config.seed)
    num_params = count_params(state.params)
    logging.info(
        "model has %d parameters; %d steps of batch %d (%d per epoch)",
        num_params,
        num_steps,
        batch_size,
        steps_per_epoch,
    )
    if primary:
        jsonio.write_text(os.path.join(workdir, SUMMARY_FILE), model_summary(state.params))

    checkpoints = Checkpoints(
        workdir,
        keep=config.train.get("keep_checkpoints", 2),
        best_metric=config.train.get("best_metric", "loss"),
        best_mode=config.train.get("best_mode", "min"),
    )
    if checkpoints.latest_step() is not None:
        state = checkpoints.restore_latest(state)
        logging.info("resumed from the checkpoint of step %d", int(state.step))
    state = replicate(state, mesh)
    start_step = int(state.step)

    writer = MetricWriter(workdir, config, config.wandb) if primary else NullWriter()
    writer.write_summary({"num_params": num_params})
    evaluator = task.evaluator(model, data, mesh)
    eval_every = config.train.get("eval_every_steps") or steps_per_epoch
    log_every = config.train.get("log_every_steps", 50)
    checkpoint_every = config.train.get("checkpoint_every_steps") or eval_every
    num_plots = config.eval.get("num_heatmaps", 4)

    epochs = {0: first_batches}  # the batches of the epochs the current call reads

    def batch_at(step: int) -> dict:
        epoch, index = divmod(step, steps_per_epoch)
        if epoch not in epochs:
            epochs.clear()
            epochs[epoch] = epoch_batches(epoch)
        return epochs[epoch][index]

    patience = config.train.get("early_stopping_patience", 0)
    # a rerun after an early stop trains no further (best_step reads orbax's metadata: only with a patience)
    stopped = bool(patience) and patience_spent(start_step, checkpoints.best_step(), patience, eval_every)
    sums: dict = {}  # device scalars summed since the last log
    bar = progress_bar(num_steps, start_step, disable=None if primary else True)
    last_log = (start_step, time.time())
    step = start_step
    while step < num_steps and not stopped:
        if steps_per_call == 1:
            state, metrics = train_step(state, shard_batch(batch_at(step), mesh))
            done = step + 1
        else:  # a call never crosses a log, eval or checkpoint boundary (checkpoints land on call ends)
            done = step + _call_size(step, steps_per_call, num_steps, (log_every, eval_every, checkpoint_every))
            chunk = [batch_at(s) for s in range(step, done)]
            state, metrics = train_steps(state, stack_batches(chunk, mesh))
        sums = _add_metrics(sums, metrics) if sums else metrics  # device scalars: no sync per step
        if done % log_every == 0 or done == num_steps:
            count = log_every if done % log_every == 0 else done % log_every
            host = {k: float(v) for k, v in jax.device_get(sums).items()}
            _check_finite(host, done - count + 1, done)
            train_metrics = {
                "train/loss": host["loss"] / count,
                **{f"train/{key}": value for key, value in task.train_log(host, count).items()},
                "train/grad_norm": host["grad_norm"] / count,
                "train/epoch": done / steps_per_epoch,
                "train/steps_per_s": (done - last_log[0]) / max(time.time() - last_log[1], 1e-9),
            }
            writer.write_scalars(done, train_metrics)
            bar.set_step(done, loss=f"{train_metrics['train/loss']:.3f}")
            if bar.disabled and primary:  # no terminal (SLURM, nohup, | tee): a log line instead of the bar
                logging.info("%s", metrics_line(done, num_steps, train_metrics))
            sums, last_log = {}, (done, time.time())
        if done % eval_every == 0 or done == num_steps:
            result = evaluator.evaluate(state, "validation", keep_plots=num_plots)
            writer.write_scalars(done, {f"validation/{k}": v for k, v in result.metrics.items()})
            plots = task.plots(workdir, done, data, result) if primary else {}
            if plots:
                writer.write_images(done, plots)
            checkpoints.save_if_best(done, state, result.metrics)
            best_step = checkpoints.best_step() if patience else None
            stopped = patience_spent(done, best_step, patience, eval_every)
            if stopped:
                logging.info(
                    "early stop at step %d: %d evaluations without a better validation %s (best: step %d)",
                    done,
                    patience,
                    checkpoints.best_metric,
                    best_step,
                )
        if done % checkpoint_every == 0 or done == num_steps or stopped:
            _check_finite(sums, last_log[0] + 1, done)  # never checkpoint a state that went NaN since the log
            checkpoints.save_latest(done, state)
            clock.save()
        if step_callback is not None:
            step_callback(done)
        step = done
    bar.close()
    checkpoints.wait()

    best = checkpoints.restore_best(jax.device_get(state))
    final_state = replicate(best, mesh) if best is not None else state
    final = {split: evaluator.evaluate(final_state, split).metrics for split in ("validation", "test")}
    writer.write_summary({f"final/{split}/{k}": v for split, m in final.items() for k, v in m.items()})
    clock.save()
    results = {
        "experiment": config.experiment,
        "config_name": config.name,
        "config": recorded_config(config),  # config.model: the keys the model read
        "metrics": final,
        "best_step": int(final_state.step),
        "last_step": step,  # where training ended: num_steps, or earlier after an early stop
        "num_params": num_params,
        "seed": config.seed,
        "git_commit": git_commit,
        "wall_time_s": round(clock.total(), 1),
        "machine": provenance.machine(),
        **task.result_fields(data),  # seq2seq: bleu_signature, data_fingerprint
    }
    path = results_path(config) if primary else None
    if path is not None:
        jsonio.write_json(path, results, sort_keys=True, default=str)
        logging.info("results recorded in %s", path)
    if primary:
        jsonio.write_json(os.path.join(workdir, RESULTS_FILE), results, sort_keys=True, default=str)
    writer.close()
    checkpoints.close()
    return results
