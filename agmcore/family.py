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

from typing import Callable, Dict

from . import statistics
from .hyper import Hyper
from .transforms import GradientTransformation, agm

OPTIMIZER_NAMES = ("sgd", "rmsprop", "adam", "adame", "adam-mini", "adalayer", "adafactor", "shampoo")


def two_scheme_beta2(lr: float, c: float = 10.0, p: float = 2.0) -> float:
    """The 2-scheme coupling 1 − β2 = C·η^p (p = 2 in the paper's analysis)."""
    beta2 = 1.0 - c * lr**p
    if not 0.0 <= beta2 < 1.0:
        raise ValueError(f"2-scheme gives β2 = 1 − {c}·{lr}^{p} = {beta2:.4g}, outside [0, 1): use a smaller learning rate or C")
    return beta2


def sgd(lr: Hyper, momentum: Hyper = 0.0) -> GradientTransformation:
    """θ ← θ − η m, m = μ m + g (torch.optim.SGD, dampening 0)."""
    return agm(statistics.identity(), lr=lr, beta1=momentum, heavy_ball=True, bias_correction=False)


def rmsprop(lr: Hyper, beta2: Hyper = 0.99, eps: Hyper = 1e-8, bias_correction: bool = False) -> GradientTransformation:
    """θ ← θ − η g / (√v + ε) (torch.optim.RMSprop with alpha = β2)."""
    return agm(statistics.elementwise(), lr=lr, beta2=beta2, eps=eps, bias_correction=bias_correction)


def adame(lr: Hyper, lam: Hyper = 0.5, beta1: Hyper = 0.9, beta2: Hyper = 0.999, eps: Hyper = 1e-8,
          bias_correction: bool = True) -> GradientTransformation:
    """AdamE-λ: θ ← θ − η m̂ / (v̂^λ + ε)."""
    return agm(statistics.elementwise(), lr=lr, beta1=beta1, beta2=beta2, lam=lam, eps=eps,
               bias_correction=bias_correction)


def adam(lr: Hyper, beta1: Hyper = 0.9, beta2: Hyper = 0.999, eps: Hyper = 1e-8,
         bias_correction: bool = True) -> GradientTransformation:
    """Adam = AdamE-½ (torch.optim.Adam when bias_correction=True)."""
    return adame(lr, 0.5, beta1, beta2, eps, bias_correction)


def adam_mini(lr: Hyper, block_size: int = 16, beta1: Hyper = 0.9, beta2: Hyper = 0.999, eps: Hyper = 1e-8,
              bias_correction: bool = True) -> GradientTransformation:
    """Adam with one second moment per block of `block_size` consecutive coordinates."""
    return agm(statistics.block_mean(block_size), lr=lr, beta1=beta1, beta2=beta2, eps=eps,
               bias_correction=bias_correction)


def adalayer(lr: Hyper, beta1: Hyper = 0.9, beta2: Hyper = 0.999, eps: Hyper = 1e-8,
             bias_correction: bool = True) -> GradientTransformation:
    """Adam with one second moment per parameter tensor."""
    return agm(statistics.layer_mean(), lr=lr, beta1=beta1, beta2=beta2, eps=eps, bias_correction=bias_correction)


def adafactor(lr: Hyper, beta1: Hyper = 0.9, beta2: Hyper = 0.999, eps: Hyper = 1e-8,
              bias_correction: bool = True) -> GradientTransformation:
    """Adafactor (factored second moment, no update clipping, no relative step size)."""
    return agm(statistics.factored(), lr=lr, beta1=beta1, beta2=beta2, eps=eps, bias_correction=bias_correction)


def shampoo(lr: Hyper, beta1: Hyper = 0.9, beta2: Hyper = 0.999, eps: Hyper = 1e-8, bias_correction: bool = True,
            max_full_matrix_dim: int = statistics.FULL_MATRIX_MAX_DIM) -> GradientTransformation:
    """Shampoo with EMA Kronecker factors: L^{-1/4} M R^{-1/4}; full-matrix form for vectors."""
    return agm(statistics.kronecker(max_full_matrix_dim), lr=lr, beta1=beta1, beta2=beta2, eps=eps,
               bias_correction=bias_correction)


def make_optimizer(name: str, *, lr: Hyper, beta1: Hyper = 0.9, beta2: Hyper = 0.999, lam: Hyper = 0.5,
                   eps: Hyper = 1e-8, bias_correction: bool = True, block_size: int = 16) -> GradientTransformation:
    """Build a named optimizer from one set of hyperparameters (what configs and the engine use).

    `beta1` is SGD's heavy-ball momentum; RMSProp ignores it; `lam` applies to AdamE only.
    """
    if name == "sgd":
        return sgd(lr, momentum=beta1)
    if name == "rmsprop":
        return rmsprop(lr, beta2, eps, bias_correction)
    statistic: Dict[str, Callable[[], statistics.SecondMoment]] = {
        "adam": statistics.elementwise,
        "adame": statistics.elementwise,
        "adam-mini": lambda: statistics.block_mean(block_size),
        "adalayer": statistics.layer_mean,
        "adafactor": statistics.factored,
        "shampoo": statistics.kronecker,
    }
    if name not in statistic:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZER_NAMES)}")
    return agm(statistic[name](), lr=lr, beta1=beta1, beta2=beta2, lam=lam if name == "adame" else 0.5, eps=eps,
               bias_correction=bias_correction)
