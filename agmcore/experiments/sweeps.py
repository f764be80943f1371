"""Sweeps: many cells (one RunConfig each), stored cell by cell so extending a sweep reuses them.

Cells already in the store are read back; the missing ones run in chunks of cells that share
a tensor program (engine.group_key: same data shape and optimizer structure) and a logging
cadence (run_batch's), each chunk batched, stored under each cell's own key and yielded as soon
as it finishes. With `workers`
> 1 the chunks run in that many processes at once (one torch thread each): a classroom chunk
is a few small tensors per step, bound by the Python loop, so processes, not threads, use the
cores. A group larger than its share of the work is cut into chunks of at most
⌈missing / (4·workers)⌉ cells (`chunks`), so one group (a knob swept over one optimizer) uses every
worker; a run gives the same bits in any batch (docs/engine.md), so the cut changes no result.
Given a `cluster` address, the same chunks run as tasks on a Ray cluster, cut for its CPUs
(experiments/cluster.py, imported only then).
"""
from __future__ import annotations

import multiprocessing
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import torch

from agmcore.engine.config import RunConfig, distinct
from agmcore.engine.results import to_document
from agmcore.engine.runner import group_key, run_all
from agmcore.storage.store import ResultStore


def run_sweep(configs: Sequence[RunConfig], store: Optional[ResultStore] = None, device: str = "auto",
              cancel=None, workers: int = 1, cluster: Optional[str] = None) -> Iterator[Tuple[int, Dict, bool]]:
    """Yields (index into configs, result document, computed now?) for every cell, stored ones
    first; with a `cluster` address the missing cells run there (`workers` is then its CPUs), and
    chunks that failed twice raise cluster.CellsFailed after every other cell is yielded."""
    missing: Dict[tuple, List[int]] = {}
    for i, config in enumerate(configs):
        doc = store.usable_run(config.key) if store is not None else None  # damaged: computed again
        if doc is not None:
            yield i, doc, False
        else:
            missing.setdefault(group_key(config) + (config.log_every, config.log_points), []).append(i)  # one batch
    groups = list(missing.values())
    if not groups:
        return
    if cluster is None:
        yield from _stored(_computed(configs, chunks(groups, workers), device, cancel, workers), store)
        return
    from agmcore.experiments.cluster import computed_on_cluster, connected
    with connected(cluster) as on:
        yield from _stored(computed_on_cluster(on, configs, chunks(groups, on.slots(device)), device), store)


def _stored(computed, store: Optional[ResultStore]) -> Iterator[Tuple[int, Dict, bool]]:
    """Each computed chunk's cells, stored (when finished or diverged) before they are yielded."""
    for indices, docs in computed:
        for i, doc in zip(indices, docs):
            if store is not None and doc["status"] in ("finished", "diverged"):
                store.put_run(doc)
            yield i, doc, True


PIECES_PER_WORKER = 4  # chunks per worker: small enough to share the work out evenly


def chunks(groups: List[List[int]], workers: int) -> List[List[int]]:
    """The groups cut into chunks of at most ⌈cells / (PIECES_PER_WORKER·workers)⌉ cells, largest first."""
    if workers <= 1:
        return groups
    size = -(-sum(len(g) for g in groups) // (PIECES_PER_WORKER * workers))
    cut = [g[i:i + size] for g in groups for i in range(0, len(g), size)]
    return sorted(cut, key=len, reverse=True)


def _computed(configs, groups: List[List[int]], device: str, cancel, workers: int):
    """(indices, documents) per chunk as it finishes: in this process, or over `workers` processes
    (not with a cancel event, which only this process can see)."""
    if workers <= 1 or len(groups) <= 1 or cancel is not None:
        for indices in groups:
            yield indices, [to_document(r) for r in run_all([configs[i] for i in indices], device=device, cancel=cancel)]
        return
    pending = {id(indices): indices for indices in groups}
    try:
        pool = ProcessPoolExecutor(max_workers=min(workers, len(groups)),
                                   mp_context=multiprocessing.get_context("spawn"), initializer=_one_thread)
        try:
            futures = {pool.submit(run_chunk, [configs[i].to_dict() for i in indices], device): indices
                       for indices in groups}
            for future in as_completed(futures):
                docs = future.result()
                yield pending.pop(id(futures[future])), docs
        finally:
            pool.shutdown(wait=False)  # the last results are in: no wait for the processes to unload torch
    except BrokenProcessPool as error:  # a worker could not start (e.g. a main module it cannot re-import) or died
        warnings.warn(f"worker processes failed ({error}); running the remaining {len(pending)} chunks here")
        yield from _computed(configs, list(pending.values()), device, cancel, 1)


def _one_thread():
    torch.set_num_threads(1)


def run_chunk(config_dicts: List[Dict], device: str) -> List[Dict]:
    """In a worker process (or a cluster's task): one chunk, to documents."""
    return [to_document(r) for r in run_all([RunConfig.from_dict(d) for d in config_dicts], device=device)]


def collect(configs: Sequence[RunConfig], store: Optional[ResultStore] = None, device: str = "auto",
            on_cell: Optional[Callable[[int, Dict, bool], None]] = None, workers: int = 1,
            cluster: Optional[str] = None) -> List[Dict]:
    """All cells' documents, in the order of `configs` (run_sweep)."""
    docs: List[Optional[Dict]] = [None] * len(configs)
    for i, doc, fresh in run_sweep(configs, store, device, workers=workers, cluster=cluster):
        docs[i] = doc
        if on_cell is not None:
            on_cell(i, doc, fresh)
    return docs


def collect_races(races: Sequence[Sequence[RunConfig]], store: ResultStore, device: str = "auto",
                  on_cell: Optional[Callable[[int, Dict, bool], None]] = None, workers: int = 1,
                  cells: Sequence[RunConfig] = (), cluster: Optional[str] = None) -> int:
    """Compute `cells` and the races' runs, each distinct run once (a knob swept over one optimizer
    of a race leaves the others' runs equal), and store each race as soon as its last run is
    stored, out of the gallery (store.put_race_entry, listed=False); returns how many runs there were."""
    order = distinct([*cells, *(c for race in races for c in race)])
    waiting = [[c.key for c in race] for race in races]
    docs: Dict[str, Dict] = {}
    for i, doc, fresh in run_sweep(order, store, device, workers=workers, cluster=cluster):
        docs[order[i].key] = doc
        for r, keys in enumerate(waiting):
            if keys and all(k in docs for k in keys):
                if all(docs[k]["status"] in ("finished", "diverged") for k in keys):
                    store.put_race_entry(races[r], [docs[k] for k in keys], listed=False)
                waiting[r] = []
        if on_cell is not None:
            on_cell(i, doc, fresh)
    return len(order)
