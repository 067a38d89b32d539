"""Synthetic tasks where attention matters: copy, reverse, sort; test sequences longer than training ones.

    python -m attn_research.main --config=configs/synthetic.py:reverse --workdir=workdirs/reverse

The default of `make train`: a small bidirectional GRU with Bahdanau attention reverses sequences of
3-12 symbols and is tested on 13-16 symbols (length generalization); under 3 minutes on 2 CPU cores.
"""
from attn_research.config_defaults import attention_config, base_config

TASKS = ("copy", "reverse", "sort")


def get_config(task: str = "reverse"):
    """The `task` experiment (copy, reverse or sort); raises ValueError listing them otherwise."""
    if task not in TASKS:
        raise ValueError(f"unknown synthetic task {task!r}; valid: {', '.join(TASKS)}")
    config = base_config()
    config.experiment = "synthetic"
    config.name = task
    config.data.update(dict(name="synthetic", task=task, synthetic_vocab_size=20, train_min_len=3,
                            train_max_len=12, test_min_len=13, test_max_len=16, num_train=12000,
                            num_validation=500, num_test=500))
    config.model.update(dict(embed_dim=64, cell="gru", encoder_hidden=128, decoder_hidden=128,
                             decoder="bahdanau", bridge="bahdanau", dropout=0.0,
                             attention=attention_config("additive", dim=64)))
    config.train.update(dict(batch_size=64, num_epochs=6, learning_rate=3e-3, log_every_steps=50,
                             eval_every_steps=250))
    config.eval.update(dict(batch_size=128, max_decode_len=24, num_heatmaps=4))
    config.wandb.group = "synthetic"
    return config
