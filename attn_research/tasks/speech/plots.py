"""Pictures of the speech task: the alignment over the spectrogram (Chorowski et al. 2015, Fig. 1 / 3) and the
digit error rate against the number of digits, one curve per attention."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np

from attn_research.logging.figures import new_figure


def plot_alignment_over_spectrogram(
    log_mel: np.ndarray,
    alignment: np.ndarray,
    frames_per_step: int,
    output_labels: Sequence[str],
    path: str,
    title: str = "",
) -> str:
    """Two panels sharing the time axis (frames): the log-mel filterbanks log_mel [frames, bands] on top, the
    alignment [outputs, enc_len] below (encoder step j drawn over frames [j s, (j + 1) s), s =
    frames_per_step), one row per output (digit or </s>). Writes a PNG at path; returns path."""
    frames = log_mel.shape[0]
    fig = new_figure(figsize=(max(6.0, frames / 40), 2.0 + 0.3 * len(output_labels)))
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1, max(1, len(output_labels) / 4)]})
    top.imshow(
        log_mel.T, origin="lower", aspect="auto", interpolation="nearest", extent=(0, frames, 0, log_mel.shape[1])
    )
    top.set_ylabel("mel band")
    steps = alignment.shape[1]
    bottom.imshow(
        alignment, aspect="auto", cmap="Greys", interpolation="nearest", vmin=0.0, vmax=max(float(alignment.max()), 1e-6),
        extent=(0, steps * frames_per_step, len(output_labels), 0),
    )  # fmt: skip
    bottom.set_yticks(np.arange(len(output_labels)) + 0.5)
    bottom.set_yticklabels(list(output_labels))
    bottom.set_xlabel(f"frame (10 ms; one encoder step = {frames_per_step} frames)")
    bottom.set_ylabel("output")
    bottom.set_xlim(0, frames)
    if title:
        top.set_title(title)
    fig.tight_layout()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=100)
    return path


def plot_error_by_length(
    curves: Mapping[str, Mapping[int, float]], path: str, title: str = "", train_max: int | None = None
) -> str:
    """Digit error rate (%) against the number of digits, one curve per name: curves {name: {n: DER in [0,
    1]}}; a dotted line at train_max (the longest training utterance). Writes a PNG; returns path."""
    fig = new_figure(figsize=(6.0, 4.0))
    ax = fig.add_subplot()
    for name, points in curves.items():
        lengths = sorted(points)
        ax.plot(lengths, [100 * points[n] for n in lengths], marker="o", label=name)
    if train_max is not None:
        ax.axvline(train_max + 0.5, color="grey", linestyle=":", label="longest training utterance")
    ax.set_xlabel("digits per utterance")
    ax.set_ylabel("digit error rate (%)")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=100)
    return path
