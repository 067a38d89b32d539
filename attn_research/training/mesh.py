"""Data parallelism over a device mesh: batch sharded on axis 'data', parameters replicated.

The same code runs on one CPU, several GPUs, a TPU slice or several processes (one per host, joined by
training/distributed.py): the mesh spans every device of every process (jax.devices()), each process puts
only its own rows of a global batch on its own devices, and results come back to every process with
to_host (DESIGN.md, "Decisions already taken").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

DATA_AXIS = "data"


def make_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D mesh named 'data' over `devices` (default: every device of every process, jax.devices()), with
    automatic sharding."""
    devices = list(devices) if devices is not None else jax.devices()
    return jax.make_mesh((len(devices),), (DATA_AXIS,), axis_types=(jax.sharding.AxisType.Auto,), devices=devices)


def replicate(tree: Any, mesh: Mesh) -> Any:
    """Places every array of `tree` on every device of the mesh (every process passes the same values; with
    several processes, through the host: devices of different processes exchange no arrays directly)."""
    if jax.process_count() > 1:
        tree = to_host(tree)
    return jax.device_put(tree, NamedSharding(mesh, PartitionSpec()))


def process_rows(sharding: NamedSharding, shape: tuple[int, ...], axis: int) -> slice:
    """The rows [start, stop) along `axis` of a global array of `shape` that this process's devices hold under
    `sharding` (one contiguous block per process: the mesh orders devices by process). Raises ValueError
    when they are not contiguous (a mesh that interleaves the processes' devices)."""
    indices = sharding.addressable_devices_indices_map(shape).values()
    bounds = {
        (index[axis].start or 0, shape[axis] if index[axis].stop is None else index[axis].stop) for index in indices
    }
    blocks = sorted(bounds)
    start, stop = blocks[0][0], blocks[0][1]
    for lo, hi in blocks[1:]:
        if lo > stop:
            raise ValueError(f"this process's rows of axis {axis} are not contiguous under the mesh: {blocks}")
        stop = max(stop, hi)
    return slice(start, stop)


def _put_rows(array: np.ndarray, sharding: NamedSharding, axis: int) -> jax.Array:
    """The global array whose rows along `axis` are `array`'s, built from this process's block only."""
    if jax.process_count() == 1:
        return jax.device_put(array, sharding)
    rows = [slice(None)] * array.ndim
    rows[axis] = process_rows(sharding, array.shape, axis)
    return jax.make_array_from_process_local_data(sharding, np.asarray(array)[tuple(rows)], array.shape)


def shard_rows(batch: dict[str, Any], mesh: Mesh, axis: int = 0) -> dict[str, jax.Array]:
    """Splits every array of `batch` along `axis` (its rows) over the 'data' axis. Every process passes the
    same global batch (the order is a function of seed, epoch and step) and puts only its own rows on its
    devices (jax.make_array_from_process_local_data). Raises ValueError if the rows are not divisible by the
    number of devices."""
    size = mesh.shape[DATA_AXIS]
    spec = PartitionSpec(*([None] * axis), DATA_AXIS)
    out = {}
    for name, array in batch.items():
        if array.shape[axis] % size:
            raise ValueError(f"batch array {name!r} has {array.shape[axis]} rows, not divisible by {size} devices")
        out[name] = _put_rows(np.asarray(array), NamedSharding(mesh, spec), axis)
    return out


def shard_batch(batch: dict[str, Any], mesh: Mesh) -> dict[str, jax.Array]:
    """Splits every [batch, ...] array along its first axis over the 'data' axis (shard_rows on axis 0).

    Raises ValueError if the batch size is not divisible by the number of devices.
    """
    return shard_rows(batch, mesh, axis=0)


def to_host(tree: Any) -> Any:
    """The whole value of every array of `tree` as NumPy, in every process: jax.device_get for arrays this
    process holds entirely (one process, or replicated), an all-gather across processes for arrays sharded
    over several (evaluation outputs, decoded tokens)."""
    leaves = jax.tree.leaves(tree)
    if all(getattr(leaf, "is_fully_addressable", True) or leaf.is_fully_replicated for leaf in leaves):
        return jax.device_get(tree)
    return multihost_utils.process_allgather(tree, tiled=True)
