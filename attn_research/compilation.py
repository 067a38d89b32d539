"""Counting XLA compilations: how many programs a block of code compiles, which, and in how many seconds.

    with CompilationLog() as log:
        state, metrics = train_step(state, batch)
    log.count, log.seconds, log.by_function()

JAX (0.10) reports each stage of a jit cache miss through `jax.monitoring` as a duration event, with the
function's name as `fun_name`: tracing to a jaxpr (TRACE_EVENT), lowering to an MLIR module (LOWER_EVENT)
and the backend compilation (COMPILE_EVENT, jax._src.dispatch.BACKEND_COMPILE_EVENT), which also spans a
persistent-cache look-up. A program the persistent cache held is counted as a compilation too, and in
`cache_hits`. Eager operations outside jit compile small programs of their own, and are counted.
"""

from __future__ import annotations

import dataclasses
import threading

import jax

TRACE_EVENT = "/jax/core/compile/jaxpr_trace_duration"
LOWER_EVENT = "/jax/core/compile/jaxpr_to_mlir_module_duration"
COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"
CACHE_HIT_EVENT = "/jax/compilation_cache/cache_hits"


@dataclasses.dataclass(frozen=True)
class Compilation:
    """One backend compilation: the program's name as JAX reports it ("jit(train_step)") and its compile time
    in seconds (wall clock)."""

    function: str
    seconds: float


class CompilationLog:
    """A context manager that records the compilations, tracing and lowering in its block (any thread).

    compilations: list[Compilation], in order. trace_seconds / lower_seconds: total seconds spent tracing
    jaxprs and lowering them to MLIR. cache_hits: compilations the persistent cache answered. Listeners are
    registered on entry and removed on exit; logs may nest (each sees every event in its own block).
    Raises RuntimeError when entered twice.
    """

    def __init__(self) -> None:
        self.compilations: list[Compilation] = []
        self.trace_seconds = 0.0
        self.lower_seconds = 0.0
        self.cache_hits = 0
        self._lock = threading.Lock()
        self._entered = False

    def _on_duration(self, event: str, seconds: float, **kwargs) -> None:
        with self._lock:
            if event == COMPILE_EVENT:
                self.compilations.append(Compilation(str(kwargs.get("fun_name", "?")), float(seconds)))
            elif event == TRACE_EVENT:
                self.trace_seconds += seconds
            elif event == LOWER_EVENT:
                self.lower_seconds += seconds

    def _on_event(self, event: str, **kwargs) -> None:
        if event == CACHE_HIT_EVENT:
            with self._lock:
                self.cache_hits += 1

    def __enter__(self) -> CompilationLog:
        if self._entered:
            raise RuntimeError("a CompilationLog records one block; make a new one")
        self._entered = True
        jax.monitoring.register_event_duration_secs_listener(self._on_duration)
        jax.monitoring.register_event_listener(self._on_event)
        return self

    def __exit__(self, *exc_info) -> None:
        jax.monitoring.unregister_event_duration_listener(self._on_duration)
        jax.monitoring.unregister_event_listener(self._on_event)

    @property
    def count(self) -> int:
        """The number of backend compilations in the block (persistent-cache hits included)."""
        return len(self.compilations)

    @property
    def seconds(self) -> float:
        """Total backend compile seconds in the block."""
        return sum(c.seconds for c in self.compilations)

    def by_function(self) -> dict[str, dict[str, float]]:
        """{function name: {"count", "seconds"}} over the block's compilations, in order of first compilation."""
        table: dict[str, dict[str, float]] = {}
        for c in self.compilations:
            entry = table.setdefault(c.function, {"count": 0, "seconds": 0.0})
            entry["count"] += 1
            entry["seconds"] += c.seconds
        return table
