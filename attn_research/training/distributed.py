"""Several processes as one job (one per host, or several on one machine): jax.distributed.

A cluster launcher (SLURM's srun, a Cloud TPU VM, Kubernetes) starts the same command once per host. Each
process joins the others through a coordinator (process 0's address), feeds its own devices, and one global
mesh spans them all (training/mesh.py). Only process 0 writes what a run records (is_primary): metrics.jsonl,
the W&B run, config.json, plots, results JSON; every process takes part in the Orbax checkpoints (each saves
its shards, Orbax's multi-process mode).
"""

from __future__ import annotations

import dataclasses

import jax
from absl import logging


class ClusterError(ValueError):
    """Flags that do not describe a multi-process job (one line, naming the flag)."""


@dataclasses.dataclass(frozen=True)
class Cluster:
    """How this process joins a multi-process job.

    coordinator_address: "host:port" of process 0 ("" for none). num_processes, process_id: this job's size
    and this process's rank (0-based). auto: let jax detect the cluster (SLURM, Cloud TPU, MPI, Kubernetes)
    from its environment. cpu_collectives: the CPU all-reduce implementation ("gloo"; "" for jax's default),
    needed when the processes run on CPUs.
    """

    coordinator_address: str = ""
    num_processes: int = 0
    process_id: int = -1
    auto: bool = False
    cpu_collectives: str = "gloo"

    @property
    def requested(self) -> bool:
        """Whether this process is one of several (an explicit coordinator or auto-detection)."""
        return self.auto or bool(self.coordinator_address)


def check_cluster(cluster: Cluster) -> None:
    """Raises ClusterError (one line, naming the flag) for an incomplete or inconsistent explicit cluster."""
    if not cluster.coordinator_address:
        if cluster.num_processes or cluster.process_id >= 0:
            raise ClusterError("--num_processes and --process_id need --coordinator_address=<host>:<port>")
        return
    if cluster.auto:
        raise ClusterError("--distributed (auto-detection) and --coordinator_address exclude each other")
    host, _, port = cluster.coordinator_address.rpartition(":")
    if not host or not port.isdigit():
        raise ClusterError(f"--coordinator_address must be <host>:<port>, got {cluster.coordinator_address!r}")
    if cluster.num_processes < 1:
        raise ClusterError(f"--num_processes must be >= 1 with --coordinator_address, got {cluster.num_processes}")
    if not 0 <= cluster.process_id < cluster.num_processes:
        raise ClusterError(
            f"--process_id must be in [0, {cluster.num_processes}) for --num_processes={cluster.num_processes}, "
            f"got {cluster.process_id}"
        )


def initialize(cluster: Cluster) -> None:
    """Joins the job described by `cluster` (jax.distributed.initialize); nothing for a single process.
    Must run before anything touches a JAX device. Raises ClusterError from check_cluster."""
    check_cluster(cluster)
    if not cluster.requested:
        return
    if cluster.cpu_collectives:
        jax.config.update("jax_cpu_collectives_implementation", cluster.cpu_collectives)
    if cluster.auto:
        jax.distributed.initialize()
    else:
        jax.distributed.initialize(cluster.coordinator_address, cluster.num_processes, cluster.process_id)
    logging.info(
        "process %d of %d: %d local devices, %d in all",
        jax.process_index(),
        jax.process_count(),
        jax.local_device_count(),
        jax.device_count(),
    )


def is_primary() -> bool:
    """Whether this process writes the run's records (process 0; the only process of a single-process run)."""
    return jax.process_index() == 0
