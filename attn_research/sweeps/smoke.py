"""The `smoke` scale shared by the experiments: a check that a sweep runs end to end in seconds.

Every run learns the synthetic reverse task (sequences of 3-6 symbols) with a one-layer model of 16-32
units for 20 steps, without W&B, so an experiment's smoke sweep of a few points takes well under a minute
on 2 CPU cores after the first compile. Its numbers mean nothing; they only show the pipeline works.
An experiment adds to it what its points need, e.g. {**SMOKE, "model.bidirectional": False}.
"""

SMOKE = {
    "data.name": "synthetic",
    "data.task": "reverse",
    "data.synthetic_vocab_size": 8,
    "data.train_min_len": 3,
    "data.train_max_len": 6,
    "data.test_min_len": 3,
    "data.test_max_len": 6,
    "data.num_train": 256,
    "data.num_validation": 32,
    "data.num_test": 32,
    "model.embed_dim": 16,
    "model.encoder_layers": 1,
    "model.decoder_layers": 1,
    "model.encoder_hidden": 16,
    "model.decoder_hidden": 32,
    "model.attention.dim": 16,
    "train.num_steps": 20,
    "train.batch_size": 32,
    "train.log_every_steps": 10,
    "train.eval_every_steps": 20,
    "train.checkpoint_every_steps": 20,
    "eval.batch_size": 32,
    "eval.max_decode_len": 8,
    "eval.num_heatmaps": 0,
    "wandb.mode": "disabled",
}
