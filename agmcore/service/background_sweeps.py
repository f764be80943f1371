"""Sweeps the server computes in the background: each one `agmcore sweep` process, the same
chunked sweep over worker processes as `agmcore reproduce` (experiments/sweeps.py), storing every
cell under its own key in the server's store as it finishes.

A sweep is named by the keys of its cells (storage.store.race_key), so asking again for the same
cells while they run attaches to the running sweep. Progress is read from the command's lines
("[k/N] …"); an ended sweep keeps only its counts and its error, never the cells' documents
(they are in the store).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from agmcore.engine.config import RunConfig, distinct
from agmcore.service.worker_process import package_parent
from agmcore.storage.store import race_key

PROGRESS = re.compile(r"^\[(\d+)/(\d+)\] ")


@dataclass
class Sweep:
    key: str
    total: int
    cluster: Optional[str] = None  # the Ray address it runs on; None: this machine's cores
    done: int = 0
    error: Optional[str] = None
    returncode: Optional[int] = None  # None while it runs
    started: float = field(default_factory=time.monotonic)
    ended: Optional[float] = None

    @property
    def active(self) -> bool:
        """Still computing: not ended, and not every cell stored (the command's last progress line
        comes after its last cell is stored, and the process takes a moment more to exit)."""
        return self.returncode is None and self.done < self.total

    @property
    def seconds(self) -> float:
        return (self.ended or time.monotonic()) - self.started


class BackgroundSweeps:
    """The server's background sweeps (one object per server process)."""

    def __init__(self, store_folder: str, workers: Optional[int] = None):
        self.store_folder, self.workers = store_folder, workers or (os.cpu_count() or 1)
        self._lock = threading.Lock()
        self._sweeps: Dict[str, Sweep] = {}
        self._processes: Dict[str, subprocess.Popen] = {}

    def start(self, configs: Sequence[RunConfig] = (), races: Sequence[Sequence[RunConfig]] = (),
              cluster: Optional[str] = None) -> str:
        """Start computing these cells, and these races' runs (each race stored once its runs are:
        experiments.sweeps.collect_races), on this machine's cores or on the Ray cluster at
        `cluster`, or attach to the sweep already computing them; returns its key."""
        runs = distinct([*configs, *(c for race in races for c in race)])
        key = race_key(runs)
        lines = [c.canonical_json() for c in configs] + [json.dumps([c.to_dict() for c in race]) for race in races]
        with self._lock:
            if key in self._sweeps and self._sweeps[key].active:
                return key
            sweep = self._sweeps[key] = Sweep(key, len(runs), cluster)
            where = ["--cluster", cluster] if cluster else ["--workers", str(self.workers)]
            process = subprocess.Popen(
                [sys.executable, "-m", "agmcore", "sweep", "--store", self.store_folder, *where],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, bufsize=1,
                cwd=package_parent(), env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
            self._processes[key] = process
        threading.Thread(target=self._feed_and_follow, args=(sweep, process, lines),
                         daemon=True, name=f"sweep-{key[:8]}").start()
        return key

    def sweep(self, key: Optional[str]) -> Optional[Sweep]:
        """The sweep's counts as they stand now (a copy), or None."""
        with self._lock:
            found = self._sweeps.get(key) if key else None
            return None if found is None else Sweep(**vars(found))

    def cancel(self, key: str) -> None:
        with self._lock:
            process = self._processes.get(key)
        if process is not None and process.poll() is None:
            process.terminate()

    def shutdown(self) -> None:
        with self._lock:
            processes = list(self._processes.values())
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()

    def _feed_and_follow(self, sweep: Sweep, process: subprocess.Popen, cells: List[str]) -> None:
        """Hand the cells to the command, then count its progress lines until it ends."""
        last = ""
        try:
            process.stdin.write("\n".join(cells) + "\n")
            process.stdin.close()
        except (BrokenPipeError, OSError):
            pass  # it ended already: its stderr says why
        for line in process.stderr:
            line = line.rstrip()
            found = PROGRESS.match(line)
            if found:
                with self._lock:
                    sweep.done = int(found.group(1))
            elif line:
                last = line
        returncode = process.wait()
        with self._lock:
            sweep.returncode, sweep.ended = returncode, time.monotonic()
            if returncode != 0:
                sweep.error = last.removeprefix("agmcore: error: ") or f"the sweep process ended with code {returncode}"
            self._processes.pop(sweep.key, None)
