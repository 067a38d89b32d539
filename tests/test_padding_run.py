"""A bucket-padded run (train.padding = "buckets") compiles its training step only in the first epoch."""

from __future__ import annotations

import pytest

from attn_research.compilation import CompilationLog
from attn_research.training.loop import train_and_evaluate
from tests.helpers import tiny_config


@pytest.mark.slow  # one compilation per bucket shape: 39 s on 2 cores (benchmarks/compilations.py measures the same)
def test_bucket_padding_compiles_the_train_step_only_in_the_first_epoch(tmp_path):
    config = tiny_config(tmp_path, steps=2 * 20)  # 640 examples / 32 = 20 batches an epoch: two epochs
    config.data.num_train = 640
    config.data.train_max_len = 12  # lengths 3-12: several buckets per axis
    config.train.padding = "buckets"
    config.train.buckets = 3
    compiled_by_step = {}
    with CompilationLog() as log:

        def count(step: int) -> None:
            compiled_by_step[step] = sum(1 for c in log.compilations if "train_step" in c.function)

        results = train_and_evaluate(config, str(tmp_path / "work"), step_callback=count)
    first_epoch = compiled_by_step[20]
    assert first_epoch >= 2  # several shapes, all met in epoch 0
    assert compiled_by_step[2 * 20] == first_epoch  # none after it
    assert set(results["metrics"]) == {"validation", "test"}
