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
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import agmcore
from agmcore import settings
from agmcore.engine.config import ConfigError, RunConfig, check_memory
from agmcore.engine.device import resolve_device
from agmcore.engine.memory import available_bytes
from agmcore.engine.results import document_of
from agmcore.storage.store import ResultStore, race_key

QUEUED, RUNNING, FINISHED, CANCELLED, FAILED = "queued", "running", "finished", "cancelled", "failed"
INTERRUPTED = "interrupted"  # queued or running when the server stopped (found in the store at start)
PENDING_EVERY = 5.0  # seconds between records of a running race's step in the store
RESTARTS = 1  # a race whose worker dies starts again once on a fresh worker, then fails


def _fresh_runs(configs) -> List[Dict[str, Any]]:
    return [{"status": QUEUED, "steps_done": 0, "history": {}, "final": {}, "arrays": {}} for _ in configs]


@dataclass
class Job:
    key: str
    configs: List[RunConfig]
    status: str = QUEUED
    step: int = 0
    total: int = 0
    elapsed: float = 0.0
    runs: List[Dict[str, Any]] = field(default_factory=list)  # merged per-run state (status, history, ...)
    error: Optional[str] = None
    cancel_requested: bool = False
    owner: Optional[str] = None  # the browser session that started it: only it may stop it
    restarts: int = 0  # times its worker died and it started again on a fresh one (at most RESTARTS)
    notice: Optional[str] = None  # what happened to it that its viewers should know

    @property
    def steps_per_second(self) -> float:
        return self.step / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def active(self) -> bool:
        return self.status in (QUEUED, RUNNING)

    def documents(self, **extra):
        """Each run as a result document (results.document_of), as it stands now; `extra` adds
        fields such as the device."""
        return [document_of(config, run, **extra) for config, run in zip(self.configs, self.runs)]

    def owned_by(self, who: Optional[str]) -> bool:
        """Whether `who` may stop it: the session that started it (anyone, for a race started
        without an owner, as by the CLI or a test)."""
        return self.owner is None or self.owner == who

    @classmethod
    def new(cls, key: str, configs: Sequence[RunConfig], **fields) -> "Job":
        """A job for this race with no progress yet."""
        return cls(key, list(configs), total=max(c.steps for c in configs), runs=_fresh_runs(configs), **fields)


WATCH_WINDOW = 10.0  # seconds: a session that has not looked at a race for this long no longer counts


def _state_of(job: Job) -> tuple:
    """What a job is, as its viewers must learn at once: everything but its progress (its step,
    its time and its runs' histories, which change only with its step)."""
    return (job.status, job.total, job.error, job.cancel_requested, job.owner, job.restarts, job.notice,
            tuple(run.get("status") for run in job.runs), len(job.runs))


def _progress_of(job: Job) -> tuple:
    return job.step, job.elapsed


class Refused(ConfigError):
    """A race the server will not take now (queue full, too many from one browser, too large);
    the message says why and what to do."""


class _Slot:
    """One persistent worker process (agmcore/service/worker.py) and the thread that reads it."""

    def __init__(self, manager: "JobManager"):
        root = os.path.dirname(os.path.dirname(os.path.abspath(agmcore.__file__)))  # the folder holding agmcore
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")  # write nothing into the app's folder
        self.process = subprocess.Popen(
            [sys.executable, "-m", "agmcore.service.worker", str(manager.threads), manager.device],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1, env=env, cwd=root)
        self.job: Optional[str] = None
        self.reader = threading.Thread(target=manager._read, args=(self,), daemon=True, name="job-reader")
        self.reader.start()

    def send(self, message: Dict[str, Any]) -> bool:
        """False when the worker is gone (its reader thread then fails its job)."""
        try:
            self.process.stdin.write(json.dumps(message) + "\n")
            self.process.stdin.flush()
            return True
        except (BrokenPipeError, OSError, ValueError):
            return False

    def alive(self) -> bool:
        return self.process.poll() is None


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
        self._watchers: Dict[str, Dict[str, float]] = {}  # race -> {session: when it last looked}
        self.pending_every = PENDING_EVERY
        self._recover_interrupted()
        self._slots: List[_Slot] = [_Slot(self) for _ in range(self.workers)] if warm else []

    def _recover_interrupted(self):
        """Races a previous server left queued or running: reported as interrupted at their step."""
        for entry in self.store.pending():
            configs, step = entry["configs"], entry["step"]
            self._jobs[entry["key"]] = Job.new(
                entry["key"], configs, status=INTERRUPTED, step=step,
                notice=f"This race was interrupted at step {step:,} when the server restarted. Press Run to run it "
                       "again.")
            self.store.drop_pending(entry["key"])

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
            self.store.drop_pending(key)
            self._recorded.pop(key, None)
            return
        now = time.monotonic()
        if force or now - self._recorded.get(key, -self.pending_every) >= self.pending_every:
            try:
                self.store.put_pending(job.configs, job.step)
                self._recorded[key] = now
            except Exception:  # a full disk must not stop the race; it only loses the record
                pass

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
                self._watchers.pop(key, None)
                return copy.deepcopy(job)
            state, progress = _state_of(job), _progress_of(job)
            cached = self._copies.get(key)  # (state, progress, made at, copy)
            if (cached is None or cached[0] != state
                    or (cached[1] != progress and now - cached[2] >= max_age)):
                cached = self._copies[key] = (state, progress, now, copy.deepcopy(job))
            return cached[3]

    def watching(self, key: str, who: str, now: Optional[float] = None) -> int:
        """Record that session `who` is looking at race `key`; returns how many sessions did in the
        last WATCH_WINDOW seconds (the live view's refresh slows as that grows: refresh_interval)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            seen = self._watchers.setdefault(key, {})
            seen[who] = now
            for other, when in list(seen.items()):
                if now - when > WATCH_WINDOW:
                    del seen[other]
            return len(seen)

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
                self._record(key)
                return
            for slot in self._slots:
                if slot.job == key:
                    slot.send({"type": "cancel", "job": key})

    def shutdown(self):
        with self._lock:
            slots, self._slots = self._slots, []
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
                slot = _Slot(self)
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
            job.status, job.step, job.elapsed, job.runs = QUEUED, 0, 0.0, _fresh_runs(job.configs)
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

    def _free(self, key: str):
        for slot in self._slots:
            if slot.job == key:
                slot.job = None
        self._dispatch()

    def _read(self, slot: _Slot):
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
        statuses = {r["status"] for r in job.runs}
        if CANCELLED in statuses:
            job.status = CANCELLED
            return
        records = job.documents(device=str(resolve_device(self.device)))  # the device used, not "auto"
        try:
            self.store.put_race(job.configs, records)
            job.status = FINISHED
        except Exception as e:  # a full disk must not lose the run: it stays in memory
            job.status, job.error = FINISHED, f"could not store the result: {e}"
