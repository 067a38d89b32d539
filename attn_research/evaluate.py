"""Command line: evaluate a finished run's best checkpoint on a split or on a pair of text files.

    python -m attn_research.evaluate --workdir=<run> [--split=test] [--beam=5] [--length_penalty=0.6]
        [--source_file=src.txt[.gz] --reference_file=ref.txt[.gz]] [--heatmaps=4] [--unk_replace]

Also installed as the console script `attn-evaluate`. The data and model are rebuilt from the `config`
in <workdir>/results.json (written when train_and_evaluate finishes); the best checkpoint (best/) is
restored, else the latest (checkpoints/). Beam 1 is greedy search (Sutskever et al. 2014, sec. 3.1);
beam k > 1 is beam_search with the length penalty of Wu et al. (2016), eq. 14. Writes under
<workdir>/eval_<split>_beam<k>/ (split = 'file' for --source_file): metrics.json, hypotheses.txt,
bleu_by_length.png (Bahdanau et al. 2015, Fig. 2) and attention_<i>.png heatmaps (Fig. 3).
"""
from __future__ import annotations

import gzip
import json
import math
import os
import time
from typing import Any

import jax
import ml_collections
import numpy as np
from absl import app, flags, logging

from attn_research.data import Split, load_dataset, make_batches
from attn_research.data.dataset import reverse_sources
from attn_research.decoding import beam_search, greedy_decode, replace_unknown_words
from attn_research.evaluate_results import write_decoding_result
from attn_research.logging import plot_attention
from attn_research.metrics import (alignment_accuracy, alignment_error_rate, attention_entropy, bleu_by_length,
                                   corpus_bleu, gold_alignment, hard_alignments, length_bucket_edges)
from attn_research.models import build_model
from attn_research.training.checkpoint import Checkpoints
from attn_research.training.evaluation import strip_after_eos
from attn_research.training.mesh import make_mesh, replicate, shard_batch
from attn_research.training.optimizer import make_optimizer
from attn_research.training.state import create_train_state
from attn_research.training.steps import model_inputs

FILE_SPLIT = "file"

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Defines this command's absl flags (once; lazily, so that importing this module next to
    attn_research.main, which also defines --workdir, does not clash)."""
    if "beam" in FLAGS:
        return
    if "workdir" not in FLAGS:
        flags.DEFINE_string("workdir", None, "A finished run's directory (holds results.json).")
    flags.DEFINE_string("split", "test", "Split to evaluate: train, validation or test.")
    flags.DEFINE_integer("beam", 5, "Beam size; 1 = greedy search.")
    flags.DEFINE_float("length_penalty", 0.6, "Wu et al. (2016) alpha (beam > 1 only).")
    flags.DEFINE_string("source_file", None, "Source sentences, one a line (plain or .gz).")
    flags.DEFINE_string("reference_file", None, "References, one a line (plain or .gz).")
    flags.DEFINE_integer("heatmaps", 4, "Attention heatmaps of the first N examples.")
    flags.DEFINE_boolean("unk_replace", False, "Replace <unk> by the most attended source word.")
    flags.DEFINE_integer("bucket_width", 0, "Source-length bucket width in tokens for BLEU by length; 0 = "
                         "from the data (10 if the median source has >= 20 tokens, else 5).")
    flags.DEFINE_string("results_dir", None, "Where decoding results go (default: the run's config.results_dir).")


def read_lines(path: str) -> list[str]:
    """The lines of a UTF-8 text file (gzip-compressed if the name ends in .gz), newlines stripped.

    Raises FileNotFoundError naming a missing file; ValueError naming the file (and line) for a file
    that is not valid gzip / UTF-8, or that holds an empty line.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such file: {path}")
    opener = gzip.open if path.endswith(".gz") else open
    lines = []
    try:
        with opener(path, "rb") as f:
            for number, raw in enumerate(f, start=1):
                try:
                    line = raw.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError as e:
                    raise ValueError(f"{path}, line {number}: not valid UTF-8 ({e})") from None
                if not line.strip():
                    raise ValueError(f"{path}, line {number}: empty line (one sentence per line expected)")
                lines.append(line)
    except (OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"{path}: cannot read ({e})") from None
    if not lines:
        raise ValueError(f"{path}: no sentences")
    return lines


def split_from_files(source_file: str, reference_file: str, source_vocab, target_vocab,
                     reverse_source: bool = False) -> Split:
    """A Split of the sentence pairs in two parallel files, tokenized with the run's tokenizers.

    reverse_source: read each source sentence backwards, as a run with data key reverse_source was
    trained (data.dataset.reverse_sources). Raises ValueError naming both files if their line counts
    differ (and see read_lines).
    """
    sources, references = read_lines(source_file), read_lines(reference_file)
    if len(sources) != len(references):
        raise ValueError(f"{source_file} has {len(sources)} lines but {reference_file} has {len(references)}; "
                         "need one reference per source sentence")
    source_tokens = [source_vocab.tokenizer.tokenize(s) for s in sources]
    target_tokens = [target_vocab.tokenizer.tokenize(r) for r in references]
    split = Split(source_ids=[np.asarray(source_vocab.encode(t), np.int32) for t in source_tokens],
                  target_ids=[np.asarray(target_vocab.encode(t), np.int32) for t in target_tokens],
                  source_tokens=source_tokens, target_tokens=target_tokens,
                  references=[r.strip() for r in references], name=FILE_SPLIT)
    return reverse_sources(split) if reverse_source else split


def load_run(workdir: str):
    """(config, data, model, mesh, state) of a finished run, state restored from best/ (else checkpoints/).

    Raises FileNotFoundError if results.json or every checkpoint is missing (the run has not finished).
    """
    path = os.path.join(workdir, "results.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} not found: the run in {workdir} has not finished "
                                "(train_and_evaluate writes results.json at the end)")
    with open(path) as f:
        config = ml_collections.ConfigDict(json.load(f)["config"])
    data = load_dataset(config.data)
    model = build_model(config.model, data.source_vocab.size, data.target_vocab.size)
    batches = make_batches(data.splits["train"], config.train.batch_size, seed=config.seed, epoch=0, shuffle=True)
    train_config = ml_collections.ConfigDict(config.train)
    if not train_config.get("num_steps"):
        with train_config.unlocked():
            train_config.num_steps = int(config.train.num_epochs * len(batches))
    state = create_train_state(model, make_optimizer(train_config, len(batches)), batches[0], config.seed)
    checkpoints = Checkpoints(workdir, keep=config.train.get("keep_checkpoints", 2),
                              best_metric=config.train.get("best_metric", "loss"),
                              best_mode=config.train.get("best_mode", "min"))
    try:
        restored = checkpoints.restore_best(state)
        if restored is None:
            if checkpoints.latest_step() is None:
                raise FileNotFoundError(f"no checkpoint in {workdir}/best or {workdir}/checkpoints")
            restored = checkpoints.restore_latest(state)
    finally:
        checkpoints.close()
    mesh = make_mesh()
    return config, data, model, mesh, replicate(restored, mesh)


def decode_split(model, params, split: Split, vocab, mesh, *, batch_size: int, beam: int, max_len: int,
                 length_penalty: float) -> tuple[list[list[int]], list[np.ndarray]]:
    """Decodes every example of `split`; returns (hypothesis ids up to eos, alignments).

    alignments[i]: [len(hyp_i) + 1, src_len_i] (the eos step included, rows beyond max_len cut).
    beam 1: greedy_decode; beam > 1: beam_search(n_best=1, length_penalty).
    """
    if beam < 1:
        raise ValueError(f"beam must be >= 1, got {beam}")
    if beam == 1:
        decode = jax.jit(lambda p, s, m: greedy_decode(model, p, s, m, max_len=max_len, bos_id=vocab.bos_id,
                                                       eos_id=vocab.eos_id))
    else:
        def decode(p, s, m):
            result = _beam(p, s, m)
            return result.tokens[:, 0], result.alignments[:, 0]
        _beam = jax.jit(lambda p, s, m: beam_search(model, p, s, m, beam_size=beam, max_len=max_len,
                                                    bos_id=vocab.bos_id, eos_id=vocab.eos_id,
                                                    length_penalty=length_penalty, n_best=1))
    n = len(split)
    hyp_ids: list[list[int]] = [[] for _ in range(n)]
    alignments: list[Any] = [None] * n
    for batch in make_batches(split, batch_size, seed=0, epoch=0, shuffle=False):
        sharded = shard_batch(model_inputs(batch), mesh)
        tokens, weights = jax.device_get(decode(params, sharded["source"], sharded["source_mask"]))
        for row, index in enumerate(batch["index"]):
            if index < 0:
                continue
            hyp_ids[index] = strip_after_eos(tokens[row], vocab.eos_id)
            src_len = int(batch["source_mask"][row].sum())
            alignments[index] = np.asarray(weights[row, : len(hyp_ids[index]) + 1, :src_len])
    return hyp_ids, alignments


def _plot_bleu_by_length(rows: list[dict], path: str, title: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    labels = [row["bucket"] for row in rows]
    values = [0.0 if row["bleu"] is None else row["bleu"] for row in rows]
    bars = ax.bar(range(len(rows)), values, color="steelblue")
    for bar, row in zip(bars, rows):
        ax.annotate(f"n={row['count']}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(rows)), labels)
    ax.set_xlabel("source sentence length (tokens)")
    ax.set_ylabel("BLEU")
    ax.set_title(title, fontsize=10)
    fig.savefig(path, format="png")


def evaluate_run(workdir: str, split: str = "test", beam: int = 5, length_penalty: float = 0.6,
                 source_file: str | None = None, reference_file: str | None = None, heatmaps: int = 4,
                 unk_replace: bool = False, results_dir: str | None = None, bucket_width: int = 0) -> dict:
    """Evaluates a finished run (module docstring) and returns the metrics written to metrics.json.

    metrics.json keys: bleu (sacrebleu corpus BLEU, [0, 100]), seq_accuracy (exact match of the decoded
    ids, [0, 1]; on files, of the reference's ids), num_sentences, beam, length_penalty, split,
    unk_replace, bleu_by_length (one entry per source-length bucket of width bucket_width tokens (0: from
    the data, see metrics.length_bucket_edges): bucket "[lo, hi)", lo, hi (null = inf), bleu (null if
    empty), count). For the synthetic copy / reverse tasks also alignment_accuracy
    and alignment_error_rate (against gold_alignment, over target steps t < min(hyp_len, src_len), eos
    step excluded) and attention_entropy (mean per-step entropy in nats, eos step included).
    A split of the run's dataset is also recorded with provenance in
    <results_dir>/<experiment>/decoding/ (attn_research/evaluate_results.py; results_dir defaults to the
    run's config.results_dir), which the README's decoding table is generated from.
    Raises FileNotFoundError / ValueError for an unfinished run, an unknown split, bad files, or only one
    of source_file / reference_file.
    """
    if (source_file is None) != (reference_file is None):
        raise ValueError("--source_file and --reference_file must be given together")
    config, data, model, mesh, state = load_run(workdir)
    if source_file is not None:
        examples = split_from_files(source_file, reference_file, data.source_vocab, data.target_vocab,
                                    reverse_source=bool(config.data.get("reverse_source", False)))
        split = FILE_SPLIT
    else:
        if split not in data.splits:
            raise ValueError(f"unknown split {split!r}; valid: {sorted(data.splits)}")
        examples = data.splits[split]
    vocab = data.target_vocab
    start = time.perf_counter()
    hyp_ids, alignments = decode_split(
        model, state.params, examples, vocab, mesh, batch_size=config.eval.get("batch_size", config.train.batch_size),
        beam=beam, max_len=int(config.eval.max_decode_len), length_penalty=length_penalty)
    decode_time = time.perf_counter() - start
    hyp_tokens = []
    for i, ids in enumerate(hyp_ids):
        if unk_replace:
            hyp_tokens.append(replace_unknown_words(ids, alignments[i], examples.source_tokens[i], vocab))
        else:
            hyp_tokens.append(vocab.decode(ids))
    hypotheses = [vocab.detokenize(tokens) for tokens in hyp_tokens]
    references = list(examples.references)
    n = len(examples)
    source_lengths = [int(x) for x in examples.source_lengths]
    buckets = bleu_by_length(hypotheses, references, source_lengths,
                             length_bucket_edges(source_lengths, bucket_width))
    bucket_rows = [{"bucket": f"[{lo}, {hi})", "lo": lo, "hi": None if math.isinf(hi) else hi,
                    "bleu": None if math.isnan(row["bleu"]) else row["bleu"], "count": row["count"]}
                   for row in buckets for lo, hi in [row["bucket"]]]
    metrics: dict[str, Any] = {
        "split": split, "beam": beam, "length_penalty": length_penalty if beam > 1 else 0.0,
        "unk_replace": unk_replace, "num_sentences": n,
        "bleu": corpus_bleu(hypotheses, references),
        "seq_accuracy": sum(ids == [int(t) for t in ref] for ids, ref in zip(hyp_ids, examples.target_ids)) / n,
        "bleu_by_length": bucket_rows,
    }
    task = config.data.get("task") if config.data.get("name") == "synthetic" else None
    if task in ("copy", "reverse"):
        weights, golds, predicted, sure = [], [], set(), set()
        for i, a in enumerate(alignments):
            steps = min(len(hyp_ids[i]), a.shape[1])
            gold = gold_alignment(task, a.shape[1], bool(config.data.get("reverse_source", False)))[:steps]
            weights.append(a[:steps])
            golds.append(gold)
            predicted |= {(i, t, s) for t, s in hard_alignments(a[:steps])}
            sure |= {(i, t, int(s)) for t, s in enumerate(gold)}
        entropies = np.concatenate([attention_entropy(a) for a in alignments])
        total_steps = sum(len(g) for g in golds)
        metrics["alignment_accuracy"] = alignment_accuracy(weights, golds) if total_steps else 0.0
        metrics["alignment_error_rate"] = alignment_error_rate(predicted, sure) if predicted or sure else 1.0
        metrics["attention_entropy"] = float(entropies.mean()) if entropies.size else 0.0

    out_dir = os.path.join(workdir, f"eval_{split}_beam{beam}")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
    with open(os.path.join(out_dir, "hypotheses.txt"), "w", encoding="utf-8") as f:
        f.writelines(h + "\n" for h in hypotheses)
    _plot_bleu_by_length(bucket_rows, os.path.join(out_dir, "bleu_by_length.png"),
                         f"{config.get('name', '')} {split}, beam {beam}")
    if split != FILE_SPLIT:
        write_decoding_result(results_dir or config.get("results_dir", "results"), config.experiment,
                              config.get("run_name") or config.name, metrics,
                              checkpoint_step=int(jax.device_get(state.step)), decode_time_s=decode_time)
    for i in range(min(heatmaps, n)):
        target = list(hyp_tokens[i])
        if alignments[i].shape[0] > len(target):  # the eos step
            target.append(vocab.eos_token)
        if not target or not examples.source_tokens[i]:
            continue
        plot_attention(alignments[i], examples.source_tokens[i], target,
                       os.path.join(out_dir, f"attention_{i}.png"), title=f"{split} example {i}, beam {beam}")
    return metrics


def main(argv) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    if FLAGS.workdir is None:
        raise app.UsageError("--workdir is required")
    logging.set_verbosity(logging.WARNING)  # orbax logs dozens of INFO lines per restore
    try:
        metrics = evaluate_run(FLAGS.workdir, split=FLAGS.split, beam=FLAGS.beam,
                               length_penalty=FLAGS.length_penalty, source_file=FLAGS.source_file,
                               reference_file=FLAGS.reference_file, heatmaps=FLAGS.heatmaps,
                               unk_replace=FLAGS.unk_replace, results_dir=FLAGS.results_dir,
                               bucket_width=FLAGS.bucket_width)
    except (FileNotFoundError, ValueError) as e:
        raise app.UsageError(str(e)) from e
    print(json.dumps({k: v for k, v in metrics.items() if k != "bleu_by_length"}, indent=2))


def run() -> None:
    """Console-script entry point."""
    define_flags()
    app.run(main)


if __name__ == "__main__":
    run()
