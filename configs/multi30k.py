"""Multi30k German->English (Elliott et al. 2016), test2016: Bahdanau and Luong models and Britz baselines.

    python -m attn_research.main --config=configs/multi30k.py:bahdanau --workdir=workdirs/m30k_bahdanau

arg: <model>[,bfloat16], model one of bahdanau | luong_dot | luong_general | luong_concat | luong_location |
none_state | none_input | transformer | transformer_nb6; ',bfloat16' trains it in mixed precision
(config.model.compute_dtype, attn_research/models/precision.py), e.g. `--config=configs/multi30k.py:luong_general,bfloat16`.
`bahdanau` is the common bi-GRU baseline (bentrevett/pytorch-seq2seq notebook 4): embeddings 256, hidden
512, dropout 0.5, Adam 1e-3, clip 1, batch 128, 10 epochs, teacher forcing 0.5, best-validation
checkpoint for test (published: test BLEU 28.1, ppl 23.2). The Luong models keep the same sizes with a
2-layer LSTM decoder, input feeding and the named score (Luong et al. 2015, sec. 3).

The Transformers (Vaswani et al. 2017) have the sizes of bentrevett/pytorch-seq2seq notebook 6 (published:
test BLEU 36.52, teacher-forced test ppl 5.32): 3 + 3 post-LN layers, d_model 256, 8 heads, d_ff 512,
dropout 0.1 (also on the attention weights), learned positions (100), untied embeddings, clip 1, batch 128,
best-validation-loss checkpoint. `transformer_nb6` trains as the notebook does: Adam 5e-4 constant
(betas 0.9, 0.999), no label smoothing, 10 epochs. `transformer` trains as the paper does (sec. 5.3-5.4):
Adam(0.9, 0.98, eps 1e-9), label smoothing 0.1, linear warmup then inverse-square-root decay (eq. 3's
shape) over 10 epochs (the notebook's budget), warmup 800 steps (3.5 epochs), peak 1e-3. Eq. 3 itself would peak at
d_model^-0.5 * 800^-0.5 = 2.2e-3; we cap it at twice the notebook's constant rate, as post-LN layers are
sensitive to large rates (Xiong et al. 2020). Not tuned: a first choice to be checked by a run.
"""

from attn_research.config_defaults import attention_config, base_config

LUONG_SCORES = {"luong_dot": "dot", "luong_general": "general", "luong_concat": "concat", "luong_location": "location"}
TRANSFORMERS = ("transformer", "transformer_nb6")
MODELS = ("bahdanau", *LUONG_SCORES, "none_state", "none_input", *TRANSFORMERS)


def get_config(arg: str = "bahdanau"):
    """The de->en experiment for arg = '<model>[,bfloat16]' (model one of MODELS); raises ValueError listing the
    valid models or precisions otherwise."""
    model, _, precision = arg.partition(",")
    if model not in MODELS:
        raise ValueError(f"unknown Multi30k model {model!r}; valid: {', '.join(MODELS)}")
    if precision not in ("", "bfloat16"):
        raise ValueError(f"unknown Multi30k precision {precision!r}; valid: bfloat16 (or none: float32)")
    config = base_config()
    config.experiment = "multi30k"
    config.name = f"de_en_{model}"
    config.data.update(dict(name="multi30k", source_lang="de", target_lang="en", tokenizer="moses", min_freq=2))
    config.model.update(
        dict(
            embed_dim=256,
            cell="gru",
            encoder_layers=1,
            encoder_hidden=512,
            bidirectional=True,
            decoder_layers=1,
            decoder_hidden=512,
            bridge="bahdanau",
            dropout=0.5,
            teacher_forcing_ratio=0.5,
            decoder="bahdanau",
            attention=attention_config("additive", dim=512),
        )
    )
    if model in LUONG_SCORES:
        config.model.update(
            dict(
                cell="lstm",
                decoder="luong",
                decoder_layers=2,
                encoder_layers=2,
                encoder_hidden=256,
                input_feeding=True,
                bridge="last",
                attention=attention_config(LUONG_SCORES[model], dim=512, max_len=64),
            )
        )
    elif model in ("none_state", "none_input"):
        config.model.decoder = model
        config.model.bridge = "last"
    config.train.update(
        dict(batch_size=128, num_epochs=10, learning_rate=1e-3, clip_norm=1.0, log_every_steps=25, eval_every_steps=0)
    )
    config.eval.update(dict(batch_size=128, max_decode_len=50, num_heatmaps=4))
    if model in TRANSFORMERS:
        config.model.update(
            dict(
                architecture="transformer",
                d_model=256,
                heads=8,
                key_dim=0,
                encoder_layers=3,
                decoder_layers=3,
                ff_dim=512,
                dropout=0.1,
                attention_dropout=0.1,
                norm="post",
                positions="learned",
                tie_embeddings=False,
                max_len=100,
                teacher_forcing_ratio=1.0,
            )
        )  # the Transformer always trains on the gold prefix
        config.train.learning_rate = 5e-4
    if model == "transformer":
        config.train.update(
            dict(
                adam_b1=0.9,
                adam_b2=0.98,
                adam_eps=1e-9,
                schedule="warmup_rsqrt",
                warmup_steps=800,
                learning_rate=1e-3,
                label_smoothing=0.1,
                num_epochs=10,
            )
        )
    if precision:
        config.name = f"{config.name}_{precision}"
        config.model.compute_dtype = precision
    config.wandb.group = "multi30k"
    return config
