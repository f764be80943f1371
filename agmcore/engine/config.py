"""Run configurations: validated at construction, canonical JSON, a content key.

A `RunConfig` fixes everything that determines a run's result: the task (and its data law),
the optimizer and its hyperparameters, the step budget and logging cadence, the seed and the
dtype. The device is an execution choice and not part of it. The content key is
sha256(schema version + canonical JSON), so equal configurations share one stored result.
"""
from __future__ import annotations

import bisect
import dataclasses
import functools
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence

from agmcore import SCHEMA_VERSION
from agmcore.checks import ConfigError, choice, coerce_fields, require
from agmcore.engine.memory import available_bytes, format_bytes
from agmcore.optimizers.family import REGISTRY
from agmcore.optimizers.settings import OptimizerConfig
from agmcore.problems.descriptors import TASKS, descriptor_of
from agmcore.problems.settings import INITS, LAWS, MEASUREMENTS, DiagNetTask, MatrixFactorizationTask, Task

__all__ = ["ConfigError", "DTYPES", "INITS", "LAWS", "MEASUREMENTS", "TASKS", "DiagNetTask", "MatrixFactorizationTask",
           "OptimizerConfig", "RunConfig", "Task", "check_memory", "distinct"]

DTYPES = ("float64", "float32")
DEFAULT_LOG_EVERY = 100  # log_every by default, and where log_points replaces it


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines one run's result."""

    task: Task = field(default_factory=DiagNetTask)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    steps: int = 10_000  # optimizer steps
    log_every: int = DEFAULT_LOG_EVERY  # metrics every this many steps (and at steps 0 and the end)
    # > 0: instead, about this many logging steps spaced evenly in log t (log_schedule); log_every is then
    # unused and set to its default, so that equal schedules share a key
    log_points: int = 0
    seed: int = 0  # data, init and label noise (shared by runs with this seed)
    dtype: str = "float64"
    manifold_metrics: bool = False  # also measure at the projection of θ onto the manifold
    oracle_metrics: bool = False  # diag-net: distances to the min-ℓ1 and min-ℓ^½ interpolators
    tail_average: float = 0.0  # > 0: also measure at the mean of θ over this last fraction of the steps

    def __post_init__(self):
        require(isinstance(self.task, tuple(d.settings for d in TASKS.values())), f"unknown task {self.task!r}")
        require(isinstance(self.optimizer, OptimizerConfig), "optimizer must be an OptimizerConfig")
        coerce_fields(self)
        require(self.steps >= 1, f"steps must be at least 1 (got {self.steps})")
        require(self.log_every >= 1, f"log_every must be at least 1 (got {self.log_every})")
        require(0 <= self.log_points <= 10_000, f"log_points must be between 0 and 10000 (got {self.log_points})")
        if self.log_points:
            object.__setattr__(self, "log_every", DEFAULT_LOG_EVERY)
        require(0 <= self.seed < 2**63, f"seed must be between 0 and 2^63 − 1 (got {self.seed})")
        choice("dtype", self.dtype, DTYPES)
        require(not self.oracle_metrics or descriptor_of(self.task).oracles,
                f"oracle_metrics applies to {', '.join(n for n, d in TASKS.items() if d.oracles)} only")
        require(0 <= self.tail_average < 1, f"tail_average must be in [0, 1) (got {self.tail_average})")
        bound = REGISTRY[self.optimizer.name].max_vector
        if bound is not None:
            for shape in self.task.parameter_shapes().values():
                require(len(shape) != 1 or shape[0] <= bound,
                        f"{self.optimizer.name} on a vector of size {shape[0]} needs a {shape[0]}×{shape[0]} full-matrix "
                        f"preconditioner; the bound is {bound}: use a smaller dim or another optimizer")

    # ------------------------------------------------------------------ memory
    def memory_bytes(self) -> int:
        """Estimated peak memory of one run: parameters, optimizer state, data, work buffers."""
        itemsize = 8 if self.dtype == "float64" else 4
        shapes = self.task.parameter_shapes().values()
        params = sum(math.prod(s) for s in shapes)
        state = sum(REGISTRY[self.optimizer.name].state_numbers(s) for s in shapes)
        noise_chunk = 512 * self.task.samples * 2
        work = 8 * params + 4 * self.task.samples
        return itemsize * (params + 2 * state + self.task.data_numbers() + noise_chunk + work)

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> Dict[str, Any]:
        task = {"name": self.task.name, **dataclasses.asdict(self.task)}
        return {
            "task": task,
            "optimizer": dataclasses.asdict(self.optimizer),
            "steps": self.steps,
            "log_every": self.log_every,
            "seed": self.seed,
            "dtype": self.dtype,
            "manifold_metrics": self.manifold_metrics,
            "oracle_metrics": self.oracle_metrics,
            # written only when used, so configurations from before the field keep their keys
            **({"tail_average": self.tail_average} if self.tail_average else {}),
            **({"log_points": self.log_points} if self.log_points else {}),
        }

    # ------------------------------------------------------------------ logging steps
    def logs_at(self, t: int) -> bool:
        """Whether metrics are taken after step t (step 0 and the last step always are)."""
        if t == 0 or t == self.steps:
            return True
        if self.log_points:
            return t in log_schedule(self.steps, self.log_points)
        return t % self.log_every == 0

    def next_log_after(self, t: int) -> int:
        """The first logging step after step t (at most the last step)."""
        if self.log_points:
            schedule = log_schedule(self.steps, self.log_points)
            later = schedule[bisect.bisect_right(schedule, t)] if t < schedule[-1] else self.steps
            return min(later, self.steps)
        return min((t // self.log_every + 1) * self.log_every, self.steps)

    def canonical_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=True)

    @property
    def key(self) -> str:
        """sha256 of the schema version and the canonical JSON."""
        return hashlib.sha256(f"schema={SCHEMA_VERSION};{self.canonical_json()}".encode()).hexdigest()

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "RunConfig":
        """Inverse of to_dict; unknown or missing names give a ConfigError."""
        require(isinstance(data, dict), "a run configuration must be a JSON object")
        data = dict(data)
        task_data = dict(data.pop("task", {}) or {})
        task_name = task_data.pop("name", DiagNetTask.name)
        choice("task", task_name, tuple(TASKS))
        task = _build(TASKS[task_name].settings, task_data, f"task {task_name}")
        optimizer = _build(OptimizerConfig, dict(data.pop("optimizer", {}) or {}), "optimizer")
        return _build(cls, data, "run", task=task, optimizer=optimizer)


def _build(kind, values: Dict[str, Any], what: str, **extra):
    known = {f.name for f in dataclasses.fields(kind)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]!r} for {what}; known: {', '.join(sorted(known - set(extra)))}")
    return kind(**values, **extra)


@functools.lru_cache(maxsize=64)
def log_schedule(steps: int, points: int) -> tuple:
    """Logging steps evenly spaced in log t: round(steps^(k/(points − 1))), k = 0 … points − 1,
    each once (so early on every step, where the rounding repeats), ending at `steps`."""
    if points <= 1:
        return (steps,)
    return tuple(sorted({max(1, round(steps ** (k / (points - 1)))) for k in range(points)} | {steps}))


def distinct(configs: Iterable[RunConfig]) -> List[RunConfig]:
    """Each configuration once, by content key, in the order first seen (a sweep's races share runs)."""
    return list({c.key: c for c in configs}.values())


def check_memory(configs: Sequence[RunConfig], have: Optional[int] = None) -> None:
    """ConfigError unless these runs, together, fit in the memory available now (`have` bytes, by
    default the host's). Called where runs are admitted: the CLI, the engine, the job manager; a
    configuration itself reads nothing from the machine."""
    need = sum(c.memory_bytes() for c in configs)
    have = available_bytes() if have is None else have
    if need <= have:
        return
    what = "this run needs" if len(configs) == 1 else f"these {len(configs)} runs need"
    shrink = descriptor_of(configs[0].task).shrink
    fewer = "" if len(configs) == 1 else "race fewer optimizers or "
    raise ConfigError(f"{what} about {format_bytes(need)} in all but {format_bytes(have)} is available now: "
                      f"{fewer}reduce {shrink}")
