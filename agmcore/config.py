"""Run configurations: validated at construction, canonical JSON, a content key.

A `RunConfig` fixes everything that determines a run's result: the task (and its data law),
the optimizer and its hyperparameters, the step budget and logging cadence, the seed and the
dtype. The device is an execution choice and not part of it. The content key is
sha256(schema version + canonical JSON), so equal configurations share one stored result.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar, Dict, Optional, Sequence, Union

from . import SCHEMA_VERSION
from .family import OPTIMIZER_NAMES, REGISTRY
from .memory import available_bytes, format_bytes
from .statistics import FULL_MATRIX_MAX_DIM

LAWS = ("rademacher", "gaussian")
DTYPES = ("float64", "float32")
MEASUREMENTS = ("entries", "gaussian")


class ConfigError(ValueError):
    """A setting a user can fix; the message names it and says what is allowed."""


def _require(ok: bool, message: str):
    if not ok:
        raise ConfigError(message)


def _coerce_fields(obj) -> None:
    """Turn ints given for float fields into floats (so the canonical JSON is unique) and
    check each field's type, naming the field when it is wrong."""
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        value, kind = getattr(obj, f.name), hints[f.name]
        optional = typing.get_origin(kind) is Union and type(None) in typing.get_args(kind)
        if optional:
            if value is None:
                continue
            kind = next(a for a in typing.get_args(kind) if a is not type(None))
        if kind is float:
            _require(isinstance(value, (int, float)) and not isinstance(value, bool),
                     f"{f.name} must be a number (got {value!r})")
            _require(math.isfinite(value), f"{f.name} must be finite (got {value!r})")
            object.__setattr__(obj, f.name, float(value))
        elif kind is int:
            _require(isinstance(value, int) and not isinstance(value, bool), f"{f.name} must be an integer (got {value!r})")
        elif kind is bool:
            _require(isinstance(value, bool), f"{f.name} must be true or false (got {value!r})")
        elif kind is str:
            _require(isinstance(value, str), f"{f.name} must be a string (got {value!r})")


def _choice(name: str, value: str, allowed) -> None:
    _require(value in allowed, f"unknown {name} {value!r}; choose one of {', '.join(allowed)}")


INITS = ("tied", "independent")  # the diagonal network's u₀, v₀: one Gaussian draw for both, or two


@dataclass(frozen=True)
class DiagNetTask:
    """Sparse regression with a diagonal linear network w = u⊙u − v⊙v (docs/science.md §3.1)."""

    name: ClassVar[str] = "diag-net"
    dim: int = 100  # d: input dimension
    samples: int = 20  # n: training samples
    sparsity: int = 3  # κ: nonzeros of w*
    label_noise: float = 0.5  # δ: ξ = ±δ (or δ·N(0,1)) fresh every step
    noise_law: str = "rademacher"  # law of ξ/δ
    input_law: str = "rademacher"  # law of the inputs z
    init_scale: float = 0.1  # α: u₀ = v₀ = α·g, g ~ N(0, I) ("tied"), or two draws ("independent")
    batch_size: Optional[int] = None  # None: full batch
    init: str = "tied"  # the authors' protocol: one draw for u₀ and v₀, so w₀ = 0 (docs/science.md §3.1)

    def __post_init__(self):
        _coerce_fields(self)
        _choice("init", self.init, INITS)
        _require(self.dim >= 1, f"dim must be at least 1 (got {self.dim})")
        _require(self.samples >= 1, f"samples must be at least 1 (got {self.samples})")
        _require(1 <= self.sparsity <= self.dim, f"sparsity must be between 1 and dim={self.dim} (got {self.sparsity})")
        _require(self.label_noise >= 0, f"label_noise must be ≥ 0 (got {self.label_noise})")
        _require(self.init_scale > 0, f"init_scale must be > 0 (got {self.init_scale})")
        _choice("noise_law", self.noise_law, LAWS)
        _choice("input_law", self.input_law, LAWS)
        if self.batch_size is not None:
            _require(1 <= self.batch_size <= self.samples,
                     f"batch_size must be between 1 and samples={self.samples} (got {self.batch_size})")

    def parameter_shapes(self) -> Dict[str, tuple]:
        return {"u": (self.dim,), "v": (self.dim,)}

    def data_numbers(self) -> int:
        """Numbers held for the data: inputs, labels, truth."""
        return self.samples * self.dim + self.samples + 2 * self.dim


@dataclass(frozen=True)
class MatrixFactorizationTask:
    """Deep matrix factorization W = W_L ⋯ W_1 of a low-rank W* (docs/science.md §3.2 template)."""

    name: ClassVar[str] = "matrix-factorization"
    size: int = 20  # m: W* is m×m
    rank: int = 2  # r: rank of W*
    depth: int = 2  # L: number of factors
    samples: int = 120  # n: observed entries or measurements
    measurement: str = "entries"  # entries (completion) or gaussian (sensing)
    label_noise: float = 0.5  # δ
    noise_law: str = "rademacher"
    init_scale: float = 0.1  # factors ~ α·N(0, 1/m)
    batch_size: Optional[int] = None

    def __post_init__(self):
        _coerce_fields(self)
        _require(self.size >= 2, f"size must be at least 2 (got {self.size})")
        _require(1 <= self.rank <= self.size, f"rank must be between 1 and size={self.size} (got {self.rank})")
        _require(self.depth >= 1, f"depth must be at least 1 (got {self.depth})")
        _choice("measurement", self.measurement, MEASUREMENTS)
        limit = self.size**2 if self.measurement == "entries" else 10**7
        _require(1 <= self.samples <= limit, f"samples must be between 1 and {limit} (got {self.samples})")
        _require(self.label_noise >= 0, f"label_noise must be ≥ 0 (got {self.label_noise})")
        _require(self.init_scale > 0, f"init_scale must be > 0 (got {self.init_scale})")
        _choice("noise_law", self.noise_law, LAWS)
        if self.batch_size is not None:
            _require(1 <= self.batch_size <= self.samples,
                     f"batch_size must be between 1 and samples={self.samples} (got {self.batch_size})")

    def parameter_shapes(self) -> Dict[str, tuple]:
        return {f"W{k + 1}": (self.size, self.size) for k in range(self.depth)}

    def data_numbers(self) -> int:
        per = self.size**2 if self.measurement == "gaussian" else 2
        return self.samples * per + 2 * self.size**2


TASKS = {t.name: t for t in (DiagNetTask, MatrixFactorizationTask)}
Task = Union[DiagNetTask, MatrixFactorizationTask]


@dataclass(frozen=True)
class OptimizerConfig:
    """One member of the AGM family and its hyperparameters (docs/science.md §2)."""

    name: str = "adam"
    lr: float = 0.1  # η
    beta1: Optional[float] = None  # momentum (SGD: heavy ball; others: EMA); None: 0 for sgd/rmsprop, else 0.9
    beta2: float = 0.999  # second-moment EMA
    lam: float = 0.5  # preconditioner power λ (AdamE only)
    eps: float = 1e-8  # ε, outside the power: (v^λ + ε)^{-1}
    bias_correction: Optional[bool] = None  # None: False for rmsprop (as torch), else True
    block_size: int = 16  # Adam-mini's block size

    def __post_init__(self):
        if self.beta1 is None:
            object.__setattr__(self, "beta1", 0.0 if self.name in ("sgd", "rmsprop") else 0.9)
        if self.bias_correction is None:
            object.__setattr__(self, "bias_correction", self.name != "rmsprop")
        _coerce_fields(self)
        _choice("optimizer", self.name, OPTIMIZER_NAMES)
        _require(self.lr > 0, f"lr must be > 0 (got {self.lr})")
        _require(0 <= self.beta1 < 1, f"beta1 must be in [0, 1) (got {self.beta1})")
        _require(0 <= self.beta2 < 1, f"beta2 must be in [0, 1) (got {self.beta2})")
        _require(0 <= self.lam <= 1, f"lam must be in [0, 1] (got {self.lam})")
        _require(self.eps >= 0, f"eps must be ≥ 0 (got {self.eps})")
        _require(self.block_size >= 1, f"block_size must be at least 1 (got {self.block_size})")
        member = REGISTRY[self.name]
        if member.momentum == "none":
            _require(self.beta1 == 0, f"{self.name} has no momentum: beta1 must be 0 (got {self.beta1})")
        if not member.lam_free:
            free = [n for n, m in REGISTRY.items() if m.lam_free]
            _require(self.lam == 0.5, f"lam applies to {', '.join(free)} only; {self.name} uses 0.5 (got {self.lam})")

    def structure(self) -> tuple:
        """What must be equal for runs to share one tensor program (the rest is per run)."""
        return (self.name, self.bias_correction, self.block_size, self.beta1 == 0)


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines one run's result."""

    task: Task = field(default_factory=DiagNetTask)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    steps: int = 10_000  # optimizer steps
    log_every: int = 100  # metrics every this many steps (and at steps 0 and the end)
    seed: int = 0  # data, init and label noise (shared by runs with this seed)
    dtype: str = "float64"
    manifold_metrics: bool = False  # also measure at the projection of θ onto the manifold
    oracle_metrics: bool = False  # diag-net: distances to the min-ℓ1 and min-ℓ^½ interpolators
    tail_average: float = 0.0  # > 0: also measure at the mean of θ over this last fraction of the steps

    def __post_init__(self):
        _require(isinstance(self.task, tuple(TASKS.values())), f"unknown task {self.task!r}")
        _require(isinstance(self.optimizer, OptimizerConfig), "optimizer must be an OptimizerConfig")
        _coerce_fields(self)
        _require(self.steps >= 1, f"steps must be at least 1 (got {self.steps})")
        _require(self.log_every >= 1, f"log_every must be at least 1 (got {self.log_every})")
        _require(0 <= self.seed < 2**63, f"seed must be between 0 and 2^63 − 1 (got {self.seed})")
        _choice("dtype", self.dtype, DTYPES)
        _require(not self.oracle_metrics or self.task.name == "diag-net", "oracle_metrics applies to diag-net only")
        _require(0 <= self.tail_average < 1, f"tail_average must be in [0, 1) (got {self.tail_average})")
        if self.optimizer.name == "shampoo":
            for shape in self.task.parameter_shapes().values():
                _require(len(shape) != 1 or shape[0] <= FULL_MATRIX_MAX_DIM,
                         f"shampoo on a vector of size {shape[0]} needs a {shape[0]}×{shape[0]} full-matrix "
                         f"preconditioner; the bound is {FULL_MATRIX_MAX_DIM}: use a smaller dim or another optimizer")

    # ------------------------------------------------------------------ memory
    def memory_bytes(self) -> int:
        """Estimated peak memory of one run: parameters, optimizer state, data, work buffers."""
        itemsize = 8 if self.dtype == "float64" else 4
        shapes = self.task.parameter_shapes().values()
        params = sum(math.prod(s) for s in shapes)
        if self.optimizer.name == "shampoo":
            state = sum((s[0] ** 2 if len(s) == 1 else s[0] ** 2 + s[1] ** 2) for s in shapes)
        else:
            state = params
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
        }

    def canonical_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=True)

    @property
    def key(self) -> str:
        """sha256 of the schema version and the canonical JSON."""
        return hashlib.sha256(f"schema={SCHEMA_VERSION};{self.canonical_json()}".encode()).hexdigest()

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "RunConfig":
        """Inverse of to_dict; unknown or missing names give a ConfigError."""
        _require(isinstance(data, dict), "a run configuration must be a JSON object")
        data = dict(data)
        task_data = dict(data.pop("task", {}) or {})
        task_name = task_data.pop("name", DiagNetTask.name)
        _choice("task", task_name, tuple(TASKS))
        task = _build(TASKS[task_name], task_data, f"task {task_name}")
        optimizer = _build(OptimizerConfig, dict(data.pop("optimizer", {}) or {}), "optimizer")
        return _build(cls, data, "run", task=task, optimizer=optimizer)


def _build(kind, values: Dict[str, Any], what: str, **extra):
    known = {f.name for f in dataclasses.fields(kind)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]!r} for {what}; known: {', '.join(sorted(known - set(extra)))}")
    return kind(**values, **extra)


def check_memory(configs: Sequence[RunConfig], have: Optional[int] = None) -> None:
    """ConfigError unless these runs, together, fit in the memory available now (`have` bytes, by
    default the host's). Called where runs are admitted: the CLI, the engine, the job manager; a
    configuration itself reads nothing from the machine."""
    need = sum(c.memory_bytes() for c in configs)
    have = available_bytes() if have is None else have
    if need <= have:
        return
    what = "this run needs" if len(configs) == 1 else f"these {len(configs)} runs need"
    shrink = "dim or samples" if configs[0].task.name == "diag-net" else "size (the CLI's --dim), depth, rank or samples"
    fewer = "" if len(configs) == 1 else "race fewer optimizers or "
    raise ConfigError(f"{what} about {format_bytes(need)} in all but {format_bytes(have)} is available now: "
                      f"{fewer}reduce {shrink}")
