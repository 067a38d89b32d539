"""Bahdanau, Cho & Bengio (2015), Table 1 and Fig. 2: RNNencdec vs RNNsearch trained on sentences up to
two lengths, and BLEU against sentence length.

The paper trains on WMT'14 En->Fr sentences of at most 30 or 50 words (RNNencdec-30/-50, RNNsearch-30/-50)
and shows that RNNencdec degrades on long test sentences while RNNsearch does not (Fig. 2; per-length
values exist only as a plot). Here: Multi30k en->fr, whose sentences are shorter (English train: mean 13
tokens, at most 40), with the limits scaled to 15 and 25 tokens (config data.max_len drops training pairs
with a longer side; 15 keeps 66% of the training pairs, 25 keeps 98%). RNNsearch is the configs/multi30k.py
bahdanau model (bidirectional GRU 512, attention); RNNencdec the same sizes with a unidirectional encoder
whose last state starts the decoder and joins every decoder input (decoder none_input, Cho et al. 2014).
After training, every run is decoded on test2016 with beam 5 (attn_research.evaluate) and scored by
source-length bucket.

    python -m attn_research.sweep experiments/bahdanau2015_length.py --scale full --parallel 1

full: 4 rows x 3 seeds = 12 runs of at most about 80 min on 2 CPU cores (the 15-token runs see two thirds of the
data), plus a beam search of the test set each: about 14 hours. On one H200 (2026-12-04, benchmarks/gpu.sh sweeps):
3.1-5.8 min of training a run four at a time beside 12 other runs, RNNsearch-50 alone 4.4 min with its decoding.
smoke: the same 4 runs at limits 4 and 6 on the synthetic
sort task with greedy evaluation; about a minute.
"""

from attn_research.sweeps import BLEU_NOTE, SMOKE, Block, Evaluation, Experiment, Metric, Scale, Table
from attn_research.sweeps.aggregate import BY_LENGTH, bucket_edges

# Bahdanau et al. (2015), Table 1, "All" column (WMT'14 En->Fr news-test-2014), as transcribed in
# shared/docs/published_numbers.md, section 2.
PUBLISHED_BLEU = {"RNNencdec-30": "13.93", "RNNsearch-30": "21.50", "RNNencdec-50": "17.82", "RNNsearch-50": "26.75"}
# Our training-length limits and the paper's limit each stands for (full: 15, 25; smoke: 4, 6).
PAPER_LIMIT = {15: 30, 25: 50, 4: 30, 6: 50}


def label(point):
    """The paper's name for the model: RNNencdec-30, RNNsearch-50, ..."""
    model = "RNNencdec" if point.get("model.decoder") == "none_input" else "RNNsearch"
    return f"{model}-{PAPER_LIMIT[point['data.max_len']]}"


def findings(rows) -> list[str]:
    """Bahdanau et al. (2015)'s claims (sec. 5.1, Table 1, Fig. 2) checked on the rows' mean test BLEU, computed
    from the rows, never typed: rows (one per model, "eval/bleu" and the by-length bucket stats) -> one line per
    claim whose rows ran. RNNsearch above RNNencdec at each limit; RNNsearch-30 above RNNencdec-50; RNNencdec loses
    more of its BLEU from the shortest to the longest source-length bucket than RNNsearch; RNNsearch-50 does not
    deteriorate on the longest bucket (within 1 BLEU of its best bucket)."""
    bleu = {row.label: row.stats.get("eval/bleu") for row in rows}
    bleu = {label: stat.mean for label, stat in bleu.items() if stat is not None}
    lines = []
    limits = [
        limit
        for limit in sorted(set(PAPER_LIMIT.values()))
        if {f"RNNencdec-{limit}", f"RNNsearch-{limit}"} <= set(bleu)
    ]
    if limits:
        pairs = [(bleu[f"RNNsearch-{limit}"], bleu[f"RNNencdec-{limit}"]) for limit in limits]
        verdict = "holds" if all(search > encdec for search, encdec in pairs) else "does not hold"
        lines.append(
            f"RNNsearch above RNNencdec at every length limit: {verdict} here ("
            + "; ".join(f"-{limit}: {s:.2f} vs {e:.2f} BLEU" for limit, (s, e) in zip(limits, pairs))
            + ")."
        )
    if {"RNNsearch-30", "RNNencdec-50"} <= set(bleu):
        s, e = bleu["RNNsearch-30"], bleu["RNNencdec-50"]
        verdict = "holds" if s > e else "does not hold"
        lines.append(
            f"RNNsearch-30 above RNNencdec-50 (the paper: {PUBLISHED_BLEU['RNNsearch-30']} vs "
            f"{PUBLISHED_BLEU['RNNencdec-50']}): {verdict} here ({s:.2f} vs {e:.2f})."
        )
    by_length = {}  # label -> [(bucket, mean BLEU)] in order of length, buckets with a value only
    for row in rows:
        keys = sorted((key for key in row.stats if key.startswith(BY_LENGTH)), key=bucket_edges)
        buckets = [(key.removeprefix(BY_LENGTH), row.stats[key].mean) for key in keys if row.stats[key] is not None]
        if len(buckets) > 1:
            by_length[row.label] = buckets

    def drop(label: str) -> float:  # the share of the shortest bucket's BLEU lost on the longest bucket
        (_, first), (_, last) = by_length[label][0], by_length[label][-1]
        return (first - last) / first if first > 0 else 0.0

    encdec = [label for label in by_length if label.startswith("RNNencdec")]
    search = [label for label in by_length if label.startswith("RNNsearch")]
    if encdec and search:
        verdict = "holds" if min(map(drop, encdec)) > max(map(drop, search)) else "does not hold"
        lines.append(
            f"RNNencdec degrades more with sentence length than RNNsearch (Fig. 2): {verdict} here (BLEU lost from "
            f"the {by_length[encdec[0]][0][0]} to the {by_length[encdec[0]][-1][0]} bucket: "
            + ", ".join(f"{label} {drop(label):.0%}" for label in encdec + search)
            + ")."
        )
    if "RNNsearch-50" in by_length:
        buckets = by_length["RNNsearch-50"]
        best, last = max(buckets, key=lambda bucket: bucket[1]), buckets[-1]
        verdict = "holds" if last[1] >= best[1] - 1.0 else "does not hold"
        lines.append(
            f"RNNsearch-50 does not deteriorate on long sentences: {verdict} here ({last[1]:.2f} BLEU on {last[0]} "
            f"against {best[1]:.2f} on {best[0]})."
        )
    return lines


def blocks(limits):
    return (
        Block(
            {
                "data.max_len": list(limits),
                "model.decoder": "none_input",
                "model.bidirectional": False,
                "model.bridge": "last",
            },
            name="rnnencdec",
        ),
        Block({"data.max_len": list(limits)}, name="rnnsearch"),
    )


EXPERIMENT = Experiment(
    name="bahdanau2015_length",
    title="Bahdanau et al. (2015), Table 1 and Fig. 2: BLEU by sentence length, en→fr",
    config="configs/multi30k.py:model=bahdanau",
    overrides={"data.source_lang": "en", "data.target_lang": "fr"},
    blocks=blocks((15, 25)),
    scales={
        "full": Scale(
            "Multi30k en→fr, training sentences of at most 15 or 25 tokens, 10 epochs, beam-5 "
            "test decoding; 4 rows x 3 seeds, about 14 h on 2 CPU cores",
            evaluation=Evaluation("test", beam=5),
            seeds=(0, 1, 2),
        ),
        "smoke": Scale(
            "synthetic sort task, tiny model, 20 steps, limits 4 and 6, greedy evaluation; about a minute",
            overrides={**SMOKE, "data.task": "sort"},
            blocks=blocks((4, 6)),
            evaluation=Evaluation("test", beam=1),
        ),
    },
    objective=Metric("validation/bleu", "BLEU"),
    table=Table(
        metrics=(Metric("eval/bleu", "BLEU"), Metric("eval/bleu_tokens", "BLEU (tokens)")),
        row_label=label,
        row_title="model (paper's length limit)",
        published={label: {"eval/bleu": bleu} for label, bleu in PUBLISHED_BLEU.items()},
        source="Bahdanau et al. (2015), Table 1 (all sentences), WMT'14 En→Fr news-test-2014",
        notes=(
            BLEU_NOTE,
            "Ours: Multi30k en→fr test2016; -30 and -50 stand for our limits of 15 and 25 tokens "
            "(smoke: 4 and 6). Bucket columns [lo, hi) (once runs exist): BLEU of the test sentences whose "
            "source has lo to hi - 1 tokens; the paper gives these only as a plot (Fig. 2).",
        ),
        by_length=True,
        findings=findings,
    ),
)
