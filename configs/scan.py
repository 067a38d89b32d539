"""SCAN: the splits of Lake & Baroni's experiments 1-3, each with its top-performing sequence-to-sequence RNN.

Paper: B. Lake and M. Baroni (2018), "Generalization without systematicity: On the compositional skills of
sequence-to-sequence recurrent networks", ICML; sec. 2 (models and training), sec. 3-5 (experiments 1-3:
the random "simple" split, the length split, the add-primitive "jump" and "turn left" splits).

Arguments (named; each has a default, so `configs/scan.py` alone is split=simple,model=top,recipe=ours):
  split   simple | length | addprim_jump | addprim_turn_left
  model   top: the paper's top-performing network for the split (TOP_MODELS, sec. 3-5);
          gru_attention | lstm_attention | gru | lstm: the paper's overall-best size, 2 layers x 200 units,
          dropout 0.5, with Bahdanau attention or none;
          bigru_attention: ours, a bidirectional GRU encoder with Bahdanau attention, 1 x 200 units, dropout 0.1
  recipe  ours: 6,000 updates of batch 64 (the loss has converged by then on CPU), constant Adam 1e-3, gradient
          clipping at 5, teacher forcing 0.5; bigru_attention: 5,000 updates of 64, Adam 2e-3 after 200 warmup
          steps with a cosine decay, teacher forcing 1;
          paper: the paper's own (sec. 2): 100,000 updates of batch 1, Adam 1e-3, clipping at 5, teacher forcing
          0.5, no schedule, evaluated every 10,000 updates, one update per jitted call (on 2 CPU cores a batch-1
          update is compute-bound, and each batch padded to its own lengths runs about 2x the updates/s of K
          updates per call on batches padded to SCAN's longest; benchmarks/small_updates.py).
Every model: embeddings of the hidden size, the decoder starts from the encoder's last state (bigru_attention:
Bahdanau's initial state), Bahdanau's additive score where there is attention; the best-validation
exact-match checkpoint is tested, decoding up to 56 actions.

Expected (recorded results):
  split=simple,model=bigru_attention: test exact match 100%, 12.5 min on 2 CPU cores
  (results/scan/simple_bigru_attention.json, commit 1d6bcd8d18).
  model=gru_attention with experiments/lake2018_scan.py's `full` overrides (1 x 100 units, dropout 0.1, 3,000
  updates of 64, Adam 2e-3 cosine): test exact match, mean of 5 seeds, simple 98.2%, length 14.8%, addprim_jump
  0.1%, addprim_turn_left 40.7% (paper: 90.3%) (results/tables/lake2018_scan.md).
  recipe=paper: no recorded result yet (`python -m attn_research.sweep experiments/lake2018_scan.py --scale paper`).

    python -m attn_research.main --config=configs/scan.py:split=simple,model=bigru_attention --workdir=workdirs/scan
    python -m attn_research.main --config=configs/scan.py:split=simple,model=gru_attention --workdir=workdirs/scan_gru
    python -m attn_research.main --config=configs/scan.py:split=addprim_turn_left,recipe=paper --workdir=workdirs/tl
"""

from typing import NamedTuple

from attn_research.config_args import parse_config_args
from attn_research.config_defaults import attention_config, base_config


class Network(NamedTuple):
    """An encoder-decoder RNN as the paper describes one: cell, layers, hidden units, dropout, attention."""

    cell: str
    layers: int
    hidden: int
    dropout: float
    attention: bool
    bidirectional: bool = False


SPLITS = ("simple", "length", "addprim_jump", "addprim_turn_left")
TOP_MODELS = {  # each split's top-performing network, as reported in sec. 3-5
    "simple": Network("lstm", 2, 200, 0.0, False),
    "length": Network("gru", 1, 50, 0.5, True),
    "addprim_jump": Network("lstm", 1, 100, 0.1, True),
    "addprim_turn_left": Network("gru", 1, 100, 0.1, True),
}
NETWORKS = {  # the overall-best size (2 x 200, dropout 0.5, sec. 2) for each cell, and our bidirectional GRU
    "gru_attention": Network("gru", 2, 200, 0.5, True),
    "lstm_attention": Network("lstm", 2, 200, 0.5, True),
    "gru": Network("gru", 2, 200, 0.5, False),
    "lstm": Network("lstm", 2, 200, 0.5, False),
    "bigru_attention": Network("gru", 1, 200, 0.1, True, bidirectional=True),
}
MODELS = ("top", *NETWORKS)
RECIPES = ("ours", "paper")
ARGUMENTS = {"split": "simple", "model": "top", "recipe": "ours"}
CHOICES = {"split": SPLITS, "model": MODELS, "recipe": RECIPES}
PAPER_STEPS_PER_CALL = 1  # benchmarks/small_updates.py: per-batch shapes beat stacked fixed shapes on CPU


def set_network(model, network: Network):
    """config.model for `network`: embeddings of the hidden size, Bahdanau's additive attention (or none)."""
    model.embed_dim = network.hidden
    model.cell = network.cell
    model.encoder_layers = network.layers
    model.decoder_layers = network.layers
    model.encoder_hidden = network.hidden
    model.decoder_hidden = network.hidden
    model.bidirectional = network.bidirectional
    model.dropout = network.dropout
    model.bridge = "bahdanau" if network.bidirectional else "last"
    model.decoder = "bahdanau" if network.attention else "none_state"
    model.attention = attention_config("additive", dim=network.hidden)


def our_recipe(config):
    """Ours on 2 CPU cores: 6,000 updates of 64 at a constant Adam 1e-3, clipping at 5, teacher forcing 0.5."""
    config.model.teacher_forcing_ratio = 0.5
    config.train.batch_size = 64
    config.train.num_steps = 6000
    config.train.learning_rate = 1e-3
    config.train.schedule = "constant"
    config.train.warmup_steps = 0
    config.train.clip_norm = 5.0
    config.train.log_every_steps = 100
    config.train.eval_every_steps = 1000


def our_cosine_recipe(config):
    """Ours for bigru_attention: 5,000 updates of 64, Adam 2e-3 after 200 warmup steps with a cosine decay,
    clipping at 5, teacher forcing 1."""
    config.model.teacher_forcing_ratio = 1.0
    config.train.batch_size = 64
    config.train.num_steps = 5000
    config.train.learning_rate = 2e-3
    config.train.schedule = "cosine"
    config.train.warmup_steps = 200
    config.train.clip_norm = 5.0
    config.train.log_every_steps = 100
    config.train.eval_every_steps = 1000


def paper_recipe(config):
    """Lake & Baroni (2018), sec. 2: 100,000 single-example updates, Adam 1e-3, clipping at 5, teacher forcing 0.5."""
    config.model.teacher_forcing_ratio = 0.5
    config.train.batch_size = 1
    config.train.num_steps = 100_000
    config.train.learning_rate = 1e-3
    config.train.schedule = "constant"
    config.train.warmup_steps = 0
    config.train.clip_norm = 5.0
    config.train.steps_per_call = PAPER_STEPS_PER_CALL
    config.train.log_every_steps = 1000
    config.train.eval_every_steps = 10_000


def recipe_settings(recipe: str, model: str):
    """The function that sets `recipe` for `model`: the paper's is the same for every model."""
    if recipe == "paper":
        return paper_recipe
    return our_cosine_recipe if model == "bigru_attention" else our_recipe


NAME_SUFFIX = {"ours": "", "paper": "_paper"}


def get_config(arg: str = ""):
    """The SCAN experiment for arg = "split=...,model=...,recipe=..." (module docstring); raises ValueError
    (one line) for an unknown argument or value, listing the valid ones."""
    args = parse_config_args(arg, ARGUMENTS, CHOICES, kind="SCAN")
    config = base_config()
    config.experiment = "scan"
    config.name = f"{args.split}_{args.model}{NAME_SUFFIX[args.recipe]}"
    config.data.name = "scan"
    config.data.split = args.split
    set_network(config.model, TOP_MODELS[args.split] if args.model == "top" else NETWORKS[args.model])
    recipe_settings(args.recipe, args.model)(config)
    config.train.best_metric = "seq_accuracy"
    config.train.best_mode = "max"
    config.eval.batch_size = 256
    config.eval.max_decode_len = 56
    config.eval.num_heatmaps = 4
    config.wandb.group = "scan"
    return config
