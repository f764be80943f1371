"""Runs that outlive the browser tab: a queue of races, computed by worker processes.

One `JobManager` per server process. `submit(configs)` returns the race's content key; an
identical race that is stored opens from the store, one that is queued or running is
attached to (a second browser sees the same stream), anything else is queued. At most
`workers` races compute at once, each in its own persistent worker process (spawned once, one
torch thread each, so the server stays responsive on 2 cores). Workers stream snapshots; the
manager keeps each job's merged state for pages to poll, and stores finished races.
"""
from __future__ import annotations

import copy
import json
import queue
import subprocess
import threading
import time
from typing import Any, Dict, List, Optional, Sequence

from agmcore import settings
from agmcore.engine.config import ConfigError, RunConfig, check_memory
from agmcore.engine.device import resolve_device
from agmcore.engine.memory import available_bytes
from agmcore.service.audience import Audience
from agmcore.service.job import (CANCELLED, FAILED, FINISHED, INTERRUPTED, QUEUED, RUNNING, Job, fresh_runs,
                                 progress_of, state_of)
from agmcore.service.worker_process import WorkerProcess
from agmcore.storage.store import ResultStore, race_key

PENDING_EVERY = 5.0  # seconds between records of a running race's step in the store
RESTARTS = 1  # a race whose worker dies starts again once on a fresh worker, then fails
ENDED_KEPT = 16  # ended jobs kept in memory, newest first; older ones are forgotten (the store holds the finished)


class Refused(ConfigError):
    """A race the server will not take now (queue full, too many from one browser, too large);
    the message says why and what to do."""


class JobManager:
    def __init__(self, store: ResultStore, workers: Optional[int] = None, device: str = "auto", threads: int = 1,
                 warm: bool = True):
        """warm=True starts the workers now, so the first Run does not wait for torch to import."""
        self.store = store
        self.workers = workers or settings.workers()
        self.queue_limit, self.per_browser = settings.queue_limit(), settings.per_browser_limit()
        self.device, self.threads = device, threads
        self._lock = threading.RLock()
        self._jobs: Dict[str, Job] = {}
        self._queue: List[str] = []
        self._recorded: Dict[str, float] = {}  # race -> when its step was last recorded in the store
        self._copies: Dict[str, tuple] = {}  # race -> (state, progress, made at, the copy job() hands out)
        self._audience = Audience()
        self.pending_every = PENDING_EVERY
        self._ended: List[str] = []  # keys of ended jobs still in memory, oldest first (at most ENDED_KEPT)
        # the store is written by one thread, never under the lock: records of races in progress and
        # finished races, in the order they were asked for
        self._writes: "queue.Queue" = queue.Queue()
        self._writer = threading.Thread(target=self._write_store, daemon=True, name="job-store-writer")
        self._writer.start()
        self._recover_interrupted()
        self._slots: List[WorkerProcess] = [WorkerProcess(self) for _ in range(self.workers)] if warm else []

    def _recover_interrupted(self):
        """Races a previous server left queued or running: reported as interrupted at their step."""
        for entry in self.store.pending():
            configs, step = entry["configs"], entry["step"]
            self._jobs[entry["key"]] = Job.new(
                entry["key"], configs, status=INTERRUPTED, step=step,
                notice=f"This race was interrupted at step {step:,} when the server restarted. Press Run to run it "
                       "again.")
            self.store.drop_pending(entry["key"])
            self._ended_now(entry["key"])

    # ------------------------------------------------------------------ public API
    def submit(self, configs: Sequence[RunConfig], owner: Optional[str] = None) -> str:
        """Queue a race unless it is stored or already queued/running; returns its key. `owner`
        (a browser session) is the one that may stop it; attaching to a running race changes
        nothing."""
        key = race_key(configs)
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.active:
                return key
            if self.store.usable_race(key) is not None:  # a damaged one is computed again
                return key
            self._admit(configs, owner)
            self._jobs[key] = Job.new(key, configs, owner=owner)
            self._queue.append(key)
            self._record(key, force=True)
            self._dispatch()
        return key

    def _record(self, key: str, force: bool = False):
        """Keep the store's record of an active race current (at most every PENDING_EVERY s), or
        drop it once the race has ended (caller holds the lock)."""
        job = self._jobs[key]
        if not job.active:
            self._writes.put(("drop", key))
            self._recorded.pop(key, None)
            return
        now = time.monotonic()
        if force or now - self._recorded.get(key, -self.pending_every) >= self.pending_every:
            self._writes.put(("pending", job.configs, job.step))
            self._recorded[key] = now

    def _write_store(self):
        """The writer thread: each store write in turn, outside the manager's lock."""
        while True:
            write = self._writes.get()
            try:
                if write is None:
                    return
                kind, *rest = write
                if kind == "pending":
                    self.store.put_pending(*rest)
                elif kind == "drop":
                    self.store.drop_pending(*rest)
                elif kind == "race":
                    self._store_race(*rest)
            except Exception:  # a full disk must not stop a race: a record of progress is lost, nothing more
                pass
            finally:
                self._writes.task_done()

    def flush(self):
        """Wait until every store write asked for so far is done."""
        self._writes.join()

    def _admit(self, configs: Sequence[RunConfig], owner: Optional[str]):
        """Refuse a new race the server cannot take now (caller holds the lock)."""
        active = [j for j in self._jobs.values() if j.active]
        if len(active) >= self.queue_limit:
            raise Refused(f"the server already has {len(active)} races waiting or running (its limit): "
                          "try again when one has finished")
        if owner is not None and sum(j.owner == owner for j in active) >= self.per_browser:
            raise Refused(f"this browser already has {self.per_browser} races waiting or running: stop one or "
                          "wait for it to finish")
        try:
            check_memory(configs, available_bytes())
        except ConfigError as e:
            raise Refused(str(e)) from None

    def job(self, key: str, max_age: float = 0.0, now: Optional[float] = None) -> Optional[Job]:
        """A consistent copy of a job's state (safe to read while workers write), to read only: every
        viewer of an active race gets the same copy until the job changes (thirty viewers, one copy).

        `max_age` (seconds) makes that copy a frame: progress newer than the copy is held back until
        the copy is that old, so the live views refreshing within one frame, whatever their number
        and phase, all read (and draw) one snapshot; a change of state (started, ended, a notice)
        is never held back. An ended job's copy is not kept: its viewers read the store, and the
        cache stays as small as the queue. `now`: the monotonic clock's time (a test sets it)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            job = self._jobs.get(key)
            if job is None:
                return None
            if not job.active:
                self._copies.pop(key, None)
                self._audience.forget(key)
                return copy.deepcopy(job)
            state, progress = state_of(job), progress_of(job)
            cached = self._copies.get(key)  # (state, progress, made at, copy)
            if (cached is None or cached[0] != state
                    or (cached[1] != progress and now - cached[2] >= max_age)):
                cached = self._copies[key] = (state, progress, now, copy.deepcopy(job))
            return cached[3]

    def watching(self, key: str, who: str, now: Optional[float] = None) -> int:
        """Record that session `who` is looking at race `key`; returns how many sessions did in the
        last audience.WATCH_WINDOW seconds (the live view's refresh slows as that grows: refresh_interval)."""
        return self._audience.look(key, who, time.monotonic() if now is None else now)

    def queue_position(self, key: str) -> Optional[int]:
        """1-based position in the waiting queue, or None if not waiting."""
        with self._lock:
            return self._queue.index(key) + 1 if key in self._queue else None

    def may_stop(self, key: str, who: Optional[str]) -> bool:
        """Whether `who` may stop the race (Job.owned_by)."""
        with self._lock:
            job = self._jobs.get(key)
            return job is not None and job.owned_by(who)

    def cancel(self, key: str, who: Optional[str] = None):
        """Stop a queued or running race, if `who` may (may_stop)."""
        with self._lock:
            job = self._jobs.get(key)
            if job is None or not job.active or not job.owned_by(who):
                return
            job.cancel_requested = True
            if key in self._queue:
                self._queue.remove(key)
                job.status = CANCELLED
                for run in job.runs:
                    run["status"] = CANCELLED
                self._ended_now(key)
                self._record(key)
                return
            for slot in self._slots:
                if slot.job == key:
                    slot.send({"type": "cancel", "job": key})

    def shutdown(self):
        with self._lock:
            slots, self._slots = self._slots, []
        self._writes.put(None)  # the writer ends once what was asked for before is written
        self._writer.join(timeout=30)
        for slot in slots:
            if slot.job is not None:
                slot.send({"type": "cancel", "job": slot.job})
            try:
                slot.process.stdin.close()
            except OSError:
                pass
        for slot in slots:
            try:
                slot.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                slot.process.kill()

    # ------------------------------------------------------------------ internals
    def _dispatch(self):
        """Start queued jobs on idle workers (caller holds the lock)."""
        self._reap_dead()
        while self._queue:
            slot = next((s for s in self._slots if s.job is None), None)
            if slot is None and len(self._slots) < self.workers:
                slot = WorkerProcess(self)
                self._slots.append(slot)
            if slot is None:
                return
            key = self._queue.pop(0)
            job = self._jobs[key]
            if not slot.send({"type": "run", "job": key, "configs": [c.to_dict() for c in job.configs]}):
                self._queue.insert(0, key)  # that worker is gone: forget it, the job waits for another
                self._slots.remove(slot)
                continue
            slot.job = key
            job.status = RUNNING

    def _reap_dead(self):
        for slot in list(self._slots):
            if not slot.alive():
                if slot.job is not None:
                    self._worker_died(slot.job)
                self._slots.remove(slot)

    def _worker_died(self, key: str):
        """Start the race again on a fresh worker (RESTARTS times), else fail it with the step reached."""
        job = self._jobs.get(key)
        if job is None or not job.active:
            return
        reached = job.step
        if job.restarts < RESTARTS and not job.cancel_requested:
            job.restarts += 1
            job.notice = (f"Its worker process stopped unexpectedly at step {reached:,}; the race started again on "
                          f"a fresh worker.")
            job.status, job.step, job.elapsed, job.runs = QUEUED, 0, 0.0, fresh_runs(job.configs)
            self._queue.insert(0, key)
            self._record(key, force=True)
        else:
            self._fail(key, f"the worker process stopped unexpectedly {job.restarts + 1} times; the last time at "
                            f"step {reached:,}")

    def _fail(self, key: str, message: str):
        job = self._jobs.get(key)
        if job is not None:
            job.status, job.error = FAILED, message
            self._record(key)
            self._ended_now(key)

    def _free(self, key: str):
        for slot in self._slots:
            if slot.job == key:
                slot.job = None
        self._dispatch()

    def _read(self, slot: WorkerProcess):
        """Reader thread of one worker: merge its messages into the jobs."""
        for line in slot.process.stdout:
            try:
                message = json.loads(line)
                if not isinstance(message, dict) or "job" not in message or "type" not in message:
                    raise ValueError("not a worker message")
            except ValueError:
                with self._lock:  # a worker that writes garbage is in no state to go on
                    if slot.job is not None:
                        self._fail(slot.job, "its worker process sent an unreadable message, so the race was stopped")
                        slot.job = None
                slot.process.kill()
                break
            with self._lock:
                job = self._jobs.get(message["job"])
                if job is None:
                    continue
                kind = message["type"]
                if kind == "snapshot":
                    self._merge(job, message)
                    self._record(job.key)
                elif kind == "error":
                    self._fail(job.key, message["message"])
                    self._free(job.key)
                elif kind == "done":
                    self._finish(job)
                    self._free(job.key)
        slot.process.wait()  # stdout closed: the worker has exited (or is about to)
        with self._lock:
            self._reap_dead()
            self._dispatch()

    @staticmethod
    def _merge(job: Job, message: Dict[str, Any]):
        job.step, job.total, job.elapsed = message["step"], message["total"], message["elapsed"]
        for run, delta in zip(job.runs, message["runs"]):
            for name, values in delta["history"].items():
                run["history"].setdefault(name, []).extend(values)
            run.update(status=delta["status"], steps_done=delta["steps_done"], final=delta["final"])
            if "arrays" in delta:
                run["arrays"] = delta["arrays"]

    def _finish(self, job: Job):
        try:
            self._settle(job)
        finally:
            self._record(job.key)  # ended: its record of being in progress goes

    def _settle(self, job: Job):
        """A race whose worker is done: cancelled, or stored (by the writer thread) and then finished."""
        statuses = {r["status"] for r in job.runs}
        if CANCELLED in statuses:
            job.status = CANCELLED
            self._ended_now(job.key)
            return
        records = job.documents(device=str(resolve_device(self.device)))  # the device used, not "auto"
        self._writes.put(("race", job, records))

    def _store_race(self, job: Job, records: List[Dict[str, Any]]):
        """In the writer thread: store a finished race, then mark it finished (so a Run of it finds it
        stored); a full disk must not lose the run: it stays in memory with the error."""
        try:
            self.store.put_race(job.configs, records)
            error = None
        except Exception as e:
            error = f"could not store the result: {e}"
        with self._lock:
            job.status, job.error = FINISHED, error
            self._record(job.key)
            self._ended_now(job.key)

    def _ended_now(self, key: str):
        """Keep the newest ENDED_KEPT ended jobs in memory; forget older ones (caller holds the lock)."""
        if key in self._ended:
            self._ended.remove(key)
        self._ended.append(key)
        while len(self._ended) > ENDED_KEPT:
            old = self._ended.pop(0)
            job = self._jobs.get(old)
            if job is not None and not job.active:
                del self._jobs[old]
                self._copies.pop(old, None)
                self._audience.forget(old)
