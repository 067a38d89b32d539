"""One persistent XLA compilation cache for a test session, shared by its xdist workers.

Many tests train the same tiny models, so they compile the same XLA programs again and again (a tiny
train-evaluate cycle is mostly compilation on a CPU). JAX's persistent cache answers a repeated program from
disk. The cache is new for each session (a temporary folder, removed at the end), so a test never reads a
program compiled by another version of the code, and no test sees a hit for a program the session has not
compiled before. Subprocesses started by tests inherit it through the environment (JAX reads
JAX_COMPILATION_CACHE_DIR).

The test programs are tiny and run a few steps, so XLA's backend optimization costs more than it saves:
XLA_FLAGS gets tests/xla_flags.py's FAST_XLA_FLAGS (measured: a 20-step train-and-resume test 31.6 s -> 25.8 s), as
tests.helpers.fast_jit does per program. A test's subprocess that sets its own XLA_FLAGS appends to them.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from tests.xla_flags import FAST_XLA_FLAGS

CACHE_ENV = "JAX_COMPILATION_CACHE_DIR"
OWNER_ENV = "ATTN_RESEARCH_TEST_CACHE_OWNER"


def pytest_configure(config):
    if CACHE_ENV not in os.environ:  # the controller (or a run without xdist): make the session's cache
        os.environ[CACHE_ENV] = tempfile.mkdtemp(prefix="attn_research_jax_cache_")
        os.environ[OWNER_ENV] = str(os.getpid())
    if FAST_XLA_FLAGS not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {FAST_XLA_FLAGS}".strip()
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.2")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")


def pytest_unconfigure(config):
    if os.environ.get(OWNER_ENV) == str(os.getpid()):
        shutil.rmtree(os.environ.pop(CACHE_ENV), ignore_errors=True)
