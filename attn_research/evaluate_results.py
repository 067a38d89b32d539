"""Decoding results of `attn_research.evaluate`, kept beside the training results (never typed by hand).

Each evaluation of a split writes results/<experiment>/decoding/<run>__<split>__beam<k>.json:
    experiment, run, split, beam, length_penalty, unk_replace, metrics (bleu, seq_accuracy, bleu_by_length,
    alignment metrics where gold alignments exist), checkpoint_step, num_sentences, decode_time_s (wall
    time of decoding the split, compilation included), sentences_per_s, git_commit, machine, time.
and redraws results/<experiment>/decoding/<run>__<split>__bleu_by_length.png with one curve per beam size
found there (Bahdanau et al. 2015, Fig. 2 style). The README's `decoding` table is generated from these files.
"""
from __future__ import annotations

import glob
import json
import os
import time

from attn_research import provenance

SEPARATOR = "__"


def decoding_results_dir(results_dir: str, experiment: str) -> str:
    """results/<experiment>/decoding."""
    return os.path.join(results_dir, experiment, "decoding")


def write_decoding_result(results_dir: str, experiment: str, run: str, metrics: dict, *, checkpoint_step,
                          decode_time_s: float) -> str:
    """Writes one evaluation's JSON (module docstring) and redraws the run's BLEU-by-length plot.

    metrics: evaluate_run's metrics (split, beam, length_penalty, unk_replace, num_sentences, bleu, ...).
    Returns the JSON path.
    """
    out_dir = decoding_results_dir(results_dir, experiment)
    os.makedirs(out_dir, exist_ok=True)
    split, beam = metrics["split"], metrics["beam"]
    suffix = "_unk" if metrics.get("unk_replace") else ""
    path = os.path.join(out_dir, f"{run}{SEPARATOR}{split}{SEPARATOR}beam{beam}{suffix}.json")
    n = metrics["num_sentences"]
    record = {
        "experiment": experiment, "run": run, "split": split, "beam": beam,
        "length_penalty": metrics["length_penalty"], "unk_replace": metrics.get("unk_replace", False),
        "metrics": {k: v for k, v in metrics.items()
                    if k not in ("split", "beam", "length_penalty", "unk_replace", "num_sentences")},
        "checkpoint_step": checkpoint_step, "num_sentences": n, "decode_time_s": round(decode_time_s, 2),
        "sentences_per_s": round(n / decode_time_s, 2) if decode_time_s > 0 else None,
        "git_commit": provenance.git_commit(), "machine": provenance.machine(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    with open(path, "w") as f:
        json.dump(record, f, indent=2)
    plot_bleu_by_length_curves(out_dir, run, split)
    return path


def read_decoding_results(results_dir: str) -> list[dict]:
    """Every results/<experiment>/decoding/*.json, sorted by experiment, run, split, beam."""
    records = []
    for path in glob.glob(os.path.join(results_dir, "*", "decoding", "*.json")):
        with open(path) as f:
            record = json.load(f)
        record["path"] = path
        records.append(record)
    return sorted(records, key=lambda r: (r["experiment"], r["run"], r["split"], r["beam"], r["unk_replace"]))


def plot_path(out_dir: str, run: str, split: str) -> str:
    """results/<experiment>/decoding/<run>__<split>__bleu_by_length.png."""
    return os.path.join(out_dir, f"{run}{SEPARATOR}{split}{SEPARATOR}bleu_by_length.png")


def plot_bleu_by_length_curves(out_dir: str, run: str, split: str) -> str:
    """BLEU against source length bucket, one curve per decoding result of (run, split) in out_dir."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    records = [r for r in read_decoding_results(os.path.dirname(os.path.dirname(out_dir)))
               if r["run"] == run and r["split"] == split and os.path.dirname(r["path"]) == out_dir]
    fig = Figure(figsize=(6, 4), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for record in records:
        rows = record["metrics"]["bleu_by_length"]
        points = [(i, row["bleu"]) for i, row in enumerate(rows) if row["bleu"] is not None]
        label = ("greedy" if record["beam"] == 1 else f"beam {record['beam']}") + \
            (" + unk replace" if record["unk_replace"] else "") + f" (BLEU {record['metrics']['bleu']:.1f})"
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=label)
        labels = [f"{row['bucket']}\nn={row['count']}" for row in rows]
        ax.set_xticks(range(len(rows)), labels, fontsize=7)
    ax.set_xlabel("source sentence length (tokens)")
    ax.set_ylabel("BLEU")
    ax.set_title(f"{run}, {split}", fontsize=10)
    ax.grid(alpha=0.3)
    if records:
        ax.legend(fontsize=8)
    path = plot_path(out_dir, run, split)
    fig.savefig(path, format="png")
    return path
