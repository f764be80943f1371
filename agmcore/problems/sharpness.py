"""Sharpness measures built from a Hessian diagonal.

    tr(Diag(H)^p) = Σ_j max(H_jj, 0)^p

Off the minimizer manifold a diagonal entry can be negative; it is clamped at 0 (docs/science.md §4).
p = 1 gives tr H (clamped), p = ½ Adam's measure, p = 1 − λ AdamE-λ's.
"""
from __future__ import annotations

from typing import Dict

import torch

from agmcore.optimizers.family import REGISTRY
from agmcore.optimizers.hyper import Hyper, column


def trace_of_power(diagonal: Dict[str, torch.Tensor], p: Hyper) -> torch.Tensor:
    """Σ over all parameters of max(diag, 0)^p, per run: (R,); p a float or a per-run (R,) tensor."""
    return _per_run_sum(d.clamp_min(0).pow(column(p, d)) for d in diagonal.values())


def _per_run_sum(terms) -> torch.Tensor:
    """Σ over every entry of every (R, ...) tensor in `terms`, per run: (R,)."""
    return sum(t.reshape(t.shape[0], -1).sum(1) for t in terms)


def implied_sharpness(name: str, diagonal: Dict[str, torch.Tensor], lam: Hyper = 0.5,
                      block_size: int = 16) -> torch.Tensor:
    """tr(S·H) with S the optimizer's preconditioner at its label-noise stationary point.

    Under label noise the gradient-noise covariance is ∝ H, so the second moment v settles at
    V(diag H) (the statistic V applied to H's diagonal), and with S = (V^λ)^{-1} held fixed
    tr(S·H) = Σ_j H_jj / V_j^λ (a diagonal S only needs diag H). Hence: SGD → tr H; Adam →
    tr(Diag(H)^½); AdamE-λ → tr(Diag(H)^{1−λ}); Adam-mini → Σ_blocks |b|·mean_b(H)^½;
    Adalayer → Σ_tensors |T|·mean_T(H)^½; Adafactor → Σ_ij H_ij / (r_i c_j / Σr)^½ for
    matrices. Entries are clamped at 0 as in trace_of_power. Shampoo's S is not diagonal, and
    tr(S·H) then needs H's off-diagonal entries: not computed here (raises).
    """
    member = REGISTRY.get(name)
    if member is None or not member.diagonal:
        raise ValueError(f"no diagonal preconditioner for {name}: its implied sharpness needs the full Hessian")
    if member.statistic is None:  # SGD: S = I
        return trace_of_power(diagonal, 1.0)
    lam = lam if member.lam_free else 0.5
    stat = member.statistic(block_size)
    if stat.name == "elementwise":
        return trace_of_power(diagonal, 1.0 - lam)

    def s_times_h(d: torch.Tensor) -> torch.Tensor:
        h = d.clamp_min(0)
        state = stat.accumulate(stat.init(h), h.sqrt(), 0.0)  # β2 = 0, g = √H: V of diag H itself
        return torch.nan_to_num(stat.precondition(state, h, lam, 0.0, 1.0), nan=0.0)  # H_jj / V_j^λ (ε = 0)

    return _per_run_sum(s_times_h(d) for d in diagonal.values())
