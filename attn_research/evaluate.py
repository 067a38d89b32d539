"""Command line: evaluate a run's checkpoint on a split or a pair of files, or translate input without references.

    python -m attn_research.evaluate --workdir=<run> [--split=test] [--beam=5] [--length_penalty=0.6]
        [--source_file=src.txt[.gz]|- [--reference_file=ref.txt[.gz]]] [--output=hyps.txt|-]
        [--checkpoint=best|latest|<step>] [--heatmaps=4] [--unk_replace] [--results_dir=results]

Also installed as the console script `attn-evaluate`. The config comes from <workdir>/results.json (else the
<workdir>/config.json a training saves when it starts); text goes through the run's one preprocessing
pipeline (`attn_research.data.preprocessing`: normalization, lowercasing, tokenization, vocabularies, source
reversal), read from <workdir>/preprocessing/ (else rebuilt from the config's data set, for runs trained
before it was saved). A split is taken from the data set; files are read and checked before the model
loads, and their references are made exactly as the split's are. Output is detokenized text; a run trained
lowercased outputs lowercase (metrics.json: "lowercased": true; no recasing).
Beam 1 is greedy search (Sutskever et al. 2014, sec. 3.1); beam k > 1 is beam_search with the length
penalty of Wu et al. (2016), eq. 14. Writes <workdir>/eval_<split>_beam<k>/ (split = 'file' for
--source_file with --reference_file, 'input' for --source_file alone): metrics.json, hypotheses.txt,
bleu_by_length.png (Bahdanau et al. 2015, Fig. 2; with references) and attention_<i>.png heatmaps (Fig. 3).
A folder holding an evaluation with other settings is kept: the new one goes to a -<hash> sibling.
A split's evaluation is also recorded under <results_dir>/<experiment>/decoding/ when --results_dir is
given or the run's config.results_dir is non-empty. The metrics summary is printed on stdout (on stderr
with --output=-, so that stdout holds only the hypotheses). Errors print as one line `error: ...` (exit 1).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import math
import os
import sys
import time
from typing import Any

import jax
import ml_collections
import numpy as np
from absl import app, flags, logging

from attn_research.data import Split, load_dataset, make_batches
from attn_research.data.preprocessing import Preprocessing, load_preprocessing, preprocessing_of
from attn_research.decoding import beam_search, greedy_decode, replace_unknown_words
from attn_research.evaluate_results import canonical, sibling_path, write_decoding_result
from attn_research.jsonio import read_json, write_json
from attn_research.logging import MetricWriter, plot_attention
from attn_research.metrics import (
    alignment_accuracy,
    alignment_error_rate,
    attention_entropy,
    bleu_by_length,
    gold_alignment,
    hard_alignments,
    length_bucket_edges,
)
from attn_research.metrics.bleu import corpus_bleu_with_signature, token_bleu
from attn_research.tasks import build_task
from attn_research.tasks.seq2seq import strip_after_eos
from attn_research.training.checkpoint import CheckpointError, Checkpoints, restore_newest_loadable
from attn_research.training.mesh import make_mesh, replicate, shard_batch
from attn_research.training.optimizer import make_optimizer
from attn_research.training.state import create_train_state

FILE_SPLIT = "file"  # --source_file with --reference_file
INPUT_SPLIT = "input"  # --source_file alone: translation without references
STDIN = "-"

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Defines this command's absl flags (once; lazily, so that importing this module next to
    attn_research.main, which also defines --workdir, does not clash)."""
    if "beam" in FLAGS:
        return
    if "workdir" not in FLAGS:
        flags.DEFINE_string("workdir", None, "A trained run's directory.")
    flags.DEFINE_string("split", "test", "Split to evaluate: train, validation or test.")
    flags.DEFINE_integer("beam", 5, "Beam size; 1 = greedy search.")
    flags.DEFINE_float("length_penalty", 0.6, "Wu et al. (2016) alpha (beam > 1 only).")
    flags.DEFINE_string("source_file", None, "Source sentences, one a line (plain or .gz; '-' = stdin).")
    flags.DEFINE_string("reference_file", None, "References, one a line (plain or .gz); optional.")
    flags.DEFINE_string("output", None, "Also write the hypotheses here ('-' = stdout).")
    flags.DEFINE_string("checkpoint", "best", "best (else latest), latest, or a step number.")
    flags.DEFINE_integer("heatmaps", 4, "Attention heatmaps of the first N examples.")
    flags.DEFINE_boolean("unk_replace", False, "Replace <unk> by the most attended source word.")
    flags.DEFINE_integer(
        "bucket_width",
        0,
        "Source-length bucket width in tokens for BLEU by length; 0 = "
        "from the data (10 if the median source has >= 20 tokens, else 5).",
    )
    flags.DEFINE_string(
        "results_dir",
        None,
        "Record a split's decoding under this folder (default: the run's config.results_dir; empty = do not record).",
    )


def read_lines(path: str) -> list[str]:
    """The lines of a UTF-8 text file (gzip-compressed if the name ends in .gz; '-' = stdin), newlines
    stripped.

    Raises FileNotFoundError naming a missing file; ValueError naming the file (and line) for a file
    that is not valid gzip / UTF-8, or that holds an empty line or no line.
    """
    if path != STDIN and not os.path.isfile(path):
        raise FileNotFoundError(f"no such file: {path}")
    name = "<stdin>" if path == STDIN else path
    lines = []
    try:
        if path == STDIN:
            source = contextlib.nullcontext(sys.stdin.buffer)  # not closed
        else:
            source = (gzip.open if path.endswith(".gz") else open)(path, "rb")
        with source as f:
            for number, raw in enumerate(f, start=1):
                try:
                    line = raw.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError as e:
                    raise ValueError(f"{name}, line {number}: not valid UTF-8 ({e})") from None
                if not line.strip():
                    raise ValueError(f"{name}, line {number}: empty line (one sentence per line expected)")
                lines.append(line)
    except (OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"{name}: cannot read ({e})") from None
    if not lines:
        raise ValueError(f"{name}: no sentences")
    return lines


def read_inputs(source_file: str, reference_file: str | None) -> tuple[list[str], list[str] | None]:
    """(source lines, reference lines or None) of the files; see read_lines for the errors. Raises
    ValueError naming both files if their line counts differ."""
    sources = read_lines(source_file)
    if reference_file is None:
        return sources, None
    references = read_lines(reference_file)
    if len(sources) != len(references):
        raise ValueError(
            f"{source_file} has {len(sources)} lines but {reference_file} has {len(references)}; "
            "need one reference per source sentence"
        )
    return sources, references


def parse_checkpoint(checkpoint: str | int) -> str | int:
    """'best' | 'latest' | a step number (int). Raises ValueError otherwise."""
    text = str(checkpoint).strip()
    if text in ("best", "latest"):
        return text
    if text.isdigit():
        return int(text)
    raise ValueError(f"--checkpoint must be best, latest or a step number, got {checkpoint!r}")


def load_config(workdir: str) -> ml_collections.ConfigDict:
    """The run's config: from <workdir>/results.json, else <workdir>/config.json (saved at the start).

    Raises FileNotFoundError when neither exists, CorruptJSONError naming a torn file.
    """
    results = os.path.join(workdir, "results.json")
    if os.path.isfile(results):
        return ml_collections.ConfigDict(read_json(results)["config"])
    started = os.path.join(workdir, "config.json")
    if os.path.isfile(started):
        return ml_collections.ConfigDict(read_json(started))
    raise FileNotFoundError(
        f"{results} not found: the run in {workdir} has not finished "
        "(train_and_evaluate writes results.json at the end)"
    )


def load_preprocessing_and_data(workdir: str, config, need_data: bool) -> tuple[Preprocessing, Any]:
    """(the run's pipeline, its TranslationData or None).

    The pipeline saved in <workdir>/preprocessing/ is used; a run without one (trained before it was saved)
    gets it rebuilt from config.data. need_data: load the data set (to evaluate one of its splits); then a
    saved pipeline must agree with the data's (else ValueError naming what differs: the data changed).
    """
    saved = load_preprocessing(workdir)
    if saved is not None and not need_data:
        return saved, None
    data = load_dataset(config.data)
    rebuilt = preprocessing_of(data, config.data)
    if saved is None:
        return rebuilt, data
    differ = rebuilt.same_as(saved)
    if differ:
        raise ValueError(
            f"the data set now gives another preprocessing than {workdir}/preprocessing was trained "
            f"with ({', '.join(differ)}): evaluate files with --source_file instead"
        )
    return saved, data


def _example_batch(batch_size: int, length: int = 8) -> dict[str, np.ndarray]:
    """A batch of the shapes the model is initialized with (its parameters do not depend on the lengths)."""
    return {
        "source": np.full((batch_size, length), 4, np.int32),
        "source_mask": np.ones((batch_size, length), bool),
        "target_input": np.full((batch_size, length), 1, np.int32),
    }


def restore_model(workdir: str, config, pipeline: Preprocessing, checkpoint: str | int = "best"):
    """(model, mesh, state, checkpoint info) of the run; info = {requested, step, folder}.

    checkpoint: 'best' (the best-validation state, else the latest), 'latest', or a step number (from
    checkpoints/ or best/). Raises FileNotFoundError when no checkpoint (or not that step) exists, and the
    checkpoint module's CheckpointError when none loads.
    """
    checkpoints = Checkpoints(
        workdir,
        keep=config.train.get("keep_checkpoints", 2),
        best_metric=config.train.get("best_metric", "loss"),
        best_mode=config.train.get("best_mode", "min"),
    )
    try:
        # which checkpoint, decided (and a missing one reported) before the model is built
        steps = None  # restore_newest_loadable's steps: None = every step, newest first
        if checkpoint == "best" and checkpoints.best.best_step() is not None:
            folder, manager, steps = "best", checkpoints.best, [checkpoints.best.best_step()]
        elif checkpoint in ("best", "latest"):
            if checkpoints.latest_step() is None:
                raise FileNotFoundError(f"no checkpoint in {workdir}/best or {workdir}/checkpoints")
            folder, manager = "checkpoints", checkpoints.latest
        else:
            for folder, manager in (("checkpoints", checkpoints.latest), ("best", checkpoints.best)):  # noqa: B007 (read after the break)
                if checkpoint in manager.all_steps():
                    steps = [checkpoint]
                    break
            else:
                saved = sorted(set(checkpoints.latest.all_steps()) | set(checkpoints.best.all_steps()))
                raise FileNotFoundError(
                    f"no checkpoint of step {checkpoint} in {workdir}; steps saved: "
                    f"{', '.join(map(str, saved)) or 'none'}"
                )
        task = build_task(config)  # the seq2seq task: its model reads the vocabulary sizes of the pipeline
        model = task.build_model(pipeline)
        train_config = ml_collections.ConfigDict(config.train)
        with train_config.unlocked():
            train_config.num_steps = int(config.train.get("num_steps") or 1)
        # The optimizer's state structure is what the checkpoint needs; its schedule's values are not.
        state = create_train_state(
            task, model, make_optimizer(train_config, 1), _example_batch(int(config.train.batch_size)), config.seed
        )
        restored = restore_newest_loadable(manager, state, steps)
    finally:
        checkpoints.close()
    mesh = make_mesh()
    info = {"requested": checkpoint, "step": int(jax.device_get(restored.step)), "folder": folder}
    return model, mesh, replicate(restored, mesh), info


def decode_split(
    model, params, split: Split, vocab, mesh, *, batch_size: int, beam: int, max_len: int, length_penalty: float
) -> tuple[list[list[int]], list[np.ndarray]]:
    """Decodes every example of `split`; returns (hypothesis ids up to eos, alignments).

    alignments[i]: [len(hyp_i) + 1, src_len_i] (the eos step included, rows beyond max_len cut).
    beam 1: greedy_decode; beam > 1: beam_search(n_best=1, length_penalty).
    """
    if beam < 1:
        raise ValueError(f"beam must be >= 1, got {beam}")
    if beam == 1:
        decode = jax.jit(
            lambda p, s, m: greedy_decode(model, p, s, m, max_len=max_len, bos_id=vocab.bos_id, eos_id=vocab.eos_id)
        )
    else:

        def decode(p, s, m):
            result = _beam(p, s, m)
            return result.tokens[:, 0], result.alignments[:, 0]

        _beam = jax.jit(
            lambda p, s, m: beam_search(
                model,
                p,
                s,
                m,
                beam_size=beam,
                max_len=max_len,
                bos_id=vocab.bos_id,
                eos_id=vocab.eos_id,
                length_penalty=length_penalty,
                n_best=1,
            )
        )
    n = len(split)
    hyp_ids: list[list[int]] = [[] for _ in range(n)]
    alignments: list[Any] = [None] * n
    for batch in make_batches(split, batch_size, seed=0, epoch=0, shuffle=False):
        sharded = shard_batch({"source": batch["source"], "source_mask": batch["source_mask"]}, mesh)
        tokens, weights = jax.device_get(decode(params, sharded["source"], sharded["source_mask"]))
        for row, index in enumerate(batch["index"]):
            if index < 0:
                continue
            hyp_ids[index] = strip_after_eos(tokens[row], vocab.eos_id)
            src_len = int(batch["source_mask"][row].sum())
            alignments[index] = np.asarray(weights[row, : len(hyp_ids[index]) + 1, :src_len])
    return hyp_ids, alignments


def bleu_by_length_figure(rows: list[dict], title: str):
    """Bar chart (a matplotlib Figure) of BLEU per source-length bucket; buckets without sentences are left
    out. rows: evaluate_run's bleu_by_length entries."""
    from attn_research.logging.figures import new_figure

    rows = [row for row in rows if row["count"] > 0]
    fig = new_figure(figsize=(6, 4), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    labels = [row["bucket"] for row in rows]
    values = [0.0 if row["bleu"] is None else row["bleu"] for row in rows]
    bars = ax.bar(range(len(rows)), values, color="steelblue")
    for bar, row in zip(bars, rows):
        ax.annotate(
            f"n={row['count']}",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_xticks(range(len(rows)), labels)
    ax.set_xlabel("source sentence length (tokens)")
    ax.set_ylabel("BLEU")
    ax.set_title(title, fontsize=10)
    return fig


def _sha256(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def output_dir(workdir: str, name: str, settings: dict) -> str:
    """<workdir>/<name>, or its -<hash> sibling when that folder holds an evaluation of other settings."""

    def recorded(folder: str):
        metrics = os.path.join(folder, "metrics.json")
        return read_json(metrics).get("settings") if os.path.isfile(metrics) else None

    return sibling_path(os.path.join(workdir, name), settings, recorded)


def evaluate_run(
    workdir: str,
    split: str = "test",
    beam: int = 5,
    length_penalty: float = 0.6,
    source_file: str | None = None,
    reference_file: str | None = None,
    heatmaps: int = 4,
    unk_replace: bool = False,
    results_dir: str | None = None,
    bucket_width: int = 0,
    checkpoint: str | int = "best",
    output: str | None = None,
) -> dict:
    """Evaluates (or, without references, translates with) a trained run (module docstring); returns the
    metrics written to metrics.json.

    metrics.json keys: split ('file' / 'input' for files), beam, length_penalty, unk_replace, num_sentences,
    checkpoint_step, lowercased (the run's pipeline lowercases: output is lowercase), settings (the input
    (split, or file paths with sha256 of their lines) and every decoding setting: what makes two evaluations
    the same). With references also: bleu (sacrebleu corpus BLEU, [0, 100], of the detokenized output
    against the pipeline's references), bleu_signature (sacrebleu's), bleu_tokens (metrics.token_bleu of the
    output tokens against the reference's tokens: the PyTorch notebooks' torchtext BLEU), seq_accuracy (exact match of the
    decoded ids with the reference's ids, [0, 1]), bleu_by_length (one entry per source-length bucket of
    width bucket_width tokens (0: from the data, see metrics.length_bucket_edges): bucket "[lo, hi)", lo, hi
    (null = inf), bleu (null if empty), count). For the synthetic copy / reverse tasks also
    alignment_accuracy and alignment_error_rate (against gold_alignment, over target steps t < min(hyp_len,
    src_len), eos step excluded) and attention_entropy (mean per-step entropy in nats, eos step included).
    output: also write the hypotheses to this file ('-' = stdout). A split's evaluation is recorded in
    <results_dir>/<experiment>/decoding/ (attn_research/evaluate_results.py) when results_dir, else the
    run's config.results_dir, is non-empty.
    Raises FileNotFoundError / ValueError for an unfinished run, an unknown split or checkpoint, bad files
    (checked before the model loads), or a reference file without a source file.
    """
    if reference_file is not None and source_file is None:
        raise ValueError("--reference_file needs --source_file")
    if beam < 1:
        raise ValueError(f"--beam must be >= 1, got {beam}")
    checkpoint = parse_checkpoint(checkpoint)
    if source_file is not None:
        sources, reference_lines = read_inputs(source_file, reference_file)
    config = load_config(workdir)
    settings: dict[str, Any] = {}
    if source_file is not None:
        split = FILE_SPLIT if reference_lines is not None else INPUT_SPLIT
        settings["input"] = {
            "source_file": source_file if source_file == STDIN else os.path.abspath(source_file),
            "source_sha256": _sha256(sources),
        }
        if reference_lines is not None:
            settings["input"].update(
                reference_file=os.path.abspath(reference_file), reference_sha256=_sha256(reference_lines)
            )
        pipeline, _ = load_preprocessing_and_data(workdir, config, need_data=False)
        examples = pipeline.encode(split, sources, reference_lines)
    else:
        reference_lines = []
        pipeline, data = load_preprocessing_and_data(workdir, config, need_data=True)
        if split not in data.splits:
            raise ValueError(f"unknown split {split!r}; valid: {sorted(data.splits)}")
        settings["input"] = {"split": split}
        examples = data.splits[split]
    has_references = reference_lines is not None
    model, mesh, state, checkpoint_info = restore_model(workdir, config, pipeline, checkpoint)
    vocab = pipeline.target_vocab
    max_len = int(config.eval.max_decode_len)
    settings.update(
        beam=beam,
        length_penalty=length_penalty if beam > 1 else 0.0,
        max_decode_len=max_len,
        unk_replace=unk_replace,
        bucket_width=bucket_width,
        checkpoint=checkpoint_info,
    )
    start = time.perf_counter()
    hyp_ids, alignments = decode_split(
        model,
        state.params,
        examples,
        vocab,
        mesh,
        batch_size=config.eval.get("batch_size", config.train.batch_size),
        beam=beam,
        max_len=max_len,
        length_penalty=length_penalty,
    )
    decode_time = time.perf_counter() - start
    hyp_tokens = []
    for i, ids in enumerate(hyp_ids):
        if unk_replace:
            hyp_tokens.append(replace_unknown_words(ids, alignments[i], examples.source_tokens[i], vocab))
        else:
            hyp_tokens.append(vocab.decode(ids))
    hypotheses = [pipeline.detokenize(tokens) for tokens in hyp_tokens]
    n = len(examples)
    metrics: dict[str, Any] = {
        "split": split,
        "beam": beam,
        "length_penalty": settings["length_penalty"],
        "unk_replace": unk_replace,
        "num_sentences": n,
        "checkpoint_step": checkpoint_info["step"],
        "lowercased": pipeline.lowercase,
    }
    bucket_rows = []
    if has_references:
        references = list(examples.references)
        source_lengths = [int(x) for x in examples.source_lengths]
        buckets = bleu_by_length(
            hypotheses, references, source_lengths, length_bucket_edges(source_lengths, bucket_width)
        )
        bucket_rows = [
            {
                "bucket": f"[{lo}, {hi})",
                "lo": lo,
                "hi": None if math.isinf(hi) else hi,
                "bleu": None if math.isnan(row["bleu"]) else row["bleu"],
                "count": row["count"],
            }
            for row in buckets
            for lo, hi in [row["bucket"]]
        ]
        bleu, signature = corpus_bleu_with_signature(hypotheses, references)
        metrics.update(
            {
                "bleu": bleu,
                "bleu_signature": signature,
                "bleu_tokens": token_bleu(hyp_tokens, examples.target_tokens),
                "seq_accuracy": sum(ids == [int(t) for t in ref] for ids, ref in zip(hyp_ids, examples.target_ids)) / n,
                "bleu_by_length": bucket_rows,
            }
        )
    task = config.data.get("task") if config.data.get("name") == "synthetic" else None
    if task in ("copy", "reverse"):
        metrics.update(_alignment_metrics(task, hyp_ids, alignments, bool(config.data.get("reverse_source", False))))
    metrics["settings"] = canonical(settings)

    out_dir = output_dir(workdir, f"eval_{split}_beam{beam}", metrics["settings"])
    write_json(os.path.join(out_dir, "metrics.json"), metrics)
    _write_text(os.path.join(out_dir, "hypotheses.txt"), hypotheses)
    if output == STDIN:
        sys.stdout.writelines(h + "\n" for h in hypotheses)
        sys.stdout.flush()
    elif output:
        _write_text(output, hypotheses)
    if has_references:
        bleu_by_length_figure(bucket_rows, f"{config.get('name', '')} {split}, beam {beam}").savefig(
            os.path.join(out_dir, "bleu_by_length.png"), format="png"
        )
    record_dir = results_dir or config.get("results_dir")
    if split not in (FILE_SPLIT, INPUT_SPLIT) and record_dir:
        write_decoding_result(
            record_dir,
            config.experiment,
            config.get("run_name") or config.name,
            metrics,
            config=config.to_dict(),
            decoding=settings,
            checkpoint_step=checkpoint_info["step"],
            decode_time_s=decode_time,
        )
    if has_references and split not in (FILE_SPLIT, INPUT_SPLIT):
        _log_to_run(workdir, config, split, beam, metrics)
    for i in range(min(heatmaps, n)):
        target = list(hyp_tokens[i])
        if alignments[i].shape[0] > len(target):  # the eos step
            target.append(vocab.eos_token)
        if not target or not examples.source_tokens[i]:
            continue
        plot_attention(
            alignments[i],
            examples.source_tokens[i],
            target,
            os.path.join(out_dir, f"attention_{i}.png"),
            title=f"{split} example {i}, beam {beam}",
        )
    return metrics


def _log_to_run(workdir: str, config: ml_collections.ConfigDict, split: str, beam: int, metrics: dict) -> None:
    """Adds this evaluation's BLEU and exact match to the run's summary.json and to its W&B run (resumed
    from <workdir>/wandb_run_id.txt; W&B failures never stop an evaluation, see MetricWriter), under
    eval/<split>/beam<k>/."""
    prefix = f"eval/{split}/beam{beam}"
    with MetricWriter(workdir, config, config.get("wandb")) as writer:
        writer.write_summary(
            {
                f"{prefix}/bleu": metrics["bleu"],
                f"{prefix}/seq_accuracy": metrics["seq_accuracy"],
                f"{prefix}/bleu_signature": metrics["bleu_signature"],
            }
        )


def _write_text(path: str, lines: list[str]) -> None:
    """One line each, written to a temporary file beside `path` and renamed over it."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.writelines(line + "\n" for line in lines)
    os.replace(tmp, path)


def _alignment_metrics(
    task: str, hyp_ids: list[list[int]], alignments: list[np.ndarray], reverse_source: bool
) -> dict[str, float]:
    """alignment_accuracy, alignment_error_rate and attention_entropy against the task's gold alignment."""
    weights, golds, predicted, sure = [], [], set(), set()
    for i, a in enumerate(alignments):
        steps = min(len(hyp_ids[i]), a.shape[1])
        gold = gold_alignment(task, a.shape[1], reverse_source)[:steps]
        weights.append(a[:steps])
        golds.append(gold)
        predicted |= {(i, t, s) for t, s in hard_alignments(a[:steps])}
        sure |= {(i, t, int(s)) for t, s in enumerate(gold)}
    entropies = np.concatenate([attention_entropy(a) for a in alignments])
    total_steps = sum(len(g) for g in golds)
    return {
        "alignment_accuracy": alignment_accuracy(weights, golds) if total_steps else 0.0,
        "alignment_error_rate": alignment_error_rate(predicted, sure) if predicted or sure else 1.0,
        "attention_entropy": float(entropies.mean()) if entropies.size else 0.0,
    }


def main(argv) -> None:
    if len(argv) > 1:
        raise SystemExit(f"error: unexpected arguments: {' '.join(argv[1:])}")
    if FLAGS.workdir is None:
        raise SystemExit("error: --workdir is required")
    logging.set_verbosity(logging.WARNING)  # orbax logs dozens of INFO lines per restore
    try:
        metrics = evaluate_run(
            FLAGS.workdir,
            split=FLAGS.split,
            beam=FLAGS.beam,
            length_penalty=FLAGS.length_penalty,
            source_file=FLAGS.source_file,
            reference_file=FLAGS.reference_file,
            heatmaps=FLAGS.heatmaps,
            unk_replace=FLAGS.unk_replace,
            results_dir=FLAGS.results_dir,
            bucket_width=FLAGS.bucket_width,
            checkpoint=FLAGS.checkpoint,
            output=FLAGS.output,
        )
    except (FileNotFoundError, ValueError, CheckpointError) as e:
        raise SystemExit(f"error: {e}") from None
    summary = json.dumps({k: v for k, v in metrics.items() if k not in ("bleu_by_length", "settings")}, indent=2)
    print(summary, file=sys.stderr if FLAGS.output == STDIN else sys.stdout)


def run() -> None:
    """Console-script entry point."""
    define_flags()
    app.run(main)


if __name__ == "__main__":
    run()
