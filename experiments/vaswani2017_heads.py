"""Vaswani et al. (2017), Table 3 rows (A) and (B): the number of attention heads at constant compute, and
the attention key size.

The paper varies the base Transformer (d_model 512, 8 heads, d_k = d_v = 64) on WMT'14 En->De and reports
newstest2013 perplexity and BLEU (beam search). Row (A) keeps h * d_k = d_model (so compute is constant)
with h in {1, 4, 16, 32}; row (B) shrinks d_k to 16 and 32 with 8 heads. Here the same ratios on the
Multi30k Transformer of configs/multi30k.py (d_model 256, 8 heads, d_k = 32, 3 + 3 layers), de->en,
validation (test2016 stays untouched): (A) h in {1, 4, 16, 32} with d_k = 256 / h; (B) d_k in {8, 16}
(the base d_k / 4 and / 2, as the paper's 16 and 32 are of 64). Each finished run is decoded with
beam 4 (the paper's beam size) on the validation split.

    python -m attn_research.sweep experiments/vaswani2017_heads.py --scale full --parallel 1

full: 7 rows x 3 seeds = 21 runs of the Multi30k Transformer (its 10-epoch recipe; about 80 min a run on 2 CPU
cores, a few minutes on a GPU: `bash benchmarks/gpu.sh OUT sweeps` runs them there, several at a time).
smoke: the synthetic reverse task with a tiny Transformer, 1 and 2 heads and a small d_k, 20 steps.
"""

from attn_research.sweeps import BLEU_NOTE, SMOKE, Block, Evaluation, Experiment, Metric, Scale, Table

BASE_HEADS = 8
BASE_KEY_DIM = 32  # d_model 256 / 8 heads


def label(point):
    """The paper's row: "base", "(A) h=<h>" (d_k = d_model / h), or "(B) d_k=base/<n>" (d_k = 32 / n)."""
    heads, key_dim = point.get("model.heads", BASE_HEADS), point.get("model.key_dim", 0)
    if key_dim:
        return f"(B) d_k=base/{BASE_KEY_DIM // key_dim}"
    return "base" if heads == BASE_HEADS else f"(A) h={heads}"


def findings(rows) -> list[str]:
    """The paper's three claims (sec. 6.2, Table 3 (A), (B)) checked on the rows' mean validation BLEU; "worse"
    means by more than the larger of the two rows' seed spreads. Computed from the rows, never typed."""
    bleu = {row.label: row.stats.get("eval/bleu") for row in rows}
    bleu = {label: stat for label, stat in bleu.items() if stat is not None}

    def worse(label: str, than: str) -> str | None:
        if label not in bleu or than not in bleu:
            return None
        a, b = bleu[label], bleu[than]
        margin = max(a.std or 0.0, b.std or 0.0)
        verdict = "holds" if a.mean < b.mean - margin else "does not hold"
        return f"{verdict} here ({label} {a.mean:.2f} vs {than} {b.mean:.2f} BLEU, seed spread {margin:.2f})"

    heads = [label for label in bleu if label == "base" or label.startswith("(A)")]
    lines = []
    if len(heads) > 1:
        best = max(heads, key=lambda label: bleu[label].mean)
        for label, claim in (("(A) h=1", "one head is worse than the best"), ("(A) h=32", "too many heads hurt")):
            if label != best and (verdict := worse(label, best)):
                lines.append(f"The paper's claim that {claim}: {verdict}.")
    for label in ("(B) d_k=base/4", "(B) d_k=base/2"):
        if verdict := worse(label, "base"):
            lines.append(f"The paper's claim that a smaller key size hurts, {label}: {verdict}.")
    return lines


SMOKE_TRANSFORMER = {
    **{k: v for k, v in SMOKE.items() if not k.startswith("model.")},
    "model.architecture": "transformer",
    "model.d_model": 16,
    "model.encoder_layers": 1,
    "model.decoder_layers": 1,
    "model.ff_dim": 32,
    "model.dropout": 0.0,
    "model.max_len": 16,
    "train.schedule": "constant",
    "train.label_smoothing": 0.0,
}

EXPERIMENT = Experiment(
    name="vaswani2017_heads",
    title="Vaswani et al. (2017), Table 3 rows (A) and (B): heads and key size, de→en",
    config="configs/multi30k.py:model=transformer",
    blocks=(
        Block({"model.heads": [1, 4, 8, 16, 32], "model.key_dim": 0}, name="heads"),
        Block({"model.heads": BASE_HEADS, "model.key_dim": [8, 16]}, name="key_size"),
    ),
    scales={
        "full": Scale(
            "Multi30k de→en, configs/multi30k.py transformer (d_model 256, 3 + 3 layers), 7 rows x 3 seeds, beam 4 "
            "on validation",
            seeds=(0, 1, 2),
            evaluation=Evaluation("validation", beam=4),
        ),
        "smoke": Scale(
            "synthetic reverse task, tiny Transformer (d_model 16), 20 steps; 3 runs",
            overrides=SMOKE_TRANSFORMER,
            blocks=(
                Block({"model.heads": [1, 2], "model.key_dim": 0}, name="heads"),
                Block({"model.heads": 2, "model.key_dim": 4}, name="key_size"),
            ),
        ),
    },
    objective=Metric("validation/ppl", "ppl", goal="minimize"),
    table=Table(
        metrics=(
            Metric("validation/ppl", "PPL (dev)", goal="minimize"),
            Metric("eval/bleu", "BLEU (dev)"),
            Metric("eval/bleu_tokens", "BLEU (dev, tokens)"),
        ),
        row_label=label,
        row_title="row",
        findings=findings,
        # Vaswani et al. (2017), Table 3, as transcribed in shared/docs/published_numbers.md, section 7
        # (newstest2013, per-wordpiece perplexity, beam search). (B) d_k=base/4 is the paper's d_k 16 of 64.
        published={
            "base": {"validation/ppl": "4.92", "eval/bleu": "25.8"},
            "(A) h=1": {"validation/ppl": "5.29", "eval/bleu": "24.9"},
            "(A) h=4": {"validation/ppl": "5.00", "eval/bleu": "25.5"},
            "(A) h=16": {"validation/ppl": "4.91", "eval/bleu": "25.8"},
            "(A) h=32": {"validation/ppl": "5.01", "eval/bleu": "25.4"},
            "(B) d_k=base/4": {"validation/ppl": "5.16", "eval/bleu": "25.1"},
            "(B) d_k=base/2": {"validation/ppl": "5.01", "eval/bleu": "25.4"},
        },
        source="Vaswani et al. (2017), Table 3 rows (A), (B), WMT'14 En→De newstest2013, beam search",
        notes=(
            BLEU_NOTE,
            "Ours: Multi30k de→en validation, teacher-forced perplexity per word (Moses tokens; the paper's is "
            "per wordpiece), BLEU of beam 4. The claims to check: one head is clearly worse than the best, too "
            "many heads hurt again, and a smaller key size hurts.",
        ),
    ),
)
