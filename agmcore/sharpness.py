"""Sharpness measures built from a Hessian diagonal.

    tr(Diag(H)^p) = Σ_j max(H_jj, 0)^p

Off the minimizer manifold a diagonal entry can be negative; it is clamped at 0 (science.md §4).
p = 1 gives tr H (clamped), p = ½ Adam's measure, p = 1 − λ AdamE-λ's.
"""
from __future__ import annotations

from typing import Dict

import torch


def trace_of_power(diagonal: Dict[str, torch.Tensor], p: float) -> torch.Tensor:
    """Σ over all parameters of max(diag, 0)^p, per run: (R,)."""
    total = None
    for d in diagonal.values():
        term = d.clamp_min(0).pow(p).reshape(d.shape[0], -1).sum(1)
        total = term if total is None else total + term
    return total
