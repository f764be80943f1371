"""The result store: finished runs and races in a diskcache folder, JSON text only.

Values are always `str` (JSON), which diskcache stores as text and never unpickles
(CVE-2025-69872: a pickled value would let whoever writes the folder run code). The folder
lives outside the repository (SHARPNESS_LAB_STORE, default ~/.cache/sharpness-lab/store), is
created with mode 0700, and is bounded by a size limit with least-recently-used eviction.

Keys: "run:<key>" (one run, the CLI schema), "race:<key>" (runs compared together: their keys
and when), "index:<key>" (a small summary of a race for the gallery).
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any, Dict, List, Optional, Sequence

import diskcache

from . import SCHEMA_VERSION
from .config import RunConfig

DEFAULT_FOLDER = os.path.join(os.path.expanduser("~"), ".cache", "sharpness-lab", "store")
DEFAULT_SIZE_LIMIT = 2 * 1024**3  # bytes


def race_key(configs: Sequence[RunConfig]) -> str:
    """Content key of an ordered list of runs compared together."""
    keys = ",".join(c.key for c in configs)
    return hashlib.sha256(f"schema={SCHEMA_VERSION};race;{keys}".encode()).hexdigest()


def is_key(text: Any) -> bool:
    """A well-formed content key: 64 lowercase hex digits."""
    return isinstance(text, str) and len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def summary(configs: Sequence[RunConfig], key: str, created: float) -> Dict[str, Any]:
    """What the gallery lists for a race."""
    first = configs[0]
    size = first.task.dim if first.task.name == "diag-net" else first.task.size
    return {"key": key, "created": created, "task": first.task.name, "size": size,
            "samples": first.task.samples, "steps": max(c.steps for c in configs),
            "optimizers": [c.optimizer.name for c in configs], "seeds": sorted({c.seed for c in configs})}


class ResultStore:
    """Runs and races by content key (see module docstring)."""

    def __init__(self, folder: Optional[str] = None, size_limit: Optional[int] = None):
        self.folder = folder or os.environ.get("SHARPNESS_LAB_STORE", DEFAULT_FOLDER)
        limit = size_limit or int(os.environ.get("SHARPNESS_LAB_STORE_LIMIT", DEFAULT_SIZE_LIMIT))
        os.makedirs(self.folder, mode=0o700, exist_ok=True)
        os.chmod(self.folder, 0o700)
        self.cache = diskcache.Cache(self.folder, size_limit=limit, eviction_policy="least-recently-used")

    def _get(self, key: str) -> Optional[Dict[str, Any]]:
        text = self.cache.get(key)
        return json.loads(text) if isinstance(text, str) else None

    def _put(self, key: str, value: Dict[str, Any]):
        self.cache.set(key, json.dumps(value, allow_nan=False, separators=(",", ":")))

    # runs
    def put_run(self, doc: Dict[str, Any]):
        self._put(f"run:{doc['key']}", doc)

    def get_run(self, key: str) -> Optional[Dict[str, Any]]:
        return self._get(f"run:{key}") if is_key(key) else None

    # races
    def put_race(self, configs: Sequence[RunConfig], docs: Sequence[Dict[str, Any]]):
        """Store each run, then the race that lists them (and its gallery entry)."""
        for doc in docs:
            self.put_run(doc)
        key, created = race_key(configs), time.time()
        self._put(f"race:{key}", {"schema": SCHEMA_VERSION, "key": key, "runs": [c.key for c in configs],
                                  "created": created})
        self._put(f"index:{key}", summary(configs, key, created))
        return key

    def get_race(self, key: str) -> Optional[List[Dict[str, Any]]]:
        """The run documents of a race, or None when unknown, malformed or (partly) evicted.
        A run key is accepted too and gives a race of one."""
        if not is_key(key):
            return None
        race = self._get(f"race:{key}")
        if race is None:
            run = self.get_run(key)
            return [run] if run is not None else None
        docs = [self.get_run(k) for k in race["runs"]]
        return None if any(d is None for d in docs) else docs

    def gallery(self) -> List[Dict[str, Any]]:
        """Summaries of stored races, newest first (entries whose race was evicted are skipped)."""
        out = []
        for k in list(self.cache.iterkeys()):
            if isinstance(k, str) and k.startswith("index:") and f"race:{k[6:]}" in self.cache:
                entry = self._get(k)
                if entry is not None:
                    out.append(entry)
        return sorted(out, key=lambda e: e["created"], reverse=True)

    def close(self):
        self.cache.close()
