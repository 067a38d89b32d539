"""Small configs shared by the end-to-end tests."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import jax

from attn_research.config_defaults import attention_config, base_config
from attn_research.tasks.seq2seq import Seq2SeqTask
from tests.xla_flags import FAST

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

fast_jit = functools.partial(jax.jit, compiler_options=FAST)


def seq2seq_task(config=None) -> Seq2SeqTask:
    """The seq2seq task of `config` (default: base_config(): no label smoothing, no coverage loss)."""
    return Seq2SeqTask(config if config is not None else base_config())


def tiny_config(
    tmp_path,
    *,
    task: str = "reverse",
    steps: int = 300,
    decoder: str = "bahdanau",
    score: str = "additive",
    batch_size: int = 32,
):
    """A small synthetic-task experiment that trains in seconds on a CPU."""
    config = base_config()
    config.experiment = "test"
    config.name = f"tiny_{task}"
    config.results_dir = os.path.join(str(tmp_path), "results")
    config.data.update(
        dict(
            name="synthetic",
            task=task,
            synthetic_vocab_size=8,
            train_min_len=3,
            train_max_len=6,
            test_min_len=3,
            test_max_len=6,
            num_train=2000,
            num_validation=64,
            num_test=64,
        )
    )
    config.model.update(
        dict(
            embed_dim=16,
            encoder_hidden=32,
            decoder_hidden=32,
            dropout=0.0,
            decoder=decoder,
        )
    )
    config.model.attention = attention_config(score, dim=16)  # replaced whole (it may hold FieldReferences)
    config.train.update(
        dict(
            batch_size=batch_size,
            num_steps=steps,
            learning_rate=1e-2,
            log_every_steps=50,
            eval_every_steps=steps,
            checkpoint_every_steps=steps,
        )
    )
    config.eval.update(dict(batch_size=64, max_decode_len=8, num_heatmaps=2))
    config.wandb.update(dict(mode="offline", dir=str(tmp_path)))
    return config
