"""Decoding results of `attn_research.evaluate`, kept beside the training results (never typed by hand).

Each evaluation of a split that means to record writes results/<experiment>/decoding/<run>__<split>__beam<k>.json:
    experiment, run, split, beam, length_penalty, unk_replace, config (the run's whole config), decoding
    (every decoding setting: beam, length_penalty, max_decode_len, unk_replace, bucket_width, checkpoint
    requested / step / folder), metrics (bleu, bleu_signature, seq_accuracy, bleu_by_length, lowercased,
    alignment metrics where gold alignments exist), checkpoint_step, num_sentences, decode_time_s (wall time
    of decoding the split, compilation included), sentences_per_s, git_commit, machine, time.
A record of another config or other decoding settings is never overwritten: the new one goes to a
`<name>-<8 hex digits>.json` sibling (`sibling_path`, the rule training results follow). The evaluation
also redraws results/<experiment>/decoding/<run>__<split>__bleu_by_length.png with one curve per beam size
found there (Bahdanau et al. 2015, Fig. 2 style). The README's `decoding` table is generated from these files.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import time

from absl import logging

from attn_research import provenance
from attn_research.jsonio import read_json, write_json

SEPARATOR = "__"


def identity_digest(identity) -> str:
    """8 hex digits of sha256 over the canonical JSON of `identity` (sorted keys, non-JSON as str)."""
    text = json.dumps(identity, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def canonical(obj):
    """`obj` as it reads back from JSON (tuples as lists, other objects as strings)."""
    return json.loads(json.dumps(obj, sort_keys=True, default=str))


def sibling_path(path: str, identity, read_identity) -> str:
    """`path` if it is free or holds a record of the same `identity`, else `<stem>-<digest>.<ext>` (the
    digest of `identity`), so that a record of another config is never overwritten.

    read_identity(path) -> the identity recorded at an existing path (None if it records none: treated as
    another identity). A torn file (CorruptJSONError) counts as another identity too.
    """
    if not os.path.exists(path):
        return path
    try:
        recorded = read_identity(path)
    except ValueError:
        recorded = None
    if recorded is not None and canonical(recorded) == canonical(identity):
        return path
    stem, ext = os.path.splitext(path)
    sibling = f"{stem}-{identity_digest(identity)}{ext}"
    logging.warning("%s holds a record of another config or settings; this one goes to %s", path, sibling)
    return sibling


def decoding_results_dir(results_dir: str, experiment: str) -> str:
    """results/<experiment>/decoding."""
    return os.path.join(results_dir, experiment, "decoding")


def _record_identity(record: dict) -> dict:
    return {"config": record.get("config"), "decoding": record.get("decoding")}


def write_decoding_result(
    results_dir: str,
    experiment: str,
    run: str,
    metrics: dict,
    *,
    config: dict,
    decoding: dict,
    checkpoint_step,
    decode_time_s: float,
) -> str:
    """Writes one evaluation's JSON (module docstring) and redraws the run's BLEU-by-length plot.

    metrics: evaluate_run's metrics (split, beam, length_penalty, unk_replace, num_sentences, bleu, ...);
    config: the run's config (a dict); decoding: the decoding settings. Returns the JSON path.
    """
    out_dir = decoding_results_dir(results_dir, experiment)
    os.makedirs(out_dir, exist_ok=True)
    split, beam = metrics["split"], metrics["beam"]
    suffix = "_unk" if metrics.get("unk_replace") else ""
    n = metrics["num_sentences"]
    record = {
        "experiment": experiment,
        "run": run,
        "split": split,
        "beam": beam,
        "length_penalty": metrics["length_penalty"],
        "unk_replace": metrics.get("unk_replace", False),
        "config": canonical(config),
        "decoding": canonical(decoding),
        "metrics": {
            k: v
            for k, v in metrics.items()
            if k not in ("split", "beam", "length_penalty", "unk_replace", "num_sentences", "settings")
        },
        "checkpoint_step": checkpoint_step,
        "num_sentences": n,
        "decode_time_s": round(decode_time_s, 2),
        "sentences_per_s": round(n / decode_time_s, 2) if decode_time_s > 0 else None,
        "git_commit": provenance.git_commit(),
        "machine": provenance.machine(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    path = sibling_path(
        os.path.join(out_dir, f"{run}{SEPARATOR}{split}{SEPARATOR}beam{beam}{suffix}.json"),
        _record_identity(record),
        lambda p: _record_identity(read_json(p)),
    )
    write_json(path, record)
    plot_bleu_by_length_curves(out_dir, run, split, config=record["config"])
    return path


def read_decoding_results(results_dir: str) -> list[dict]:
    """Every results/<experiment>/decoding/*.json, sorted by experiment, run, split, beam."""
    records = []
    for path in glob.glob(os.path.join(results_dir, "*", "decoding", "*.json")):
        record = read_json(path)
        record["path"] = path
        records.append(record)
    return sorted(records, key=lambda r: (r["experiment"], r["run"], r["split"], r["beam"], r["unk_replace"]))


def plot_path(out_dir: str, run: str, split: str) -> str:
    """results/<experiment>/decoding/<run>__<split>__bleu_by_length.png."""
    return os.path.join(out_dir, f"{run}{SEPARATOR}{split}{SEPARATOR}bleu_by_length.png")


def plot_bleu_by_length_curves(out_dir: str, run: str, split: str, config: dict | None = None) -> str:
    """BLEU against source length bucket, one curve per decoding result of (run, split) in out_dir; with
    `config`, only the results of that config (and older records that hold none)."""
    from attn_research.logging.figures import new_figure

    records = [
        r
        for r in read_decoding_results(os.path.dirname(os.path.dirname(out_dir)))
        if r["run"] == run
        and r["split"] == split
        and os.path.dirname(r["path"]) == out_dir
        and (config is None or r.get("config") in (None, canonical(config)))
    ]
    fig = new_figure(figsize=(6, 4), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    for record in records:
        rows = record["metrics"]["bleu_by_length"]
        points = [(i, row["bleu"]) for i, row in enumerate(rows) if row["bleu"] is not None]
        label = (
            ("greedy" if record["beam"] == 1 else f"beam {record['beam']}")
            + (" + unk replace" if record["unk_replace"] else "")
            + f" (BLEU {record['metrics']['bleu']:.1f})"
        )
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
