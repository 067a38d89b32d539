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

full: 4 runs of at most about 80 min on 2 CPU cores (the 15-token runs see two thirds of the data), plus a beam
search of the test set each: about 4-5 hours. smoke: the same 4 runs at limits 4 and 6 on the synthetic
sort task with greedy evaluation; about a minute.
"""

from attn_research.sweeps import SMOKE, Block, Evaluation, Experiment, Metric, Scale, Table

# Our training-length limits and the paper's limit each stands for (full: 15, 25; smoke: 4, 6).
PAPER_LIMIT = {15: 30, 25: 50, 4: 30, 6: 50}


def label(point):
    """The paper's name for the model: RNNencdec-30, RNNsearch-50, ..."""
    model = "RNNencdec" if point.get("model.decoder") == "none_input" else "RNNsearch"
    return f"{model}-{PAPER_LIMIT[point['data.max_len']]}"


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
            "test decoding; 4 runs, about 4-5 h on 2 CPU cores",
            evaluation=Evaluation("test", beam=5),
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
        metrics=(Metric("eval/bleu", "BLEU"),),
        row_label=label,
        row_title="model (paper's length limit)",
        # Bahdanau et al. (2015), Table 1, "All" column (WMT'14 En->Fr news-test-2014), as transcribed in
        # shared/docs/published_numbers.md, section 2.
        published={
            "RNNencdec-30": {"eval/bleu": "13.93"},
            "RNNsearch-30": {"eval/bleu": "21.50"},
            "RNNencdec-50": {"eval/bleu": "17.82"},
            "RNNsearch-50": {"eval/bleu": "26.75"},
        },
        source="Bahdanau et al. (2015), Table 1 (all sentences), WMT'14 En→Fr news-test-2014",
        notes=(
            "Ours: Multi30k en→fr test2016; -30 and -50 stand for our limits of 15 and 25 tokens "
            "(smoke: 4 and 6). Bucket columns [lo, hi) (once runs exist): BLEU of the test sentences whose "
            "source has lo to hi - 1 tokens; the paper gives these only as a plot (Fig. 2).",
        ),
        by_length=True,
    ),
)
