"""Lake & Baroni (2018), experiments 1-3: SCAN splits x attention x cell.

The paper trains seq2seq RNNs on the SCAN splits and reports test exact-match accuracy: near perfect on the
random (simple) split, poor on the length split and on the add-primitive "jump" split, good on "turn left".
Here: the simple, length, addprim_jump and addprim_turn_left splits, each with GRU and LSTM, each with
Bahdanau attention or none (configs/scan.py gru_attention / gru / lstm_attention / lstm: 2 layers x 200
units, dropout 0.5, Adam 1e-3, teacher forcing 0.5, clip 5, batches of 64 for 6,000 steps, the
best-validation checkpoint), 5 seeds each, as in the paper.

    python -m attn_research.sweep experiments/lake2018_scan.py --scale full --parallel 1

full: 16 points x 5 seeds = 80 runs of roughly 15 min on 2 CPU cores (SCAN simple takes about 12 min),
so about 20 hours. smoke: GRU with and without attention on the synthetic reverse task; well under a
minute.
"""
from attn_research.sweeps import SMOKE, Block, Experiment, Metric, Scale, Table

SPLITS = ("simple", "length", "addprim_jump", "addprim_turn_left")
ATTENTION = {"bahdanau": "attention", "none_state": "no attention"}


def label(point):
    """"<split>, <CELL>, attention | no attention", e.g. "length, GRU, attention"."""
    return f"{point['data.split']}, {point['model.cell'].upper()}, {ATTENTION[point['model.decoder']]}"


EXPERIMENT = Experiment(
    name="lake2018_scan",
    title="Lake & Baroni (2018): SCAN splits, with and without attention, GRU and LSTM",
    config="configs/scan.py:simple,gru_attention",
    blocks=(Block({"data.split": list(SPLITS), "model.cell": ["gru", "lstm"],
                   "model.decoder": ["bahdanau", "none_state"]}),),
    scales={
        "full": Scale("SCAN, 2 x 200 units, 6,000 steps of 64, 5 seeds; 80 runs of roughly 15 min on 2 CPU "
                      "cores (about 20 h)", seeds=(0, 1, 2, 3, 4)),
        "smoke": Scale("synthetic reverse task, tiny model, 20 steps; 2 runs, under a minute", overrides=SMOKE,
                       blocks=(Block({"data.split": ["simple"], "model.cell": ["gru"],
                                      "model.decoder": ["bahdanau", "none_state"]}),)),
    },
    objective=Metric("validation/seq_accuracy", "exact match (%)", scale=100, digits=1),
    table=Table(
        metrics=(Metric("test/seq_accuracy", "exact match (%)", scale=100, digits=1),
                 Metric("test/token_accuracy", "token accuracy (%)", scale=100, digits=1)),
        row_label=label,
        row_title="split, cell, attention",
        # shared/docs/published_numbers.md, section 5 (Lake & Baroni 2018) holds no transcribed numbers yet;
        # add them here, with their table or figure, once they are checked against the paper.
        published={},
        source="Lake & Baroni (2018): no published numbers transcribed yet (shared/docs/published_numbers.md, "
               "section 5, is empty)",
        notes=("Exact match: the whole action sequence right (greedy decoding), as in the paper.",),
    ),
)
