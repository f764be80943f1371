"""The AGM update as a pure (init, update) pair over parameter dicts, optax-style.

    m_t = β1 m_{t-1} + (1 − d) g_t                 momentum; d = β1 (EMA) or 0 (heavy ball)
    v_t = β2 v_{t-1} + (1 − β2) V(g_t)             second-moment statistic (moments.py)
    θ_{t+1} = θ_t − η · (v̂_t^λ + ε)^{-1} m̂_t

Bias correction (optional): m̂ = m / (1 − β1^t) for EMA momentum, v̂ = v / (1 − β2^t).
Parameters are dicts name -> tensor of shape (R, *s); hyperparameters are floats or (R,)
tensors, so one update steps R runs with their own η, β1, β2, λ, ε.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, NamedTuple, Optional, Tuple

import torch

from agmcore.optimizers.hyper import Hyper, column, power_of
from agmcore.optimizers.moments import SecondMoment

Params = Dict[str, torch.Tensor]


class AGMState(NamedTuple):
    step: int  # number of updates applied so far
    momentum: Dict[str, Optional[torch.Tensor]]  # m per parameter (None when β1 is the float 0)
    moment: Dict[str, Any]  # the statistic's state per parameter


class GradientTransformation(NamedTuple):
    init: Callable[[Params], AGMState]
    update: Callable[[Params, AGMState], Tuple[Params, AGMState]]  # grads -> (updates, state)


def _is_zero(h: Hyper) -> bool:
    return not isinstance(h, torch.Tensor) and h == 0


def agm(
    statistic: SecondMoment,
    *,
    lr: Hyper,
    beta1: Hyper = 0.0,
    beta2: Hyper = 0.999,
    lam: Hyper = 0.5,
    eps: Hyper = 1e-8,
    heavy_ball: bool = False,
    bias_correction: bool = True,
) -> GradientTransformation:
    """The general AGM rule; `updates` returned are the increments θ_{t+1} − θ_t.

    heavy_ball=True uses m = β1 m + g (torch.optim.SGD's momentum) and no momentum
    correction; otherwise m is the EMA m = β1 m + (1 − β1) g.
    """
    use_momentum = not _is_zero(beta1)

    def init(params: Params) -> AGMState:
        return AGMState(
            step=0,
            momentum={k: torch.zeros_like(p) if use_momentum else None for k, p in params.items()},
            moment={k: statistic.init(p) for k, p in params.items()},
        )

    def update(grads: Params, state: AGMState) -> Tuple[Params, AGMState]:
        t = state.step + 1
        v_correction = 1 - power_of(beta2, t) if bias_correction else 1.0
        m_correction = 1 - power_of(beta1, t) if (bias_correction and use_momentum and not heavy_ball) else 1.0
        updates, momentum, moment = {}, {}, {}
        for k, g in grads.items():
            if use_momentum:
                b1 = column(beta1, g)
                m = state.momentum[k] * b1 + (g if heavy_ball else g * (1 - b1))
            else:
                m = g
            momentum[k] = m if use_momentum else None
            moment[k] = statistic.accumulate(state.moment[k], g, beta2)
            direction = statistic.precondition(moment[k], m, lam, eps, v_correction)
            updates[k] = -direction * column(lr / m_correction, g)
        return updates, AGMState(t, momentum, moment)

    return GradientTransformation(init, update)


def apply_updates(params: Params, updates: Params) -> Params:
    """θ + Δθ for every parameter."""
    return {k: p + updates[k] for k, p in params.items()}
