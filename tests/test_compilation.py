"""CompilationLog: one compilation per new jitted shape, none for a cached one, nothing outside its block."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from attn_research.compilation import CompilationLog


def _fresh_function():
    """A jitted function no test has compiled yet (jit caches by function identity)."""

    @jax.jit
    def scaled_softmax(x):
        return jax.nn.softmax(2.0 * x)

    return scaled_softmax


def test_counts_one_compilation_per_new_shape_and_none_for_a_compiled_one():
    f = _fresh_function()
    with CompilationLog() as log:
        jax.block_until_ready(f(np.zeros(3, np.float32)))
        assert log.count == 1
        jax.block_until_ready(f(np.ones(3, np.float32)))  # same shape and dtype: compiled already
        assert log.count == 1
        jax.block_until_ready(f(np.zeros((2, 5), np.float32)))
        jax.block_until_ready(f(np.zeros(3, np.int32)))
    assert log.count == 3
    assert [c.function for c in log.compilations] == ["jit(scaled_softmax)"] * 3
    assert all(c.seconds > 0 for c in log.compilations) and log.seconds == sum(c.seconds for c in log.compilations)
    assert log.trace_seconds > 0 and log.lower_seconds > 0
    assert log.by_function() == {"jit(scaled_softmax)": {"count": 3, "seconds": log.seconds}}
    assert log.cache_hits == 0  # new programs (tests/conftest.py: the persistent cache is new each session)


def test_records_nothing_outside_its_block_and_nests():
    f, g = _fresh_function(), _fresh_function()
    jax.block_until_ready(f(np.zeros(4, np.float32)))  # before the block
    with CompilationLog() as outer:
        jax.block_until_ready(f(np.zeros(4, np.float32)))
        with CompilationLog() as inner:
            jax.block_until_ready(g(np.zeros(4, np.float32)))
        jax.block_until_ready(g(np.zeros(6, np.float32)))
    jax.block_until_ready(f(np.zeros(7, np.float32)))  # after the block
    assert inner.count == 1 and outer.count == 2


def test_a_log_records_one_block():
    log = CompilationLog()
    with log:
        pass
    with pytest.raises(RuntimeError, match="one block"):
        with log:
            pass
