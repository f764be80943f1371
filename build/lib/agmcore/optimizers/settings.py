"""An optimizer's settings: one member of the AGM family and its hyperparameters."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from agmcore.checks import choice, coerce_fields, require
from agmcore.optimizers.family import OPTIMIZER_NAMES, REGISTRY


@dataclass(frozen=True)
class OptimizerConfig:
    """One member of the AGM family and its hyperparameters (docs/science.md §2)."""

    name: str = "adam"
    lr: float = 0.1  # η
    beta1: Optional[float] = None  # momentum (SGD: heavy ball; others: EMA); None: the descriptor's beta1_default
    beta2: float = 0.999  # second-moment EMA
    lam: float = 0.5  # preconditioner power λ (AdamE only)
    eps: float = 1e-8  # ε, outside the power: (v^λ + ε)^{-1}
    bias_correction: Optional[bool] = None  # None: the descriptor's bias_correction_default (RMSProp: False, as torch)
    block_size: int = 16  # Adam-mini's block size

    def __post_init__(self):
        choice("optimizer", self.name, OPTIMIZER_NAMES)
        member = REGISTRY[self.name]
        if self.beta1 is None:
            object.__setattr__(self, "beta1", member.beta1_default)
        if self.bias_correction is None:
            object.__setattr__(self, "bias_correction", member.bias_correction_default)
        coerce_fields(self)
        require(self.lr > 0, f"lr must be > 0 (got {self.lr})")
        require(0 <= self.beta1 < 1, f"beta1 must be in [0, 1) (got {self.beta1})")
        require(0 <= self.beta2 < 1, f"beta2 must be in [0, 1) (got {self.beta2})")
        require(0 <= self.lam <= 1, f"lam must be in [0, 1] (got {self.lam})")
        require(self.eps >= 0, f"eps must be ≥ 0 (got {self.eps})")
        require(self.block_size >= 1, f"block_size must be at least 1 (got {self.block_size})")
        if member.momentum == "none":
            require(self.beta1 == 0, f"{self.name} has no momentum: beta1 must be 0 (got {self.beta1})")
        if not member.lam_free:
            free = [n for n, m in REGISTRY.items() if m.lam_free]
            require(self.lam == 0.5, f"lam applies to {', '.join(free)} only; {self.name} uses 0.5 (got {self.lam})")

    def structure(self) -> tuple:
        """What must be equal for runs to share one tensor program (the rest is per run)."""
        return (self.name, self.bias_correction, self.block_size, self.beta1 == 0)
