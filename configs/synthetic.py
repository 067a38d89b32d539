"""Synthetic tasks where attention matters: copy, reverse, sort; test sequences longer than training ones.

    python -m attn_research.main --config=configs/synthetic.py:reverse --workdir=workdirs/reverse
    python -m attn_research.main --config=configs/synthetic.py:reverse,transformer --workdir=workdirs/reverse_tf

The default of `make train`: a small bidirectional GRU with Bahdanau attention reverses sequences of
3-12 symbols and is tested on 13-16 symbols (length generalization); under 3 minutes on 2 CPU cores.
arg: <task>[,<architecture>], architecture 'rnn' (the default) or 'transformer': a small Transformer
(Vaswani et al. 2017; d_model 64, 2 + 2 layers, 4 heads, sinusoidal positions, which exist at the
unseen test lengths) with the paper's Adam(0.9, 0.98, 1e-9) and warmup + inverse-square-root schedule.
"""

from attn_research.config_defaults import attention_config, base_config

TASKS = ("copy", "reverse", "sort")
ARCHITECTURES = ("rnn", "transformer")


def get_config(arg: str = "reverse"):
    """The experiment for arg = '<task>[,<architecture>]' (module docstring); raises ValueError listing the
    valid tasks or architectures otherwise."""
    task, _, architecture = arg.partition(",")
    architecture = architecture or "rnn"
    if task not in TASKS:
        raise ValueError(f"unknown synthetic task {task!r}; valid: {', '.join(TASKS)}")
    if architecture not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {architecture!r}; valid: {', '.join(ARCHITECTURES)}")
    config = base_config()
    config.experiment = "synthetic"
    config.name = task
    config.data.update(
        dict(
            name="synthetic",
            task=task,
            synthetic_vocab_size=20,
            train_min_len=3,
            train_max_len=12,
            test_min_len=13,
            test_max_len=16,
            num_train=12000,
            num_validation=500,
            num_test=500,
        )
    )
    config.model.update(
        dict(
            embed_dim=64,
            cell="gru",
            encoder_hidden=128,
            decoder_hidden=128,
            decoder="bahdanau",
            bridge="bahdanau",
            dropout=0.0,
            attention=attention_config("additive", dim=64),
        )
    )
    config.train.update(dict(batch_size=64, num_epochs=6, learning_rate=3e-3, log_every_steps=50, eval_every_steps=250))
    config.eval.update(dict(batch_size=128, max_decode_len=24, num_heatmaps=4))
    if architecture == "transformer":
        config.name = f"{task}_transformer"
        config.model.update(
            dict(
                architecture="transformer",
                d_model=64,
                heads=4,
                key_dim=0,
                encoder_layers=2,
                decoder_layers=2,
                ff_dim=256,
                dropout=0.0,
                attention_dropout=0.0,
                norm="post",
                positions="sinusoidal",
                tie_embeddings=False,
                max_len=64,
            )
        )
        config.train.update(
            dict(
                adam_b1=0.9, adam_b2=0.98, adam_eps=1e-9, schedule="warmup_rsqrt", warmup_steps=200, learning_rate=2e-3
            )
        )
    config.wandb.group = "synthetic"
    return config
