"""Zeng et al. (2023), Table 2 and Nie et al. (2023), Table 3: long-term forecasting on ETTh1 / ETTh2.

Zeng et al. ask whether attention helps long-term forecasting: on ETT a one-layer linear model (DLinear, look-back
336) beats the Transformers of its day (FEDformer, Autoformer, Informer, look-back 96); Nie et al. answer that
attention over patches (PatchTST/42, look-back 336) matches or beats it. Here: Repeat, DLinear, patch attention,
a vanilla Transformer (L 96) and a recurrent model with temporal attention (additive score, L 96 and 336) on ETTh1
and ETTh2 at H = 96, 192, 336, 720, 3 seeds (48 rows, 144 runs), with the recipes of
configs/forecasting.py (RECIPES; each block below sets what its model's recipe changes from DLinear's).

    python -m attn_research.sweep experiments/zeng2023_ett.py --scale full --parallel 1
    python -m attn_research.sweep experiments/zeng2023_ett.py --scale smoke

CPU sizing (configs/forecasting.py, RECIPES and their measured minutes): Repeat and DLinear run the papers'
recipes; patch attention keeps PatchTST/42's model sizes and its reference encoder (configs/forecasting.py
PATCHTST_ENCODER) but trains 4 epochs at batch 32 and Adam 1e-3; the
Transformer (d_model 64, 4 heads, d_ff 256, 2 epochs) and the temporal-attention model (24 forecast hours per
decoder step, 2 epochs) are CPU-sized and differ from the papers' sizes. Wall per run on the 2 shared cores
(load 5-13): Repeat 14 s, DLinear about 1 min, patch attention 4.1 min (its 24 runs two at a time, clean e1a454c,
2026-12-05), the Transformer minutes at H 96 and
about 20 min per epoch at H 720, where its decoder attends over 768 positions. The full sweep (144 runs) does
not fit an evening on these cores; the clean run records what finished (the table's notes name what is
missing), and the sweep resumes where it stopped. It finished on one H200 (2026-12-04, benchmarks/gpu.sh sweeps
zeng2023_ett:full:8, the CPU recipes unchanged): the 71 Transformer and temporal-attention runs took 0.4-0.7 min
each, 4-8 at a time.

patchtst_recipe: patch attention built and trained as PatchTST's reference code does (configs/forecasting.py
PATCHTST_ENCODER: BatchNorm after each sub-layer, residual attention, GELU, dropout 0.3 also inside the feed-forward
network and on the attention projection; PATCHTST_TRAINING: batch 128, Adam 1e-4, 100
epochs, lr x 0.9 per epoch after the fourth; 24 runs), the setup the published PatchTST/42 row comes from; 30-50 s
an epoch on the 2 CPU cores: a GPU scale. With our LayerNorm encoder in its place (norm 'pre', no final norm; clean
4975bb9, commit 9f49063, 82 min beside a SCAN run) this schedule underfit ETTh1 H 96 seed 0: test .411 MSE, above
the CPU recipe's .384 and FEDformer's .376 (validation .7255 at epoch 54, .7249 at epoch 100, the best; by epoch 44
the rate is 1e-4 x 0.9^40, 1.5e-6); that run's results JSON was removed when the scale took the reference encoder.
With the reference's BatchNorm and residual attention but our ReLU feed-forward without the inner and projection
dropout (clean c03d9d7, ETTh1 seed 0, two runs side by side on the 2 cores, 66-68 min each; commit cf22a39, their
results JSON removed when the scale took the whole reference encoder): H 96 .391 (validation .7035, the lowest of
any recipe here; the CPU recipe's seed 0 .381), H 720 .481 (CPU recipe .599; FEDformer .506, PatchTST/42 .449).
Scored on the windows the reference's test loader keeps (drop_last at batch 128: the first 2,688 of 2,785 windows
at H 96, 2,048 of 2,161 at H 720; an exploratory re-scoring of the best checkpoints): .389 and .476. With the whole
reference encoder (GELU and the inner dropouts too; clean d5358c7, ETTh1 H 96 seed 0, 81 min beside other runs,
recorded in results/zeng2023_ett/patchtst_recipe/): test .407, validation .7218 at update 4,416 (epoch 69): above
the CPU recipe's .380 with the same encoder and seed, so at these 100 epochs of Adam 1e-4 the reference's dropout
costs more than it gives on ETTh1 H 96.

    bash benchmarks/gpu.sh OUT sweeps zeng2023_ett:patchtst_recipe:8

smoke: DLinear and a one-layer patch attention on ETTh1, H 96, 20 updates each; 1-2 min a run on the shared cores.
"""

from __future__ import annotations

import importlib.util
import os

from attn_research.sweeps import Block, Experiment, Metric, Scale, Table

DATASETS = ["etth1", "etth2"]
HORIZONS = [96, 192, 336, 720]
LABELS = {
    "repeat": "Repeat",
    "dlinear": "DLinear",
    "patch_attention": "PatchTST/42",
    "transformer": "Transformer",
    "temporal_attention": "temporal attention",
}


def _config_file():
    """configs/forecasting.py as a module (its get_config and RECIPES)."""
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs", "forecasting.py")
    spec = importlib.util.spec_from_file_location("attn_research_config_zeng2023_ett", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _flat(config, prefix=""):
    out = {}
    for key, value in config.items():
        if hasattr(value, "items"):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def recipe_changes(model: str) -> dict:
    """The config keys where configs/forecasting.py:model=<model> differs from model=dlinear (the base), except
    the run's name."""
    config_file = _config_file()
    base = _flat(config_file.get_config("model=dlinear"))
    mine = _flat(config_file.get_config(f"model={model}"))
    return {key: value for key, value in mine.items() if base.get(key) != value and key != "name"}


def _block(model: str, **swept) -> Block:
    """The runs of one model: its recipe's changes, every data set and horizon, and `swept`."""
    keys = {"model.name": model, **recipe_changes(model), "data.name": DATASETS, "data.horizon": HORIZONS}
    return Block({**keys, **swept}, name=model)


def label(point) -> str:
    """ "<model>, <data set>, H=<horizon>", with L=<look-back> for the temporal-attention model, e.g.
    "DLinear, ETTh1, H=96" (a key the point lacks: the smoke scale's value)."""
    model = LABELS[point["model.name"]]
    if model == "temporal attention":
        model = f"{model} (L={point['data.lookback']})"
    data, horizon = point.get("data.name", SMOKE["data.name"]), point.get("data.horizon", SMOKE["data.horizon"])
    return f"{model}, {data.replace('etth', 'ETTh')}, H={horizon}"


def _published():
    """Zeng et al. (2023), Table 2 (DLinear, Repeat) and Nie et al. (2023), Table 3 (PatchTST/42), as printed in
    shared/docs/published_numbers.md, section 12: "MSE/MAE" per horizon."""
    rows = {
        ("DLinear", "ETTh1"): (".375/.399", ".405/.416", ".439/.443", ".472/.490"),
        ("DLinear", "ETTh2"): (".289/.353", ".383/.418", ".448/.465", ".605/.551"),
        ("Repeat", "ETTh1"): ("1.295/.713", "1.325/.733", "1.323/.744", "1.339/.756"),
        ("PatchTST/42", "ETTh1"): (".375/.399", ".414/.421", ".431/.436", ".449/.466"),
        ("PatchTST/42", "ETTh2"): (".274/.336", ".339/.379", ".331/.380", ".379/.422"),
    }
    published = {}
    for (model, data), cells in rows.items():
        for horizon, cell in zip(HORIZONS, cells):
            mse, mae = cell.split("/")
            published[f"{model}, {data}, H={horizon}"] = {"test/mse": mse, "test/mae": mae}
    return published


FEDFORMER_ETTH1_MSE = {96: ".376", 192: ".420", 336: ".459", 720: ".506"}  # Zeng et al. Table 2 (from FEDformer)
INFORMER_MSE = {  # Zeng et al. Table 2 (from FEDformer): the published vanilla-attention Transformer, look-back 96
    "etth1": {96: ".865", 192: "1.008", 336: "1.107", 720: "1.181"},
    "etth2": {96: "3.755", 192: "5.602", 336: "4.721", 720: "3.647"},
}
RESUME = "python -m attn_research.sweep experiments/zeng2023_ett.py --scale <scale> --parallel 1"


def _mse_stat(rows, model: str, data: str, horizon: int):
    """The test-MSE Stat (mean, std, best, n over seeds) of the row of model on data at horizon (the L-96 row for
    temporal attention), or None when the row is absent or no run of it finished."""
    for row in rows:
        point = {**SMOKE, **row.point}  # a key the point lacks: the smoke scale's value, as in label()
        if (point["model.name"], point["data.name"], point["data.horizon"]) != (model, data, horizon):
            continue
        if model == "temporal_attention" and point.get("data.lookback") != 96:
            continue
        return row.stats.get("test/mse")
    return None


def _mse(rows, model: str, data: str, horizon: int):
    """The mean test MSE of _mse_stat's row, or None."""
    stat = _mse_stat(rows, model, data, horizon)
    return None if stat is None else stat.mean


def _compare(rows, better: str, worse: str) -> str:
    """'<better> has the lower mean test MSE in k of n (data, horizon) cells where both ran: ...'."""
    cells = []
    for data in DATASETS:
        for horizon in HORIZONS:
            ours, theirs = _mse(rows, better, data, horizon), _mse(rows, worse, data, horizon)
            if ours is not None and theirs is not None:
                cells.append((f"{data.replace('etth', 'ETTh')} H={horizon}", ours < theirs))
    if not cells:
        return f"{LABELS[better]} against {LABELS[worse]}: no (data, horizon) cell where both ran yet."
    wins = [name for name, won in cells if won]
    losses = [name for name, won in cells if not won]
    text = f"{LABELS[better]} has a lower mean test MSE than {LABELS[worse]} in {len(wins)} of {len(cells)} cells"
    return text + (f" (not in: {', '.join(losses)})." if losses else ".")


def _seed_spread(rows, published) -> str | None:
    """Whether Zeng et al.'s single run (seed 2021 of the reference code) lies within our DLinear ETTh1 seeds'
    spread: per horizon with >= 3 finished seeds, the gap in seed standard deviations; None without such rows."""
    cells = []
    for horizon in HORIZONS:
        stat = _mse_stat(rows, "dlinear", "etth1", horizon)
        if stat is not None and stat.n >= 3 and stat.std:
            theirs = float(published[f"DLinear, ETTh1, H={horizon}"]["test/mse"])
            cells.append((horizon, (stat.mean - theirs) / stat.std, stat))
    if not cells:
        return None
    within = sum(abs(z) <= 2 for _, z, _ in cells)
    shown = ", ".join(f"H={h} {z:+.1f} (std {stat.std:.3f}, {stat.n} seeds)" for h, z, stat in cells)
    return (
        f"DLinear's seed spread on ETTh1 (the paper reports one run): our mean minus the paper's in seed standard "
        f"deviations {shown}; within 2 at {within} of {len(cells)}."
    )


def findings(rows) -> list[str]:
    """Which of Zeng et al.'s and Nie et al.'s claims hold in these results (computed, never typed), and which
    runs are missing."""
    lines = []
    published = _published()
    gaps = []
    for horizon in HORIZONS:
        ours = _mse(rows, "dlinear", "etth1", horizon)
        if ours is not None:
            gaps.append((horizon, ours - float(published[f"DLinear, ETTh1, H={horizon}"]["test/mse"])))
    if gaps:
        within = sum(abs(gap) <= 0.01 for _, gap in gaps)
        shown = ", ".join(f"H={h} {gap:+.3f}" for h, gap in gaps)
        lines.append(f"DLinear against Zeng et al.'s ETTh1 MSE: {shown}; within .01 at {within} of {len(gaps)}.")
        spread = _seed_spread(rows, published)
        if spread:
            lines.append(spread)
    fed = []
    for horizon in HORIZONS:
        ours = _mse(rows, "patch_attention", "etth1", horizon)
        if ours is not None:
            fed.append((horizon, ours, FEDFORMER_ETTH1_MSE[horizon]))
    if fed:
        at_or_below = sum(ours <= float(theirs) for _, ours, theirs in fed)
        shown = ", ".join(f"H={h} {ours:.3f}".replace(" 0.", " .") + f" vs {theirs}" for h, ours, theirs in fed)
        lines.append(
            f"Patch attention against FEDformer's published ETTh1 MSE: {shown}; at or below it at {at_or_below} "
            f"of {len(fed)} horizons run."
        )
    informer = [
        f"{data.replace('etth', 'ETTh')} H={horizon} {ours:.3f} vs {INFORMER_MSE[data][horizon]}".replace(" 0.", " .")
        for data in DATASETS
        for horizon in HORIZONS
        if (ours := _mse(rows, "transformer", data, horizon)) is not None
    ]
    if informer:
        lines.append(
            "Our vanilla Transformer (L 96) against Informer's published MSE, the era's attention baseline that "
            f"Zeng et al. beat: {', '.join(informer)}."
        )
    planned = {{**SMOKE, **row.point}["model.name"] for row in rows}
    for text, better, worse in (
        ("Zeng et al.'s claim, ", "dlinear", "transformer"),
        ("Nie et al.'s claim, ", "patch_attention", "dlinear"),
        ("Recurrent temporal attention (L 96): ", "temporal_attention", "dlinear"),
    ):
        if {better, worse} <= planned:  # a scale without one of the two models (dlinear_seeds) says nothing
            lines.append(text + _compare(rows, better, worse))
    missing = sum(row.expected - row.runs for row in rows)
    if missing:
        parts = []
        for model in {row.label.split(", ")[0]: None for row in rows}:
            mine = [row for row in rows if row.label.split(", ")[0] == model]
            absent = sum(row.expected - row.runs for row in mine)
            if not absent:
                continue
            partial = [
                f"{row.label.split(', ', 1)[1]} {row.runs}/{row.expected}"
                for row in mine
                if 0 < row.runs < row.expected
            ]
            part = f"{model} {absent} of {sum(row.expected for row in mine)}"
            parts.append(part + (f" (partly run: {', '.join(partial)})" if partial else ""))
        lines.append(
            f"Not run yet (CPU time ran out): {missing} of {sum(row.expected for row in rows)} runs: "
            f"{'; '.join(parts)}. The sweep resumes where it stopped: `{RESUME}`."
        )
    return lines


SMOKE = {
    "data.name": "etth1",
    "data.horizon": 96,
    "train.num_steps": 20,
    "train.batch_size": 32,
    "train.log_every_steps": 10,
    "train.eval_every_steps": 20,
    "train.checkpoint_every_steps": 20,
    "eval.batch_size": 512,
    "eval.num_heatmaps": 1,
    "wandb.mode": "disabled",
}

EXPERIMENT = Experiment(
    name="zeng2023_ett",
    title="Zeng et al. (2023) / Nie et al. (2023): ETTh1 and ETTh2, linear models against attention",
    config="configs/forecasting.py:model=dlinear",
    blocks=(
        _block("repeat"),
        _block("dlinear"),
        _block("patch_attention"),
        _block("transformer"),
        _block("temporal_attention", **{"data.lookback": [96, 336]}),
    ),
    scales={
        "full": Scale(
            "every model on ETTh1 and ETTh2 at H 96-720 with configs/forecasting.py's recipes, 3 seeds; DLinear "
            "about 2 min a run on 2 shared CPU cores, patch attention about 4 min a run, 2 at a time (docstring)",
            seeds=(0, 1, 2),
        ),
        "dlinear_seeds": Scale(
            "DLinear on ETTh1 at H 96-720 with 10 seeds (issue 21: is the gap to the paper's single run the seeds' "
            "spread?); about a minute a run on 2 CPU cores, 2 at a time",
            seeds=tuple(range(10)),
            blocks=(Block({"model.name": "dlinear", "data.name": "etth1", "data.horizon": HORIZONS}, name="dlinear"),),
        ),
        "patchtst_recipe": Scale(
            "patch attention on ETTh1 and ETTh2 at H 96-720 built and trained as PatchTST's reference code does "
            "(configs/forecasting.py PATCHTST_ENCODER: BatchNorm after each sub-layer, residual attention, GELU, "
            "dropout inside the feed-forward network and on the attention projection; "
            "PATCHTST_TRAINING: batch 128, Adam 1e-4, 100 epochs, x 0.9 per epoch after the fourth), 3 seeds; "
            "GPU-sized (benchmarks/gpu.sh sweeps zeng2023_ett:patchtst_recipe:8), about 80 min a run on 2 CPU cores",
            seeds=(0, 1, 2),
            blocks=(_block("patch_attention", **_config_file().PATCHTST_ENCODER, **_config_file().PATCHTST_TRAINING),),
            notes=(
                "This scale: patch attention as PatchTST's reference code builds and trains it (BatchNorm after "
                "each sub-layer, residual attention, GELU, dropout 0.3 also inside the feed-forward network and on "
                "the attention projection, configs/forecasting.py PATCHTST_ENCODER; batch 128, Adam "
                "1e-4, 100 epochs, lr x 0.9 per epoch after the fourth, PATCHTST_TRAINING) in place of the CPU "
                "recipe named above.",
            ),
        ),
        "smoke": Scale(
            "DLinear and a one-layer patch attention, ETTh1 H 96, 20 updates; under a minute a run",
            overrides=SMOKE,
            blocks=(
                Block({"model.name": "dlinear"}, name="dlinear"),
                Block(  # only the keys its model reads: a rerun compares them with the recorded config
                    {
                        "model.name": "patch_attention",
                        "model.d_model": 8,
                        "model.heads": 2,
                        "model.ff_dim": 16,
                        "model.encoder_layers": 1,
                    },
                    name="patch_attention",
                ),
            ),
        ),
    },
    objective=Metric("validation/mse", "MSE", digits=3, goal="minimize"),
    table=Table(
        metrics=(
            Metric("test/mse", "MSE", digits=3, goal="minimize"),
            Metric("test/mae", "MAE", digits=3, goal="minimize"),
        ),
        row_label=label,
        row_title="model, data, horizon",
        published=_published(),
        source="Zeng et al. (2023), Table 2 (DLinear, Repeat; look-back 336) and Nie et al. (2023), Table 3 "
        "(PatchTST/42, look-back 336); multivariate, MSE / MAE on standardized values of the test windows",
        notes=(
            "Protocol: 12/4/4-month splits, per-channel standardization with the training statistics, all test "
            "windows (the reference code drops the last incomplete batch: one window of 2,785 at H 96).",
            "Published Transformers with look-back 96 (Zeng et al. Table 2, from FEDformer), ETTh1 MSE at H 96 / "
            "192 / 336 / 720: FEDformer .376 / .420 / .459 / .506, Autoformer .449 / .500 / .521 / .514, Informer "
            ".865 / 1.008 / 1.107 / 1.181. Our Transformer is the vanilla one (no ProbSparse, decomposition or "
            "Fourier blocks): compare its row in shape, not cell by cell.",
            "Claims to check: DLinear (L 336) beats the L-96 Transformers; patch attention reaches DLinear and "
            "stays at or below FEDformer's MSE at every ETTh1 horizon.",
            "CPU-sized recipes (configs/forecasting.py): Repeat and DLinear as in the papers; patch attention with "
            "PatchTST/42's sizes and reference encoder (BatchNorm after each sub-layer, residual attention, GELU, "
            "dropout 0.3 inside the feed-forward network and on the attention projection) but 4 epochs at batch 32 "
            "and Adam 1e-3 (PatchTST: up to 100 epochs at batch 128 and 1e-4); the Transformer at d_model 64, 4 heads, "
            "d_ff 256, 2 epochs (FEDformer's: 512, 8, 2048, 10 epochs); temporal attention forecasting 24 hours per "
            "decoder step (Qin et al.: 1), 2 epochs. The attention rows are therefore not the papers' models at "
            "their sizes.",
            "DLinear's spread at H 336 and 720 (configs/forecasting.py): on ETTh1, seed 2 has the lowest validation "
            "MSE of the three seeds and the highest test MSE (.482 and .549); its best validation checkpoint comes "
            "after 3 epochs, the others' after 6-9, a selection the reference code's early stopping makes the same "
            "way or earlier: with its patience of 3 epochs (train.early_stopping_patience; 10 seeds, exploratory, "
            "clean 2214557) 16 of 20 runs at H 336 and 720 keep their checkpoint and 4 stop before it, at "
            "checkpoints with higher test MSE (means .444 -> .460 and .491 -> .493). Seed 0 is within .006 of "
            "the paper at every horizon; the paper reports one run. The same with Flax's initialization (3 times "
            "the weight variance of the reference's PyTorch nn.Linear, zero biases): the initialization is not the "
            "gap (configs/forecasting.py).",
        ),
        findings=findings,
    ),
)
