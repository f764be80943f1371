"""One race as the job manager holds it: its configurations, status, progress and the merged
state of its runs (what the workers have streamed so far)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from agmcore.engine.config import RunConfig
from agmcore.engine.results import document_of

QUEUED, RUNNING, FINISHED, CANCELLED, FAILED = "queued", "running", "finished", "cancelled", "failed"
INTERRUPTED = "interrupted"  # queued or running when the server stopped (found in the store at start)


def fresh_runs(configs) -> List[Dict[str, Any]]:
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
        return cls(key, list(configs), total=max(c.steps for c in configs), runs=fresh_runs(configs), **fields)


def state_of(job: Job) -> tuple:
    """What a job is, as its viewers must learn at once: everything but its progress (its step,
    its time and its runs' histories, which change only with its step)."""
    return (job.status, job.total, job.error, job.cancel_requested, job.owner, job.restarts, job.notice,
            tuple(run.get("status") for run in job.runs), len(job.runs))


def progress_of(job: Job) -> tuple:
    return job.step, job.elapsed
