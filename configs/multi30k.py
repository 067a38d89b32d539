"""Multi30k German->English (Elliott et al. 2016), test2016: Bahdanau and Luong models and Britz baselines.

    python -m attn_research.main --config=configs/multi30k.py:bahdanau --workdir=workdirs/m30k_bahdanau

arg: bahdanau | luong_dot | luong_general | luong_concat | luong_location | none_state | none_input.
`bahdanau` is the common bi-GRU baseline (bentrevett/pytorch-seq2seq notebook 4): embeddings 256, hidden
512, dropout 0.5, Adam 1e-3, clip 1, batch 128, 10 epochs, teacher forcing 0.5, best-validation
checkpoint for test (published: test BLEU 28.1, ppl 23.2). The Luong models keep the same sizes with a
2-layer LSTM decoder, input feeding and the named score (Luong et al. 2015, sec. 3).
"""
from attn_research.config_defaults import attention_config, base_config

LUONG_SCORES = {"luong_dot": "dot", "luong_general": "general", "luong_concat": "concat",
                "luong_location": "location"}
MODELS = ("bahdanau", *LUONG_SCORES, "none_state", "none_input")


def get_config(model: str = "bahdanau"):
    """The de->en experiment for `model` (one of MODELS); raises ValueError listing them otherwise."""
    if model not in MODELS:
        raise ValueError(f"unknown Multi30k model {model!r}; valid: {', '.join(MODELS)}")
    config = base_config()
    config.experiment = "multi30k"
    config.name = f"de_en_{model}"
    config.data.update(dict(name="multi30k", source_lang="de", target_lang="en", tokenizer="moses", min_freq=2))
    config.model.update(dict(embed_dim=256, cell="gru", encoder_layers=1, encoder_hidden=512, bidirectional=True,
                             decoder_layers=1, decoder_hidden=512, bridge="bahdanau", dropout=0.5,
                             teacher_forcing_ratio=0.5, decoder="bahdanau",
                             attention=attention_config("additive", dim=512)))
    if model in LUONG_SCORES:
        config.model.update(dict(cell="lstm", decoder="luong", decoder_layers=2, encoder_layers=2,
                                 encoder_hidden=256, input_feeding=True, bridge="last",
                                 attention=attention_config(LUONG_SCORES[model], dim=512, max_len=64)))
    elif model in ("none_state", "none_input"):
        config.model.decoder = model
        config.model.bridge = "last"
    config.train.update(dict(batch_size=128, num_epochs=10, learning_rate=1e-3, clip_norm=1.0,
                             log_every_steps=25, eval_every_steps=0))
    config.eval.update(dict(batch_size=128, max_decode_len=50, num_heatmaps=4))
    config.wandb.group = "multi30k"
    return config
