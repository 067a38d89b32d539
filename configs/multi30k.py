"""Multi30k German->English: Bahdanau's and Luong's attentive RNNs, attention-free baselines, the Transformer.

Data: Multi30k (Elliott et al. 2016, "Multi30K: Multilingual English-German Image Descriptions"), de->en,
29,000 training pairs, test2016; Moses tokens, lowercased, words seen at least twice.
Papers: D. Bahdanau, K. Cho and Y. Bengio (2015), "Neural Machine Translation by Jointly Learning to Align and
Translate", ICLR, sec. 3 and appendix A (RNNsearch); M.-T. Luong, H. Pham and C. D. Manning (2015), "Effective
Approaches to Attention-based Neural Machine Translation", EMNLP, sec. 3 (global attention, the dot, general,
concat and location scores, input feeding); A. Vaswani et al. (2017), "Attention Is All You Need", NeurIPS,
sec. 3, 5.3-5.4; D. Britz, A. Goldie, M.-T. Luong and Q. Le (2017), "Massive Exploration of Neural Machine
Translation Architectures", EMNLP, sec. 4.5 (no attention). Sizes and the training budget follow
bentrevett/pytorch-seq2seq (notebooks 4 and 6).

Arguments (named; each has a default, so `configs/multi30k.py` alone is model=bahdanau,precision=float32):
  model      bahdanau: the common bi-GRU baseline (notebook 4): embeddings 256, a bidirectional GRU encoder of
             512 units, a GRU decoder of 512 with Bahdanau's additive attention, dropout 0.5, teacher forcing 0.5;
             luong_dot | luong_general | luong_concat | luong_location: the same sizes with a 2-layer
             bidirectional LSTM encoder (2 x 256), a 2-layer LSTM decoder of 512, input feeding and the named
             score (Luong et al. 2015, sec. 3);
             none_state | none_input: the bahdanau model without attention (Britz et al. 2017, sec. 4.5: the
             source reaches the decoder only through its initial state, or the encoder's last state joins
             every decoder input);
             transformer | transformer_nb6: notebook 6's sizes: 3 + 3 post-LN layers, d_model 256, 8 heads,
             d_ff 512, dropout 0.1 (also on the attention weights), learned positions (100), untied embeddings,
             always trained on the gold prefix (the RNN keys of the config stay at their defaults, unread)
  precision  float32 | bfloat16: mixed precision (config.model.compute_dtype, attn_research/models/precision.py)
Recipe: Adam 1e-3, gradient clipping at 1, batches of 128 sentences, 10 epochs, the best-validation checkpoint
for test. transformer_nb6 trains as notebook 6 does: Adam 5e-4 constant (betas 0.9, 0.999), no label
smoothing. transformer trains as the paper does (sec. 5.3-5.4): Adam(0.9, 0.98, eps 1e-9), label smoothing
0.1, linear warmup then inverse-square-root decay (eq. 3's shape) over 10 epochs (the notebook's budget),
warmup 800 steps (3.5 epochs), peak 1e-3. Eq. 3 itself would peak at d_model^-0.5 * 800^-0.5 = 2.2e-3; we cap
it at twice the notebook's constant rate, as post-LN layers are sensitive to large rates (Xiong et al. 2020).
Not tuned: a first choice to be checked by a run.

Expected (recorded results; published: notebook 4 test BLEU 28.1, ppl 23.2; notebook 6 test BLEU 36.52, ppl 5.32):
  model=bahdanau: test BLEU 35.03 greedy, 36.28 beam 5, test ppl 6.009, 97 min on 2 CPU cores
  (results/multi30k/de_en_bahdanau.json, commit e5773c43e2; results/multi30k/decoding/de_en_bahdanau__test__beam5.json).
  model=transformer: test BLEU 34.99 greedy, 35.93 beam 5, test ppl 5.394, 83 min on 2 CPU cores
  (results/multi30k/de_en_transformer.json, commit a28188dbd5;
  results/multi30k/decoding/de_en_transformer__test__beam5.json); to 20 epochs (--config.train.num_epochs=20,
  `bash benchmarks/gpu.sh OUT transformer`): 36.64 greedy, 38.80 beam 5, ppl 5.070, 6.1 min on one H200
  (results/multi30k/de_en_transformer_e20_gpu.json, commit 99b88a67ee).
  The Luong models on en->de: experiments/luong2015_table4.py (results/tables/luong2015_table4.md, no runs yet).

    python -m attn_research.main --config=configs/multi30k.py:model=bahdanau --workdir=workdirs/m30k_bahdanau
    python -m attn_research.main --config=configs/multi30k.py:model=luong_general,precision=bfloat16 --workdir=...
    python -m attn_research.main --config=configs/multi30k.py:model=transformer --workdir=workdirs/m30k_transformer
"""

from attn_research.config_args import parse_config_args
from attn_research.config_defaults import attention_config, base_config


def bahdanau(model):
    """RNNsearch at notebook 4's size: bidirectional GRU encoder 512, GRU decoder 512, additive attention."""
    model.embed_dim = 256
    model.cell = "gru"
    model.encoder_layers = 1
    model.encoder_hidden = 512
    model.bidirectional = True
    model.decoder_layers = 1
    model.decoder_hidden = 512
    model.bridge = "bahdanau"
    model.dropout = 0.5
    model.teacher_forcing_ratio = 0.5
    model.decoder = "bahdanau"
    model.attention = attention_config("additive", dim=512)


def luong(score: str):
    """Luong et al. (2015), sec. 3: global attention with `score`, input feeding, a 2-layer LSTM decoder."""

    def setup(model):
        model.embed_dim = 256
        model.cell = "lstm"
        model.encoder_layers = 2
        model.encoder_hidden = 256
        model.bidirectional = True
        model.decoder_layers = 2
        model.decoder_hidden = 512
        model.bridge = "last"
        model.input_feeding = True
        model.dropout = 0.5
        model.teacher_forcing_ratio = 0.5
        model.decoder = "luong"
        model.attention = attention_config(score, dim=512, max_len=64)

    return setup


def no_attention(decoder: str):
    """The bahdanau model's sizes without attention: `decoder` none_state or none_input."""

    def setup(model):
        model.embed_dim = 256
        model.cell = "gru"
        model.encoder_layers = 1
        model.encoder_hidden = 512
        model.bidirectional = True
        model.decoder_layers = 1
        model.decoder_hidden = 512
        model.bridge = "last"
        model.dropout = 0.5
        model.teacher_forcing_ratio = 0.5
        model.decoder = decoder
        model.attention = attention_config("additive", dim=512)

    return setup


def transformer(model):
    """Vaswani et al. (2017), sec. 3 at notebook 6's size: 3 + 3 post-LN layers, d_model 256, 8 heads, d_ff 512."""
    model.architecture = "transformer"
    model.d_model = 256
    model.heads = 8
    model.key_dim = 0  # d_k = d_model / heads
    model.encoder_layers = 3
    model.decoder_layers = 3
    model.ff_dim = 512
    model.dropout = 0.1
    model.attention_dropout = 0.1
    model.norm = "post"
    model.positions = "learned"
    model.tie_embeddings = False
    model.max_len = 100
    model.teacher_forcing_ratio = 1.0


def notebook_recipe(train):
    """bentrevett/pytorch-seq2seq: Adam 1e-3, clipping at 1, 128 sentences a batch, 10 epochs."""
    train.batch_size = 128
    train.num_epochs = 10
    train.learning_rate = 1e-3
    train.clip_norm = 1.0
    train.log_every_steps = 25
    train.eval_every_steps = 0


def notebook6_recipe(train):
    """Notebook 6: the notebook recipe at a constant Adam 5e-4."""
    notebook_recipe(train)
    train.learning_rate = 5e-4


def vaswani_recipe(train):
    """Vaswani et al. (2017), sec. 5.3-5.4 in the notebook's budget: Adam(0.9, 0.98, 1e-9), warmup 800 then
    inverse square root (peak 1e-3), label smoothing 0.1, 10 epochs of 128 sentences, clipping at 1."""
    train.batch_size = 128
    train.num_epochs = 10
    train.learning_rate = 1e-3
    train.clip_norm = 1.0
    train.log_every_steps = 25
    train.eval_every_steps = 0
    train.adam_b1 = 0.9
    train.adam_b2 = 0.98
    train.adam_eps = 1e-9
    train.schedule = "warmup_rsqrt"
    train.warmup_steps = 800
    train.label_smoothing = 0.1


SETUPS = {  # model -> (its config.model settings, its config.train recipe)
    "bahdanau": (bahdanau, notebook_recipe),
    "luong_dot": (luong("dot"), notebook_recipe),
    "luong_general": (luong("general"), notebook_recipe),
    "luong_concat": (luong("concat"), notebook_recipe),
    "luong_location": (luong("location"), notebook_recipe),
    "none_state": (no_attention("none_state"), notebook_recipe),
    "none_input": (no_attention("none_input"), notebook_recipe),
    "transformer": (transformer, vaswani_recipe),
    "transformer_nb6": (transformer, notebook6_recipe),
}
MODELS = tuple(SETUPS)
PRECISIONS = ("float32", "bfloat16")
ARGUMENTS = {"model": "bahdanau", "precision": "float32"}
CHOICES = {"model": MODELS, "precision": PRECISIONS}
NAME_SUFFIX = {"float32": "", "bfloat16": "_bfloat16"}


def get_config(arg: str = ""):
    """The de->en experiment for arg = "model=...,precision=..." (module docstring); raises ValueError (one
    line) for an unknown argument or value, listing the valid ones."""
    args = parse_config_args(arg, ARGUMENTS, CHOICES, kind="Multi30k")
    set_model, set_recipe = SETUPS[args.model]
    config = base_config()
    config.experiment = "multi30k"
    config.name = f"de_en_{args.model}{NAME_SUFFIX[args.precision]}"
    config.data.name = "multi30k"
    config.data.source_lang = "de"
    config.data.target_lang = "en"
    config.data.tokenizer = "moses"
    config.data.min_freq = 2
    set_model(config.model)
    config.model.compute_dtype = args.precision
    set_recipe(config.train)
    config.eval.batch_size = 128
    config.eval.max_decode_len = 50
    config.eval.num_heatmaps = 4
    config.wandb.group = "multi30k"
    return config
