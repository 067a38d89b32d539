"""Britz, Goldie, Luong & Le (2017), sec. 4.5: additive vs multiplicative attention, attention dimension,
and two models without attention.

The paper trains on WMT'15 En->De and reports newstest2013 BLEU as mean ± std over runs (max in
parentheses) for Add-d and Mul-d (d = 128 ... 1024) and the None-State / None-Input baselines. Here:
additive (Bahdanau) and multiplicative (<W1 h_j, W2 s_i>) scores with d in {128, 256, 512}, plus
None-State and None-Input, on Multi30k en->de (test2016), three seeds each; and Mul-d with the softmax
temperature T = sqrt(d), the variant the gap scale found (issue 22: unscaled, Mul-d trails Add-d by 5-10 BLEU
here, falling as d grows; at d = 512, seed 0, T = sqrt(d) gives 18.96 BLEU against 9.66 unscaled and 19.99 for
Add-512).

    python -m attn_research.sweep experiments/britz2017_attention.py --scale full --parallel 2
    python -m attn_research.sweep experiments/britz2017_attention.py --scale gap --parallel 2   # Mul's gap

full: the configs/multi30k.py bahdanau model made small enough for 24 runs on 2 CPU cores: a bidirectional
GRU encoder of 128 units a direction, a GRU decoder of 256, embeddings 128, dropout 0.3, words seen at least 5 times (vocabularies
of 3,263 en and 3,556 de words; the output layer over the vocabulary is most of a step), teacher forcing
throughout (as the paper trains; the bahdanau config feeds back its own predictions half the time, which
left BLEU at 16.6 after these 3 epochs), 3 epochs of batches of 128 at Adam 2e-3 with 100 warmup steps and
a cosine decay, greedy decoding. The bahdanau
model itself (GRU 512, 10 epochs, 7,865 de words) takes about 80 min a run, 32 h for the sweep; this
took 5 to 15 min a run (about 10 with attention, 5 without), 3.6 h of run time in all, about 1 h 50 elapsed
two at a time (results/tables/britz2017_attention.md) for the first 24; the 9 scaled runs would add about 2 h (13.6
min for Mul-512, T = sqrt(d), beside two niced jobs) and took 1.5 min each on one H200, several at a time.
smoke: additive and multiplicative at d = 16 and None-Input, one seed each, on the synthetic reverse task; well under a minute.
"""

from attn_research.sweeps import SMOKE, Block, Experiment, Metric, Scale, Table

SCORES = {"additive": "Add", "multiplicative": "Mul"}
DECODERS = {"none_state": "None-State", "none_input": "None-Input"}
DIMS = (128, 256, 512)
CLOSE_BLEU = 1.0  # issue 22: "within 1 BLEU of additive" (the paper's largest Add-Mul difference is 0.7)


def label(point):
    """The paper's row name: "Add-128", "Mul-512", "None-State", "None-Input"; a gap-scale row adds the one
    setting it changes ("Mul-512, T 22.6", "Mul-512, lr 0.001", "Add-512, 6 epochs")."""
    decoder = point.get("model.decoder", "bahdanau")
    if decoder in DECODERS:
        return DECODERS[decoder]
    name = f"{SCORES[point['model.attention.score']]}-{point['model.attention.dim']}"
    changed = {
        "model.attention.temperature": "T {:.1f}",
        "train.learning_rate": "lr {:g}",
        "train.num_epochs": "{} epochs",
    }
    return ", ".join([name, *(text.format(point[key]) for key, text in changed.items() if key in point)])


def findings(rows) -> list[str]:
    """Britz et al. (2017), sec. 4.5's claims, checked on the rows (means over seeds; computed, never typed): rows
    (one per table row, test BLEU stats) -> one line per claim whose rows ran. Multiplicative within
    CLOSE_BLEU of additive at every d, the same for the scaled variant (Mul-d, T = sqrt(d)), additive's spread
    over d within CLOSE_BLEU, and both no-attention rows below every attention row."""
    bleu = {row.label: row.stats["test/bleu"] for row in rows if row.stats.get("test/bleu") is not None}
    lines = []

    def compare(name: str, mul_label) -> None:
        pairs = [(d, bleu.get(f"Add-{d}"), bleu.get(mul_label(d))) for d in DIMS]
        if any(add is None or mul is None for _, add, mul in pairs):
            return
        gaps = [mul.mean - add.mean for _, add, mul in pairs]
        verdict = "holds" if all(abs(gap) <= CLOSE_BLEU for gap in gaps) else "does not hold"
        lines.append(
            f"{name} within {CLOSE_BLEU:g} BLEU of additive at every d: {verdict} here (minus additive at d = "
            f"{' / '.join(str(d) for d in DIMS)}: {' / '.join(f'{gap:+.2f}' for gap in gaps)} BLEU; "
            f"{min(m.n for _, _, m in pairs)}+ seeds a row)."
        )

    compare("Multiplicative (the paper's definition)", lambda d: f"Mul-{d}")
    compare(
        "Scaled multiplicative (T = sqrt(d), our variant)",
        lambda d: next((label for label in bleu if label.startswith(f"Mul-{d}, T ")), None),
    )
    additive = [bleu[f"Add-{d}"].mean for d in DIMS if f"Add-{d}" in bleu]
    if len(additive) == len(DIMS):
        spread = max(additive) - min(additive)
        verdict = "holds" if spread <= CLOSE_BLEU else "does not hold"
        lines.append(f"The dimension matters little for additive: {verdict} here (spread {spread:.2f} BLEU over d).")
    none = [bleu[name].mean for name in DECODERS.values() if name in bleu]
    attentive = [stats.mean for label, stats in bleu.items() if label not in DECODERS.values()]
    if none and attentive:
        verdict = "holds" if max(none) < min(attentive) else "does not hold"
        lines.append(
            f"No attention does far worse: {verdict} here (best without attention {max(none):.2f}, worst with "
            f"{min(attentive):.2f} BLEU)."
        )
    return lines


def mul(dim: int, name: str, **changed) -> Block:
    """One gap-scale row: Mul-`dim` with the full recipe but for `changed` (config key -> value)."""
    return Block({"model.attention.score": "multiplicative", "model.attention.dim": dim, **changed}, name=name)


def scaled(dim: int) -> Block:
    """Mul-`dim` with the softmax temperature T = sqrt(dim) (rounded to 3 decimals): the scaled variant."""
    return mul(dim, f"scaled_{dim}", **{"model.attention.temperature": round(dim**0.5, 3)})


# Issue 22, item 2: why Mul-d trails Add-d by 5-10 BLEU here (Britz et al.: at most 0.7), one variable at a time,
# seed 0. Softmax saturation (Vaswani et al. 2017, sec. 3.2.1): with W1, W2 at LeCun-normal init the score
# <W1 h_s, W2 s_t> has a standard deviation growing as sqrt(d); a softmax temperature T = sqrt(d) (the existing
# model.attention.temperature key) divides it out, a change of mechanism, so a row of its own. Training length
# and learning rate: multiplicative may only learn slower in 3 epochs, so Add-512 runs the longer recipe too.
# Not a key here: biases in W1 and W2 (google/seq2seq's att_keys / att_query layers have them; a query bias adds
# a key-only term b^T W1 h_s to the score).
GAP_BLOCKS = (
    mul(512, "baseline"),
    scaled(512),
    scaled(128),
    mul(512, "learning_rate", **{"train.learning_rate": 1e-3}),
    Block(
        {"model.attention.score": ["additive", "multiplicative"], "model.attention.dim": 512, "train.num_epochs": 6},
        name="length",
    ),
)


FULL = {
    "data.min_freq": 5,
    "model.embed_dim": 128,
    "model.encoder_hidden": 128,
    "model.decoder_hidden": 256,
    "model.dropout": 0.3,
    "model.teacher_forcing_ratio": 1.0,
    "train.num_epochs": 3,
    "train.learning_rate": 2e-3,
    "train.schedule": "cosine",
    "train.warmup_steps": 100,
}
NO_ATTENTION = Block({"model.decoder": ["none_state", "none_input"], "model.bridge": "last"}, name="none")

EXPERIMENT = Experiment(
    name="britz2017_attention",
    title="Britz et al. (2017), sec. 4.5: attention mechanism and dimensionality, en→de",
    config="configs/multi30k.py:model=bahdanau",
    overrides={"data.source_lang": "en", "data.target_lang": "de"},
    blocks=(
        Block(
            {"model.attention.score": ["additive", "multiplicative"], "model.attention.dim": [128, 256, 512]},
            name="attention",
        ),
        NO_ATTENTION,
        # the scaled variant (the gap scale's finding), a row per d beside the paper's Mul-d
        *(scaled(dim) for dim in (128, 256, 512)),
    ),
    scales={
        "full": Scale(
            "Multi30k en→de, the bahdanau model with GRU 128 (each direction) / 256, 3 epochs, 3 seeds; 33 runs of "
            "5 to 15 min, two at a time on 2 CPU cores (about 2 h 30)",
            overrides=FULL,
            seeds=(0, 1, 2),
        ),
        "gap": Scale(
            "issue 22's multiplicative gap: Mul-512 at the full recipe, with T = sqrt(d) (also at d = 128), with Adam "
            "1e-3, and Add-512 / Mul-512 at 6 epochs; seed 0, 6 runs of 10-25 min on 2 CPU cores (about 2 h)",
            overrides=FULL,
            blocks=GAP_BLOCKS,
            notes=(
                "One setting changed per row against Mul-512 at the full recipe (the block comment in "
                "experiments/britz2017_attention.py gives the hypotheses); seed 0 only.",
            ),
        ),
        "smoke": Scale(
            "synthetic reverse task, tiny model, 20 steps; 3 runs, under a minute",
            overrides=SMOKE,
            blocks=(
                Block(
                    {"model.attention.score": ["additive", "multiplicative"], "model.attention.dim": [16]},
                    name="attention",
                ),
                Block({"model.decoder": ["none_input"], "model.bridge": "last"}, name="none"),
            ),
        ),
    },
    objective=Metric("validation/bleu", "BLEU"),
    table=Table(
        metrics=(Metric("test/bleu", "BLEU"), Metric("test/ppl", "ppl", goal="minimize")),
        row_label=label,
        row_title="attention",
        # Britz et al. (2017), sec. 4.5 table (newstest2013 BLEU, mean ± std (max)), as transcribed in
        # shared/docs/published_numbers.md, section 3 (two agreeing secondary transcriptions).
        published={
            "Mul-128": {"test/bleu": "22.03 ± 0.08 (22.14)"},
            "Mul-256": {"test/bleu": "22.33 ± 0.28 (22.64)"},
            "Mul-512": {"test/bleu": "21.78 ± 0.05 (21.83)"},
            "Add-128": {"test/bleu": "22.23 ± 0.11 (22.38)"},
            "Add-256": {"test/bleu": "22.33 ± 0.04 (22.39)"},
            "Add-512": {"test/bleu": "22.47 ± 0.27 (22.79)"},
            "None-State": {"test/bleu": "9.98 ± 0.28 (10.25)"},
            "None-Input": {"test/bleu": "11.57 ± 0.30 (11.85)"},
        },
        source="Britz et al. (2017), sec. 4.5, WMT'15 En→De newstest2013 BLEU, mean ± std (max) over runs "
        "(from two agreeing secondary transcriptions)",
        notes=(
            "Ours: Multi30k en→de test2016, bidirectional GRU (128 a direction) with Bahdanau's GRU 256 decoder, 3 epochs, "
            "greedy decoding (the experiment's docstring has the recipe). "
            "The paper's claim to check: additive slightly but consistently above multiplicative, the "
            "dimension matters little for additive, and no attention does far worse.",
            "Vaswani et al. (2017, sec. 3.2.1) cite this paper for additive attention outperforming the unscaled "
            "dot product at larger dimensions, the suspected reason being softmax saturation.",
            "Why Mul-d trails here (the gap scale, seed 0, results/tables/gap/britz2017_attention.md): dividing its "
            "score by T = sqrt(d) closes the gap; Adam 1e-3 or twice the epochs do not. At LeCun-normal "
            "initialization the score <W1 h_j, W2 s_i> has a standard deviation growing as sqrt(d), so the "
            "unscaled softmax saturates from the start. The paper's row keeps its definition; the scaled rows "
            "are ours, a change of mechanism (model.attention.temperature).",
        ),
        findings=findings,
    ),
)
