"""Data parallelism over a device mesh: batch sharded on axis 'data', parameters replicated.

The same code runs on one CPU, several GPUs or a TPU slice (DESIGN.md, "Decisions already taken").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

DATA_AXIS = "data"


def make_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D mesh named 'data' over `devices` (default: all local devices), with automatic sharding."""
    devices = list(devices) if devices is not None else jax.local_devices()
    return jax.make_mesh((len(devices),), (DATA_AXIS,), axis_types=(jax.sharding.AxisType.Auto,), devices=devices)


def replicate(tree: Any, mesh: Mesh) -> Any:
    """Places every array of `tree` on every device of the mesh."""
    return jax.device_put(tree, NamedSharding(mesh, PartitionSpec()))


def shard_batch(batch: dict[str, Any], mesh: Mesh) -> dict[str, jax.Array]:
    """Splits every [batch, ...] array along its first axis over the 'data' axis.

    Raises ValueError if the batch size is not divisible by the number of devices.
    """
    size = mesh.shape[DATA_AXIS]
    for name, array in batch.items():
        if array.shape[0] % size:
            raise ValueError(f"batch array {name!r} has {array.shape[0]} rows, not divisible by {size} devices")
    return jax.device_put(dict(batch), NamedSharding(mesh, PartitionSpec(DATA_AXIS)))
