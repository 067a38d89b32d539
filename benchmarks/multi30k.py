"""The Multi30k model the benchmarks time: config, data, model and train state, as the training loop builds them.

The data is read through the package's TFDS builder (`attn_research.data.load_dataset`): set
ATTN_RESEARCH_DATA_DIR to a folder holding multi30k/ (the Makefile does when ../shared/data exists), or
the builder downloads the files.
"""

from __future__ import annotations

import collections
import importlib.util
import os

import ml_collections
import numpy as np

from attn_research import provenance
from attn_research.data import TranslationData, load_dataset, make_batches
from attn_research.models import build_model
from attn_research.tasks.seq2seq import Seq2SeqTask, step_arrays
from attn_research.training.optimizer import make_optimizer
from attn_research.training.state import TrainState, create_train_state

CONFIG_FILE = os.path.join(provenance.REPO_ROOT, "configs", "multi30k.py")


def get_config(arg: str = "model=luong_general") -> ml_collections.ConfigDict:
    """configs/multi30k.py:<arg>, e.g. "model=luong_general,precision=bfloat16" (raises its one-line ValueError,
    listing the valid names or values, for an unknown one)."""
    spec = importlib.util.spec_from_file_location("multi30k_config", CONFIG_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config(arg)


def benchmark_config(quick: bool = False) -> ml_collections.ConfigDict:
    """luong_general (the model OpenNMT-py can express identically) with teacher forcing 1, as the peer trains.

    quick: a tiny model (embeddings 32, encoder 2 x 32, decoder 64) and batches of 16 sentences, for smoke runs.
    """
    config = get_config("model=luong_general")
    config.model.teacher_forcing_ratio = 1.0
    if quick:
        config.model.update(dict(embed_dim=32, encoder_hidden=32, decoder_hidden=64))
        config.model.attention.dim = 64
        config.train.batch_size = config.eval.batch_size = 16
    return config


def load(config: ml_collections.ConfigDict) -> TranslationData:
    """The Multi30k splits and vocabularies of config.data."""
    return load_dataset(config.data)


def train_batches(config: ml_collections.ConfigDict, data: TranslationData, count: int) -> list[dict]:
    """The first `count` training batches of epoch 0, in the order the training loop takes them.

    Raises ValueError if the epoch has fewer than `count` batches.
    """
    batches = make_batches(data.splits["train"], config.train.batch_size, seed=config.seed, epoch=0, shuffle=True)
    if count > len(batches):
        raise ValueError(f"asked for {count} batches; an epoch has {len(batches)}")
    return batches[:count]


def batch_shape(batch: dict) -> tuple[int, int]:
    """(src_len, tgt_len) of a padded batch: the shape a jitted step compiles for."""
    return batch["source"].shape[1], batch["target_input"].shape[1]


def most_common_shape(batches: list[dict]) -> tuple[int, int]:
    """The (src_len, tgt_len) that most batches have (the first one seen on a tie)."""
    return collections.Counter(batch_shape(b) for b in batches).most_common(1)[0][0]


def target_tokens(batch: dict) -> int:
    """Real target tokens of a batch (each target plus its eos): what tokens/s counts."""
    return int(np.sum(batch["target_mask"]))


def model_and_state(
    config: ml_collections.ConfigDict, source_vocab_size: int, target_vocab_size: int, example_batch: dict
):
    """(model, TrainState) built as attn_research.training.loop builds them (optimizer from config.train).

    Raises ValueError for a learning-rate schedule other than 'constant' (the benchmarks time no schedule).
    """
    if config.train.schedule != "constant":
        raise ValueError(f"the benchmarks run a constant learning rate, not {config.train.schedule!r}")
    model = build_model(config.model, source_vocab_size, target_vocab_size)
    state: TrainState = create_train_state(
        Seq2SeqTask(config), model, make_optimizer(config.train, steps_per_epoch=1), example_batch, config.seed
    )
    return model, state


def typical_batch(quick: bool = False):
    """(config, data, (src_len, tgt_len), model inputs of one batch): the benchmark config and a batch of the most
    common padded shape among the first (up to) 100 of epoch 0."""
    config = benchmark_config(quick)
    data = load(config)
    batches = train_batches(config, data, min(100, len(data.splits["train"]) // config.train.batch_size))
    shape = most_common_shape(batches)
    return config, data, shape, step_arrays(next(b for b in batches if batch_shape(b) == shape))


def typical_step(quick: bool = False):
    """(config, (src_len, tgt_len), model inputs of one batch, TrainState) for timing one training step: the
    benchmark model on typical_batch's batch."""
    config, data, shape, batch = typical_batch(quick)
    _, state = model_and_state(config, data.source_vocab.size, data.target_vocab.size, batch)
    return config, shape, batch, state
