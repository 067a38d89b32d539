"""SCAN (Lake & Baroni 2018): the splits of experiments 1-3 with each split's top-performing model.

    python -m attn_research.main --config=configs/scan.py:simple --workdir=workdirs/scan_simple
    python -m attn_research.main --config=configs/scan.py:simple,gru_attention --workdir=...
    python -m attn_research.main --config=configs/scan.py:addprim_turn_left,top,paper --workdir=...

arg = "<split>[,<model>[,<recipe>]]". split: simple | length | addprim_jump | addprim_turn_left.
model: "top" (default: the paper's top-performing architecture for that split, sec. 3-5) or one of
gru_attention | lstm_attention | gru | lstm with the overall-best size (2 layers x 200 units, dropout 0.5),
or bigru_attention: a bidirectional-encoder GRU with Bahdanau attention, 1 x 200 units, dropout 0.1,
teacher forcing 1, Adam 2e-3 with warmup and cosine decay over 5000 steps (reaches >= 99% on simple).
recipe: "ours" (default) trains on batches of 64 for the paper's number of samples / 10 (the loss has
converged by then on CPU); "paper" is the paper's own (sec. 2): 100,000 updates of batch 1, Adam 1e-3,
gradient clipping at 5, teacher forcing 0.5, no schedule, evaluated every 10,000 updates, one update per
jitted call: on 2 CPU cores a batch-1 update is compute-bound, and each batch padded to its own lengths
(K = 1) runs about 2x the updates/s of K updates per call (--config.train.steps_per_call=K, every batch
padded to SCAN's longest; benchmarks/small_updates.py), about 5 min of training for the 100,000.
"""

from attn_research.config_defaults import attention_config, base_config

SPLITS = ("simple", "length", "addprim_jump", "addprim_turn_left")
# cell, layers, hidden, dropout, attention, as reported for each split's top-performing model.
TOP_MODELS = {
    "simple": ("lstm", 2, 200, 0.0, False),
    "length": ("gru", 1, 50, 0.5, True),
    "addprim_jump": ("lstm", 1, 100, 0.1, True),
    "addprim_turn_left": ("gru", 1, 100, 0.1, True),
}
MODELS = ("top", "gru_attention", "lstm_attention", "gru", "lstm", "bigru_attention")
RECIPES = ("ours", "paper")
PAPER_STEPS_PER_CALL = 1  # benchmarks/small_updates.py: per-batch shapes beat stacked fixed shapes on CPU


def get_config(arg: str = "simple"):
    """arg = "<split>[,<model>[,<recipe>]]" (module docstring); raises ValueError listing the valid choices."""
    split, _, rest = arg.partition(",")
    model, _, recipe = rest.partition(",")
    model, recipe = model or "top", recipe or "ours"
    if split not in SPLITS:
        raise ValueError(f"unknown SCAN split {split!r}; valid: {', '.join(SPLITS)}")
    if model not in MODELS:
        raise ValueError(f"unknown SCAN model {model!r}; valid: {', '.join(MODELS)}")
    if recipe not in RECIPES:
        raise ValueError(f"unknown SCAN recipe {recipe!r}; valid: {', '.join(RECIPES)}")
    if model == "top":
        cell, layers, hidden, dropout, attention = TOP_MODELS[split]
    else:
        cell = model.split("_")[0].removeprefix("bi")
        layers, hidden, dropout, attention = 2, 200, 0.5, model.endswith("attention")

    config = base_config()
    config.experiment = "scan"
    config.name = f"{split}_{model}"
    config.data.update(dict(name="scan", split=split))
    config.model.update(
        dict(
            embed_dim=hidden,
            cell=cell,
            encoder_layers=layers,
            decoder_layers=layers,
            encoder_hidden=hidden,
            decoder_hidden=hidden,
            bidirectional=False,
            dropout=dropout,
            teacher_forcing_ratio=0.5,
            bridge="last",
            decoder="bahdanau" if attention else "none_state",
            attention=attention_config("additive", dim=hidden),
        )
    )
    config.train.update(
        dict(
            batch_size=64,
            num_steps=6000,
            learning_rate=1e-3,
            clip_norm=5.0,
            eval_every_steps=1000,
            log_every_steps=100,
            best_metric="seq_accuracy",
            best_mode="max",
        )
    )
    if model == "bigru_attention":  # our fast attentive GRU: 1 x 200, bidirectional encoder, cosine schedule
        config.model.update(
            dict(
                bidirectional=True,
                bridge="bahdanau",
                encoder_layers=1,
                decoder_layers=1,
                dropout=0.1,
                teacher_forcing_ratio=1.0,
            )
        )
        config.train.update(dict(num_steps=5000, schedule="cosine", warmup_steps=200, learning_rate=2e-3))
    if recipe == "paper":  # Lake & Baroni (2018), sec. 2: many single-example updates
        config.name = f"{split}_{model}_paper"
        config.model.teacher_forcing_ratio = 0.5
        config.train.update(
            dict(
                batch_size=1,
                num_steps=100_000,
                learning_rate=1e-3,
                clip_norm=5.0,
                schedule="constant",
                warmup_steps=0,
                steps_per_call=PAPER_STEPS_PER_CALL,
                log_every_steps=1000,
                eval_every_steps=10_000,
            )
        )
    config.eval.update(dict(batch_size=256, max_decode_len=56, num_heatmaps=4))
    config.wandb.group = "scan"
    return config
