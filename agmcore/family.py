"""Named members of the AGM family: one-line compositions of `transforms.agm`.

| name       | statistic V(g)                  | defaults                          |
|------------|---------------------------------|-----------------------------------|
| sgd        | none                            | heavy-ball momentum β1 (0 = none) |
| rmsprop    | g⊙g                             | β1 = 0                            |
| adam       | g⊙g                             | λ = ½                             |
| adame      | g⊙g                             | λ free: bias tr(Diag(H)^{1−λ})    |
| adam-mini  | block mean of g⊙g               | block_size                        |
| adalayer   | mean of g⊙g per tensor          |                                   |
| adafactor  | row/column sums (no clipping)   |                                   |
| shampoo    | Kronecker factors L, R          | L^{-1/4} M R^{-1/4}               |
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, Optional

from . import statistics
from .hyper import Hyper
from .transforms import GradientTransformation, agm


@dataclass(frozen=True)
class Member:
    """What the code knows about one named optimizer: every module reads it from REGISTRY."""

    label: str  # how pages and verdicts name it
    statistic: Optional[Callable[[int], statistics.SecondMoment]]  # block_size -> V; None: SGD (no preconditioner)
    momentum: str  # "heavy ball" (SGD: m = β1 m + g), "ema" (m = β1 m + (1 − β1) g), "none" (β1 must be 0)
    lam_free: bool = False  # AdamE: λ is a hyperparameter (else ½, or no preconditioner)
    diagonal: bool = True  # S is diagonal, so tr(S·H) needs only diag(H) (sharpness.implied_sharpness)
    defaults: Dict[str, float] = field(default_factory=dict)  # the Playground's η, β1, β2
    # on a vector of d coordinates, how many share one second moment, from (block_size, d); None: the
    # compiled diagonal-network loop (compiled_group.py) has no form for it
    vector_block: Optional[Callable[[int, int], int]] = lambda block_size, d: 1


REGISTRY: Dict[str, Member] = {
    "sgd": Member("SGD", None, "heavy ball", defaults={"lr": 0.1, "beta1": 0.0, "beta2": 0.999}),
    "rmsprop": Member("RMSProp", lambda b: statistics.elementwise(), "none",
                      defaults={"lr": 0.01, "beta1": 0.0, "beta2": 0.95}),
    "adam": Member("Adam", lambda b: statistics.elementwise(), "ema", defaults={"lr": 0.1, "beta1": 0.9, "beta2": 0.9}),
    "adame": Member("AdamE", lambda b: statistics.elementwise(), "ema", lam_free=True,
                    defaults={"lr": 0.1, "beta1": 0.9, "beta2": 0.95}),
    "adam-mini": Member("Adam-mini", statistics.block_mean, "ema", defaults={"lr": 0.1, "beta1": 0.9, "beta2": 0.95},
                        vector_block=lambda block_size, d: block_size),
    "adalayer": Member("Adalayer", lambda b: statistics.layer_mean(), "ema",
                       defaults={"lr": 0.1, "beta1": 0.9, "beta2": 0.95}, vector_block=lambda block_size, d: d),
    "adafactor": Member("Adafactor", lambda b: statistics.factored(), "ema",
                        defaults={"lr": 0.1, "beta1": 0.9, "beta2": 0.95}),
    "shampoo": Member("Shampoo", lambda b: statistics.kronecker(), "ema", diagonal=False,
                      defaults={"lr": 0.05, "beta1": 0.9, "beta2": 0.95}, vector_block=None),
}
OPTIMIZER_NAMES = tuple(REGISTRY)


def two_scheme_beta2(lr: float, c: float = 10.0, p: float = 2.0) -> float:
    """The 2-scheme coupling 1 − β2 = C·η^p (p = 2 in the paper's analysis)."""
    beta2 = 1.0 - c * lr**p
    if not 0.0 <= beta2 < 1.0:
        raise ValueError(f"2-scheme gives β2 = 1 − {c}·{lr}^{p} = {beta2:.4g}, outside [0, 1): use a smaller learning rate or C")
    return beta2


def sgd(lr: Hyper, momentum: Hyper = 0.0) -> GradientTransformation:
    """θ ← θ − η m, m = μ m + g (torch.optim.SGD, dampening 0)."""
    return make_optimizer("sgd", lr=lr, beta1=momentum)


def rmsprop(lr: Hyper, beta2: Hyper = 0.99, eps: Hyper = 1e-8, bias_correction: bool = False) -> GradientTransformation:
    """θ ← θ − η g / (√v + ε) (torch.optim.RMSprop with alpha = β2)."""
    return make_optimizer("rmsprop", lr=lr, beta2=beta2, eps=eps, bias_correction=bias_correction)


def adame(lr: Hyper, lam: Hyper = 0.5, beta1: Hyper = 0.9, beta2: Hyper = 0.999, eps: Hyper = 1e-8,
          bias_correction: bool = True) -> GradientTransformation:
    """AdamE-λ: θ ← θ − η m̂ / (v̂^λ + ε)."""
    return make_optimizer("adame", lr=lr, lam=lam, beta1=beta1, beta2=beta2, eps=eps, bias_correction=bias_correction)


def adam(lr: Hyper, beta1: Hyper = 0.9, beta2: Hyper = 0.999, eps: Hyper = 1e-8,
         bias_correction: bool = True) -> GradientTransformation:
    """Adam = AdamE-½ (torch.optim.Adam when bias_correction=True)."""
    return make_optimizer("adam", lr=lr, beta1=beta1, beta2=beta2, eps=eps, bias_correction=bias_correction)


def adam_mini(lr: Hyper, block_size: int = 16, beta1: Hyper = 0.9, beta2: Hyper = 0.999, eps: Hyper = 1e-8,
              bias_correction: bool = True) -> GradientTransformation:
    """Adam with one second moment per block of `block_size` consecutive coordinates."""
    return make_optimizer("adam-mini", lr=lr, block_size=block_size, beta1=beta1, beta2=beta2, eps=eps,
                          bias_correction=bias_correction)


def adalayer(lr: Hyper, beta1: Hyper = 0.9, beta2: Hyper = 0.999, eps: Hyper = 1e-8,
             bias_correction: bool = True) -> GradientTransformation:
    """Adam with one second moment per parameter tensor."""
    return make_optimizer("adalayer", lr=lr, beta1=beta1, beta2=beta2, eps=eps, bias_correction=bias_correction)


def adafactor(lr: Hyper, beta1: Hyper = 0.9, beta2: Hyper = 0.999, eps: Hyper = 1e-8,
              bias_correction: bool = True) -> GradientTransformation:
    """Adafactor (factored second moment, no update clipping, no relative step size)."""
    return make_optimizer("adafactor", lr=lr, beta1=beta1, beta2=beta2, eps=eps, bias_correction=bias_correction)


def shampoo(lr: Hyper, beta1: Hyper = 0.9, beta2: Hyper = 0.999, eps: Hyper = 1e-8, bias_correction: bool = True,
            max_full_matrix_dim: int = statistics.FULL_MATRIX_MAX_DIM) -> GradientTransformation:
    """Shampoo with EMA Kronecker factors: L^{-1/4} M R^{-1/4}; full-matrix form for vectors (the
    registry's member with the default bound; this one lets the bound be chosen)."""
    return agm(statistics.kronecker(max_full_matrix_dim), lr=lr, beta1=beta1, beta2=beta2, eps=eps,
               bias_correction=bias_correction)


def make_optimizer(name: str, *, lr: Hyper, beta1: Hyper = 0.9, beta2: Hyper = 0.999, lam: Hyper = 0.5,
                   eps: Hyper = 1e-8, bias_correction: bool = True, block_size: int = 16) -> GradientTransformation:
    """Build a named optimizer from one set of hyperparameters (what configs, the engine and the
    named constructors above use), as REGISTRY describes it.

    `beta1` is SGD's heavy-ball momentum; a member without momentum ignores it; `lam` applies
    to a member with λ free only (else ½).
    """
    if name not in REGISTRY:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZER_NAMES)}")
    member = REGISTRY[name]
    if member.statistic is None:
        return agm(statistics.identity(), lr=lr, beta1=beta1, heavy_ball=True, bias_correction=False)
    return agm(member.statistic(block_size), lr=lr, beta1=0.0 if member.momentum == "none" else beta1, beta2=beta2,
               lam=lam if member.lam_free else 0.5, eps=eps, bias_correction=bias_correction)
