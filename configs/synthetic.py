"""Synthetic tasks where attention matters: copy, reverse or sort sequences, tested on longer ones than trained on.

Papers: no paper's table: a diagnostic whose right alignment is known (copy: the diagonal, reverse: the
anti-diagonal), for the models of D. Bahdanau, K. Cho and Y. Bengio (2015), "Neural Machine Translation by
Jointly Learning to Align and Translate", ICLR, sec. 3 (RNNsearch: bidirectional encoder, additive attention)
and A. Vaswani et al. (2017), "Attention Is All You Need", NeurIPS, sec. 3 and 5.3.

Arguments (named; each has a default, so `configs/synthetic.py` alone is task=reverse,architecture=rnn, the
model of `make train`):
  task          copy | reverse | sort: sequences of 3-12 symbols from a vocabulary of 20; 12,000 training, 500
                validation and 500 test sequences, the test ones of 13-16 symbols (length generalization)
  architecture  rnn: a bidirectional GRU encoder of 128 units, a GRU decoder of 128 with Bahdanau's additive
                attention (64), embeddings 64, no dropout;
                transformer: d_model 64, 2 + 2 post-LN layers, 4 heads, d_ff 256, no dropout, sinusoidal
                positions (they exist at the unseen test lengths), untied embeddings (the RNN's keys stay set,
                unread)
Recipe: batches of 64, 6 epochs; rnn: constant Adam 3e-3; transformer: the paper's Adam(0.9, 0.98, 1e-9)
with 200 warmup steps then an inverse-square-root decay, peak 2e-3 (sec. 5.3, eq. 3's shape). The best
validation checkpoint is tested with greedy decoding (up to 24 symbols). Under 3 minutes on 2 CPU cores.

Expected (recorded results): task=reverse (architecture=rnn): test exact match 83.4%, BLEU 97.16 on the
unseen lengths 13-16, validation exact match 100% (results/synthetic/reverse.json, commit 33b90a0566, 0.7 min).
Every attention family on sequences of 3-12 symbols: results/tables/attention_variants_reverse.md.

    python -m attn_research.main --config=configs/synthetic.py:task=reverse --workdir=workdirs/reverse
    python -m attn_research.main --config=configs/synthetic.py:task=reverse,architecture=transformer --workdir=...
"""

from attn_research.config_args import parse_config_args
from attn_research.config_defaults import attention_config, base_config

TASKS = ("copy", "reverse", "sort")
ARCHITECTURES = ("rnn", "transformer")
ARGUMENTS = {"task": "reverse", "architecture": "rnn"}
CHOICES = {"task": TASKS, "architecture": ARCHITECTURES}


def rnn(model):
    """The `make train` model: bidirectional GRU 128, GRU decoder 128, additive attention of 64 units."""
    model.embed_dim = 64
    model.cell = "gru"
    model.encoder_hidden = 128
    model.decoder_hidden = 128
    model.decoder = "bahdanau"
    model.bridge = "bahdanau"
    model.attention = attention_config("additive", dim=64)


def transformer(model):
    """A small Transformer (Vaswani et al. 2017, sec. 3): d_model 64, 2 + 2 layers, 4 heads, d_ff 256."""
    model.architecture = "transformer"
    model.d_model = 64
    model.heads = 4
    model.key_dim = 0  # d_k = d_model / heads
    model.encoder_layers = 2
    model.decoder_layers = 2
    model.ff_dim = 256
    model.attention_dropout = 0.0
    model.norm = "post"
    model.positions = "sinusoidal"
    model.tie_embeddings = False
    model.max_len = 64


def constant_recipe(train):
    """Batches of 64, 6 epochs, constant Adam 3e-3."""
    train.batch_size = 64
    train.num_epochs = 6
    train.learning_rate = 3e-3
    train.log_every_steps = 50
    train.eval_every_steps = 250


def vaswani_recipe(train):
    """Vaswani et al. (2017), sec. 5.3: Adam(0.9, 0.98, 1e-9), 200 warmup steps then 1/sqrt(step), peak 2e-3."""
    train.batch_size = 64
    train.num_epochs = 6
    train.learning_rate = 2e-3
    train.log_every_steps = 50
    train.eval_every_steps = 250
    train.adam_b1 = 0.9
    train.adam_b2 = 0.98
    train.adam_eps = 1e-9
    train.schedule = "warmup_rsqrt"
    train.warmup_steps = 200


RECIPES = {"rnn": constant_recipe, "transformer": vaswani_recipe}
NAME_SUFFIX = {"rnn": "", "transformer": "_transformer"}


def get_config(arg: str = ""):
    """The experiment for arg = "task=...,architecture=..." (module docstring); raises ValueError (one line)
    for an unknown argument or value, listing the valid ones."""
    args = parse_config_args(arg, ARGUMENTS, CHOICES, kind="synthetic")
    config = base_config()
    config.experiment = "synthetic"
    config.name = f"{args.task}{NAME_SUFFIX[args.architecture]}"
    config.data.name = "synthetic"
    config.data.task = args.task
    config.data.synthetic_vocab_size = 20
    config.data.train_min_len = 3
    config.data.train_max_len = 12
    config.data.test_min_len = 13
    config.data.test_max_len = 16
    config.data.num_train = 12000
    config.data.num_validation = 500
    config.data.num_test = 500
    rnn(config.model)  # a Transformer leaves these keys unread
    if args.architecture == "transformer":
        transformer(config.model)
    config.model.dropout = 0.0
    RECIPES[args.architecture](config.train)
    config.eval.batch_size = 128
    config.eval.max_decode_len = 24
    config.eval.num_heatmaps = 4
    config.wandb.group = "synthetic"
    return config
