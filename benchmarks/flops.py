"""FLOP counting for MFU: matmul FLOPs read off a function's jaxpr, and the machine's measured matmul peak.

XLA's own count (`jax.jit(f).lower(...).compile().cost_analysis()["flops"]`) costs a while loop's body once,
whatever its trip count, so it undercounts every recurrent model (the encoder RNNs and the decoder run under
scan). `matmul_flops` walks the jaxpr instead and multiplies a scan's body by its length.
"""

from __future__ import annotations

import math
import statistics
import time

import jax
import jax.numpy as jnp
from jax.extend import core as jax_core


def _dot_general_flops(eqn) -> int:
    """2 * batch * M * N * K of one dot_general: twice the product of the lhs shape and the rhs free dims."""
    lhs, rhs = (v.aval.shape for v in eqn.invars)
    (_, rhs_contract), (_, rhs_batch) = eqn.params["dimension_numbers"]
    rhs_free = [d for i, d in enumerate(rhs) if i not in rhs_contract and i not in rhs_batch]
    return 2 * math.prod(lhs) * math.prod(rhs_free)


def jaxpr_matmul_flops(jaxpr) -> int:
    """Matmul FLOPs of a (closed) jaxpr: dot_generals, with scan bodies counted `length` times.

    Other sub-programs (jit calls, custom derivatives, remat) count once; a cond counts its costliest branch.
    Raises ValueError for a while loop, whose trip count is not known before it runs.
    """
    jaxpr = getattr(jaxpr, "jaxpr", jaxpr)
    total = 0
    for eqn in jaxpr.eqns:
        name = eqn.primitive.name
        if name == "dot_general":
            total += _dot_general_flops(eqn)
        elif name == "scan":
            total += eqn.params["length"] * jaxpr_matmul_flops(eqn.params["jaxpr"])
        elif name == "while":
            raise ValueError("a while loop's trip count is unknown before it runs: its FLOPs cannot be counted")
        elif name == "cond":
            total += max(jaxpr_matmul_flops(branch) for branch in eqn.params["branches"])
        else:
            total += sum(jaxpr_matmul_flops(sub) for sub in jax_core.jaxprs_in_params(eqn.params))
    return total


def matmul_flops(fn, *args, **kwargs) -> int:
    """Matmul FLOPs of one call fn(*args, **kwargs) (traced, not run); see jaxpr_matmul_flops."""
    return jaxpr_matmul_flops(jax.make_jaxpr(fn)(*args, **kwargs))


def xla_flops(fn, *args) -> float | None:
    """XLA's cost-analysis FLOPs of jax.jit(fn)(*args) (while-loop bodies counted once), or None if absent."""
    analysis = jax.jit(fn).lower(*args).compile().cost_analysis()
    if isinstance(analysis, (list, tuple)):  # older jax returns one dict per device
        analysis = analysis[0] if analysis else None
    return None if not analysis or "flops" not in analysis else float(analysis["flops"])


def matmul_peak(size: int, *, repeats: int = 10, dtype=jnp.float32) -> dict[str, float]:
    """The machine's measured matmul throughput: a [size, size] @ [size, size] product, 2 size^3 FLOPs.

    Returns {"flops_per_s": from the median time, "best_flops_per_s": from the fastest, "median_ms",
    "size"}. Raises ValueError if size < 1 or repeats < 1.
    """
    if size < 1 or repeats < 1:
        raise ValueError(f"size and repeats must be >= 1, got {size} and {repeats}")
    keys = jax.random.split(jax.random.key(0))
    a = jax.random.normal(keys[0], (size, size), dtype)
    b = jax.random.normal(keys[1], (size, size), dtype)
    product = jax.jit(jnp.dot)
    jax.block_until_ready(product(a, b))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(product(a, b))
        samples.append(time.perf_counter() - start)
    median = statistics.median(samples)
    flops = 2.0 * size**3
    return {
        "flops_per_s": flops / median,
        "best_flops_per_s": flops / min(samples),
        "median_ms": median * 1e3,
        "size": size,
    }
