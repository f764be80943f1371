"""The AGM family as `torch.optim.Optimizer` subclasses, for anyone's `nn.Module`.

Each class builds the same functional transform the engine uses (family.py) and applies it to
every parameter tensor as a batch of one run. Statistics are per tensor: Adam-mini blocks run
over the flattened tensor, Adalayer averages over the tensor, Adafactor and Shampoo factor
matrices (Shampoo uses the full-matrix form on vectors).
"""
from __future__ import annotations

from typing import Callable, Dict, Optional, Tuple

import torch

from agmcore.optimizers import family
from agmcore.optimizers.transforms import GradientTransformation


class AGMOptimizer(torch.optim.Optimizer):
    """Base class: subclasses say how a param group's settings build a transform."""

    def _transform(self, group: Dict) -> GradientTransformation:
        raise NotImplementedError

    @torch.no_grad()
    def step(self, closure: Optional[Callable[[], torch.Tensor]] = None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            transform = self._transform(group)
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                grads = {"p": p.grad.unsqueeze(0)}
                if "agm" not in state:
                    state["agm"] = transform.init({"p": p.detach().unsqueeze(0)})
                updates, state["agm"] = transform.update(grads, state["agm"])
                p.add_(updates["p"][0])
        return loss


def _betas(group: Dict) -> Tuple[float, float]:
    return group["betas"]


class SGD(AGMOptimizer):
    """SGD with optional heavy-ball momentum (as torch.optim.SGD with dampening 0)."""

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    def _transform(self, group):
        return family.sgd(group["lr"], group["momentum"])


class RMSProp(AGMOptimizer):
    """RMSProp: v = α v + (1 − α) g², θ ← θ − η g / (√v + ε) (torch.optim.RMSprop)."""

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, bias_correction: bool = False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, bias_correction=bias_correction))

    def _transform(self, group):
        return family.rmsprop(group["lr"], group["alpha"], group["eps"], group["bias_correction"])


class AdamE(AGMOptimizer):
    """AdamE-λ: θ ← θ − η m̂ / (v̂^λ + ε); λ = ½ is Adam."""

    def __init__(self, params, lr: float = 1e-3, lam: float = 0.5, betas=(0.9, 0.999), eps: float = 1e-8,
                 bias_correction: bool = True):
        super().__init__(params, dict(lr=lr, lam=lam, betas=tuple(betas), eps=eps, bias_correction=bias_correction))

    def _transform(self, group):
        b1, b2 = _betas(group)
        return family.adame(group["lr"], group["lam"], b1, b2, group["eps"], group["bias_correction"])


class Adam(AdamE):
    """Adam (torch.optim.Adam when bias_correction=True; the paper's scripts use False)."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, bias_correction: bool = True):
        super().__init__(params, lr=lr, lam=0.5, betas=betas, eps=eps, bias_correction=bias_correction)


class _AdamLike(AGMOptimizer):
    """Shared constructor of the Adam variants with another statistic."""

    factory = None  # a family function (lr, beta1, beta2, eps, bias_correction, **extra)

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, bias_correction: bool = True,
                 **extra):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, bias_correction=bias_correction, **extra))

    def _extra(self, group) -> Dict:
        return {}

    def _transform(self, group):
        b1, b2 = _betas(group)
        return type(self).factory(group["lr"], beta1=b1, beta2=b2, eps=group["eps"],
                                  bias_correction=group["bias_correction"], **self._extra(group))


class AdamMini(_AdamLike):
    """Adam with one second moment per block of `block_size` coordinates of each tensor."""

    factory = staticmethod(family.adam_mini)

    def __init__(self, params, lr: float = 1e-3, block_size: int = 16, **kwargs):
        super().__init__(params, lr=lr, block_size=block_size, **kwargs)

    def _extra(self, group):
        return {"block_size": group["block_size"]}


class Adalayer(_AdamLike):
    """Adam with one second moment per parameter tensor."""

    factory = staticmethod(family.adalayer)


class Adafactor(_AdamLike):
    """Adafactor without update clipping: factored row/column second moment on matrices."""

    factory = staticmethod(family.adafactor)


class Shampoo(_AdamLike):
    """Shampoo with EMA Kronecker factors; full-matrix preconditioner on vectors up to a bound."""

    factory = staticmethod(family.shampoo)
