"""Sweeps on a Ray cluster: the chunks of cells that experiments.sweeps runs in local processes,
run as Ray tasks instead (docs/cluster.md).

Each chunk is one task with one CPU (and one GPU where the cells run on CUDA); it runs in a Ray
worker with one torch thread, as a local pool's worker does, so a chunk's documents are the same
bits as the pool's on the same machine. Documents come back to the driver, which stores them
under their keys as each task finishes, so an interrupted sweep resumes from the store. A task
whose worker or node dies is run again (RETRIES); a chunk that still fails is reported with its
cells' keys once the other chunks are in (CellsFailed), never dropped. Ray is imported here only,
and only when a sweep is given a cluster address.
"""
from __future__ import annotations

import os
import socket
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Sequence, Tuple

from agmcore.engine.config import RunConfig
from agmcore.engine.device import cpu_cores

RETRIES = 1  # a task whose worker or node died runs once more: a chunk fails when it failed twice
LOCAL = "local"  # the address that starts a Ray cluster on this machine for the sweep (127.0.0.1 only)
# with this off, Ray binds a cluster it starts to 127.0.0.1 and keeps a driver on loopback (it
# otherwise binds every interface, and reads 127.0.0.1 in an address as this machine's outward IP);
# read by Ray when it is imported
LOOPBACK_ONLY = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}


class ClusterError(RuntimeError):
    """The cluster cannot be used (Ray not installed, no cluster at the address); the message says why."""


class CellsFailed(RuntimeError):
    """Chunks whose tasks failed twice: `keys` are their cells' keys, `reasons` one line each."""

    def __init__(self, keys: List[str], reasons: List[str]):
        self.keys, self.reasons = keys, reasons
        super().__init__(f"{len(keys)} cells failed on the cluster (twice each): " + "; ".join(reasons))


@dataclass(frozen=True)
class Cluster:
    """A connected cluster: the Ray module, and how many tasks it runs at once."""
    ray: object
    cpus: int
    gpus: int

    def slots(self, device: str) -> int:
        """How many chunks run at once: one a GPU for CUDA cells, else one a CPU."""
        return max(1, self.gpus if on_gpu(self, device) else self.cpus)


def on_gpu(cluster: Cluster, device: str) -> bool:
    """Whether the cells run on CUDA: asked for, or "auto" on a cluster with GPUs."""
    return device == "cuda" or (device == "auto" and cluster.gpus > 0)


def _import_ray():
    try:
        import ray
    except ImportError:
        raise ClusterError("a cluster needs Ray: pip install 'sharpness-lab[cluster]' (or pip install ray)") from None
    return ray


ANSWER_SECONDS = 5.0  # how long a cluster's head gets to accept a connection before the sweep gives up


def check_reachable(address: str) -> None:
    """Raise ClusterError unless something accepts a TCP connection at "host:port" (Ray itself
    retries an unreachable head for minutes); "auto" and LOCAL are left to Ray."""
    if address in ("auto", LOCAL):
        return
    host, _, port = address.split("://")[-1].rpartition(":")  # ray://head:10001 is Ray Client's form
    if not host or not port.isdigit():
        raise ClusterError(f"a cluster address is host:port, 'auto' or 'local' (got {address!r})")
    try:
        socket.create_connection((host, int(port)), timeout=ANSWER_SECONDS).close()
    except OSError as error:
        raise ClusterError(f"no Ray cluster answers at {address} ({error.strerror or error}); start one with "
                           "`ray start --head`, or use --cluster local") from None


@contextmanager
def connected(address: str) -> Iterator[Cluster]:
    """Connect this process to the Ray cluster at `address` ("host:port", "auto", or LOCAL to
    start one here, listening on 127.0.0.1 only, with one CPU a core and no dashboard) for the
    duration; a process already connected keeps its connection."""
    if address == LOCAL or address.split(":")[0] in ("127.0.0.1", "localhost"):
        os.environ.update(LOOPBACK_ONLY)
    ray = _import_ray()
    started = not ray.is_initialized()
    if started:
        check_reachable(address)
        try:
            if address == LOCAL:
                ray.init(num_cpus=cpu_cores(), include_dashboard=False, _node_ip_address="127.0.0.1",
                         log_to_driver=False, configure_logging=False)
            else:
                ray.init(address=address, log_to_driver=False, configure_logging=False)
        except (ConnectionError, ValueError, RuntimeError) as error:
            raise ClusterError(f"no Ray cluster could be used at {address!r}: {error}") from None
    try:
        resources = ray.cluster_resources()
        yield Cluster(ray, int(resources.get("CPU", 0)), int(resources.get("GPU", 0)))
    finally:
        if started:
            ray.shutdown()


def run_chunk_on_node(config_dicts: List[Dict], device: str) -> List[Dict]:
    """In a Ray worker: one chunk, to documents, with one torch thread (as a pool worker)."""
    import torch

    from agmcore.experiments.sweeps import run_chunk
    torch.set_num_threads(1)
    return run_chunk(config_dicts, device)


def computed_on_cluster(cluster: Cluster, configs: Sequence[RunConfig], groups: List[List[int]], device: str,
                        run_chunk: Callable[[List[Dict], str], List[Dict]] = run_chunk_on_node
                        ) -> Iterator[Tuple[List[int], List[Dict]]]:
    """(indices, documents) per chunk as its task finishes; raises CellsFailed at the end for the
    chunks that failed twice (every other chunk has been yielded by then)."""
    ray = cluster.ray
    gpu = on_gpu(cluster, device)
    if gpu and cluster.gpus == 0:
        raise ClusterError("the cells were asked to run on CUDA, and the cluster has no GPU (its tasks would wait "
                           "for one forever): leave --device at auto or cpu")
    task = ray.remote(num_cpus=1, num_gpus=1 if gpu else 0, max_retries=RETRIES, retry_exceptions=False)(run_chunk)
    pending = {task.remote([configs[i].to_dict() for i in indices], "cuda" if gpu else "cpu"): indices
               for indices in groups}
    failed_keys: List[str] = []
    reasons: List[str] = []
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            indices = pending.pop(ref)
            try:
                docs = ray.get(ref)
            except ray.exceptions.RayError as error:
                keys = [configs[i].key for i in indices]
                failed_keys += keys
                reasons.append(f"{', '.join(k[:12] for k in keys)}: {type(error).__name__}: "
                               f"{str(error).strip().splitlines()[0] if str(error).strip() else ''}")
                continue
            yield indices, docs
    if failed_keys:
        raise CellsFailed(failed_keys, reasons)
