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

import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

import torch

from agmcore.optimizers import moments
from agmcore.optimizers.hyper import Hyper
from agmcore.optimizers.transforms import GradientTransformation, agm


def _state_numbers(shape: tuple) -> int:
    """Numbers of second-moment state for one parameter tensor: one per entry."""
    return math.prod(shape)


def _kronecker_state_numbers(shape: tuple) -> int:
    """Shampoo's factors: one d×d for a vector, m×m plus n×n for an m×n matrix."""
    return shape[0] ** 2 if len(shape) == 1 else shape[0] ** 2 + shape[1] ** 2


@dataclass(frozen=True)
class OptimizerDescriptor:
    """Everything the code knows about one named optimizer; every module reads it from REGISTRY
    (no module branches on an optimizer's name: tests/test_descriptors.py)."""

    label: str  # how pages and verdicts name it
    color: str  # its colour in every figure (Okabe–Ito, then Tol's; docs/figures.md)
    statistic: Optional[Callable[[int], moments.SecondMoment]]  # block_size -> V; None: SGD (no preconditioner)
    momentum: str  # "heavy ball" (SGD: m = β1 m + g), "ema" (m = β1 m + (1 − β1) g), "none" (β1 must be 0)
    defaults: Dict[str, float]  # the Playground's η, β1, β2
    lam_free: bool = False  # AdamE: λ is a hyperparameter (else ½, or no preconditioner)
    diagonal: bool = True  # S is diagonal, so tr(S·H) needs only diag(H) (sharpness.implied_sharpness)
    bias_correction_default: bool = True  # RMSProp: False, as torch.optim.RMSprop
    bias_toggle: bool = True  # the Playground's bias-correction switch applies (RMSProp keeps torch's form)
    # on a vector of d coordinates, how many share one second moment, from (block_size, d); None: the
    # compiled diagonal-network loop (compiled_group.py) has no form for it
    vector_block: Optional[Callable[[int, int], int]] = lambda block_size, d: 1
    # on a matrix factor of `size` entries (row-major), the same for the compiled matrix-factorization
    # loop (compiled_matrix_group.py); None: it has no form for it (Adafactor's factored moment, Shampoo)
    matrix_block: Optional[Callable[[int, int], int]] = lambda block_size, size: 1
    state_numbers: Callable[[tuple], int] = _state_numbers  # second-moment numbers for a parameter shape
    max_vector: Optional[int] = None  # the largest vector it preconditions (Shampoo's full-matrix bound)
    torch_batch_invariant: bool = True  # its torch path gives each run the same bits in any batch (not batched eigh)
    # torch.optim's twin: (hyperparameters, params) -> optimizer, or None where this form has none
    torch_twin: Optional[Callable[[Any, list], Optional[torch.optim.Optimizer]]] = None

    @property
    def preconditioned(self) -> bool:
        """Whether it divides by a second-moment statistic (all but SGD)."""
        return self.statistic is not None

    @property
    def beta1_default(self) -> float:
        """β1 when none is given: EMA members 0.9; SGD (plain) and members without momentum 0."""
        return 0.9 if self.momentum == "ema" else 0.0

    @property
    def knobs(self) -> Tuple[str, ...]:
        """The hyperparameters a user sets for it (the Playground's per-optimizer controls)."""
        return ("lr",) + (("beta1",) if self.momentum != "none" else ()) + \
            (("beta2",) if self.preconditioned else ()) + (("lam",) if self.lam_free else ())


def _sgd_twin(o, params):
    return torch.optim.SGD(params, lr=o.lr, momentum=o.beta1)


def _rmsprop_twin(o, params):
    return None if o.bias_correction else torch.optim.RMSprop(params, lr=o.lr, alpha=o.beta2, eps=o.eps)


def _adam_twin(o, params):
    return torch.optim.Adam(params, lr=o.lr, betas=(o.beta1, o.beta2), eps=o.eps) if o.bias_correction else None


# Okabe & Ito's colour-blind-safe palette for the first six (SGD blue and Adam orange also differ
# in lightness, so they stay apart in grayscale), Tol's wine and indigo for the last two; black and
# greys are left to markers (the truth, the oracles: presentation/figures.py MARKER_COLORS)
REGISTRY: Dict[str, OptimizerDescriptor] = {
    "sgd": OptimizerDescriptor("SGD", "#0072B2", None, "heavy ball", {"lr": 0.1, "beta1": 0.0, "beta2": 0.999},
                               torch_twin=_sgd_twin),
    "rmsprop": OptimizerDescriptor("RMSProp", "#009E73", lambda b: moments.elementwise(), "none",
                                   {"lr": 0.01, "beta1": 0.0, "beta2": 0.95}, bias_correction_default=False,
                                   bias_toggle=False, torch_twin=_rmsprop_twin),
    "adam": OptimizerDescriptor("Adam", "#E69F00", lambda b: moments.elementwise(), "ema",
                                {"lr": 0.1, "beta1": 0.9, "beta2": 0.9}, torch_twin=_adam_twin),
    "adame": OptimizerDescriptor("AdamE", "#CC79A7", lambda b: moments.elementwise(), "ema",
                                 {"lr": 0.1, "beta1": 0.9, "beta2": 0.95}, lam_free=True),
    "adam-mini": OptimizerDescriptor("Adam-mini", "#D55E00", moments.block_mean, "ema",
                                     {"lr": 0.1, "beta1": 0.9, "beta2": 0.95}, vector_block=lambda block_size, d: block_size,
                                     matrix_block=lambda block_size, size: block_size),
    "adalayer": OptimizerDescriptor("Adalayer", "#56B4E9", lambda b: moments.layer_mean(), "ema",
                                    {"lr": 0.1, "beta1": 0.9, "beta2": 0.95}, vector_block=lambda block_size, d: d,
                                    matrix_block=lambda block_size, size: size),
    "adafactor": OptimizerDescriptor("Adafactor", "#882255", lambda b: moments.factored(), "ema",
                                     {"lr": 0.1, "beta1": 0.9, "beta2": 0.95}, matrix_block=None),
    "shampoo": OptimizerDescriptor("Shampoo", "#332288", lambda b: moments.kronecker(), "ema",
                                   {"lr": 0.05, "beta1": 0.9, "beta2": 0.95}, diagonal=False, vector_block=None, matrix_block=None,
                                   state_numbers=_kronecker_state_numbers, max_vector=moments.FULL_MATRIX_MAX_DIM,
                                   torch_batch_invariant=False),
}
OPTIMIZER_NAMES = tuple(REGISTRY)
BASELINE = "sgd"  # the optimizer every other is measured against (verdicts, relative values)


TWO_SCHEME_C = 10.0  # the 2-scheme's C: 1 − β2 = C·η²


def two_scheme_beta2(lr: float, c: float = TWO_SCHEME_C, p: float = 2.0) -> float:
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
            max_full_matrix_dim: int = moments.FULL_MATRIX_MAX_DIM) -> GradientTransformation:
    """Shampoo with EMA Kronecker factors: L^{-1/4} M R^{-1/4}; full-matrix form for vectors (the
    registry's member with the default bound; this one lets the bound be chosen)."""
    return agm(moments.kronecker(max_full_matrix_dim), lr=lr, beta1=beta1, beta2=beta2, eps=eps,
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
    if not member.preconditioned:
        return agm(moments.identity(), lr=lr, beta1=beta1, heavy_ball=True, bias_correction=False)
    return agm(member.statistic(block_size), lr=lr, beta1=0.0 if member.momentum == "none" else beta1, beta2=beta2,
               lam=lam if member.lam_free else 0.5, eps=eps, bias_correction=bias_correction)
