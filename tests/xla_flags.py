"""The XLA settings for tiny test programs, in one place: as per-program compiler options (tests.helpers.fast_jit)
and as XLA_FLAGS for the whole test session (tests/conftest.py). At these sizes optimization costs more
compile time than it saves run time."""

FAST = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}
FAST_XLA_FLAGS = " ".join(f"--{key}={str(value).lower()}" for key, value in FAST.items())
