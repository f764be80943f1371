"""Sweeps: many cells (one RunConfig each), stored cell by cell so extending a sweep reuses them.

Cells already in the store are read back; the missing ones run in chunks of cells that share
a tensor program (engine.group_key: same data shape and optimizer structure), each chunk
batched, stored under each cell's own key and yielded as soon as it finishes.
"""
from __future__ import annotations

from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from .config import RunConfig
from .engine import group_key, run_all
from .results import to_document
from .store import ResultStore


def run_sweep(configs: Sequence[RunConfig], store: Optional[ResultStore] = None, device: str = "auto",
              cancel=None) -> Iterator[Tuple[int, Dict, bool]]:
    """Yields (index into configs, result document, computed now?) for every cell, stored ones first."""
    missing: Dict[tuple, List[int]] = {}
    for i, config in enumerate(configs):
        doc = store.get_run(config.key) if store is not None else None
        if doc is not None:
            yield i, doc, False
        else:
            missing.setdefault(group_key(config), []).append(i)
    for indices in missing.values():
        records = run_all([configs[i] for i in indices], device=device, cancel=cancel)
        for i, record in zip(indices, records):
            doc = to_document(record)
            if store is not None and record.status in ("finished", "diverged"):
                store.put_run(doc)
            yield i, doc, True


def collect(configs: Sequence[RunConfig], store: Optional[ResultStore] = None, device: str = "auto",
            on_cell: Optional[Callable[[int, Dict, bool], None]] = None) -> List[Dict]:
    """All cells' documents, in the order of `configs`."""
    docs: List[Optional[Dict]] = [None] * len(configs)
    for i, doc, fresh in run_sweep(configs, store, device):
        docs[i] = doc
        if on_cell is not None:
            on_cell(i, doc, fresh)
    return docs
