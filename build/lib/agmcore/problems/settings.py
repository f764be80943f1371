"""The tasks' settings: what fixes a task's data law, size and initialisation (validated at construction)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Dict, Optional, Union

from agmcore.checks import choice, coerce_fields, require

LAWS = ("rademacher", "gaussian")
MEASUREMENTS = ("entries", "gaussian")
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
        coerce_fields(self)
        choice("init", self.init, INITS)
        require(self.dim >= 1, f"dim must be at least 1 (got {self.dim})")
        require(self.samples >= 1, f"samples must be at least 1 (got {self.samples})")
        require(1 <= self.sparsity <= self.dim, f"sparsity must be between 1 and dim={self.dim} (got {self.sparsity})")
        require(self.label_noise >= 0, f"label_noise must be ≥ 0 (got {self.label_noise})")
        require(self.init_scale > 0, f"init_scale must be > 0 (got {self.init_scale})")
        choice("noise_law", self.noise_law, LAWS)
        choice("input_law", self.input_law, LAWS)
        if self.batch_size is not None:
            require(1 <= self.batch_size <= self.samples,
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
        coerce_fields(self)
        require(self.size >= 2, f"size must be at least 2 (got {self.size})")
        require(1 <= self.rank <= self.size, f"rank must be between 1 and size={self.size} (got {self.rank})")
        require(self.depth >= 1, f"depth must be at least 1 (got {self.depth})")
        choice("measurement", self.measurement, MEASUREMENTS)
        limit = self.size**2 if self.measurement == "entries" else 10**7
        require(1 <= self.samples <= limit, f"samples must be between 1 and {limit} (got {self.samples})")
        require(self.label_noise >= 0, f"label_noise must be ≥ 0 (got {self.label_noise})")
        require(self.init_scale > 0, f"init_scale must be > 0 (got {self.init_scale})")
        choice("noise_law", self.noise_law, LAWS)
        if self.batch_size is not None:
            require(1 <= self.batch_size <= self.samples,
                     f"batch_size must be between 1 and samples={self.samples} (got {self.batch_size})")

    def parameter_shapes(self) -> Dict[str, tuple]:
        return {f"W{k + 1}": (self.size, self.size) for k in range(self.depth)}

    def data_numbers(self) -> int:
        per = self.size**2 if self.measurement == "gaussian" else 2
        return self.samples * per + 2 * self.size**2


Task = Union[DiagNetTask, MatrixFactorizationTask]
