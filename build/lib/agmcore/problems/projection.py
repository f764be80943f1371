"""Projection of θ onto the minimizer manifold Γ: the limit Φ(θ) of the clean gradient flow.

Measures taken at Φ(θ) separate the implicit bias from the label-noise fluctuation around Γ
(docs/science.md §5). A task may know Φ in closed form up to a root find (the diagonal network:
`DiagNetProblem.gradient_flow_limit`, exact to round-off); otherwise (the default of
`LabelNoiseRegression.gradient_flow_limit`) Φ is approximated by a short discretised flow

    Φ(θ) ≈ θ_K,   θ_{k+1} = θ_k − h ∇L(θ_k),   h = 1 / tr H(θ_0)

(tr H bounds the top eigenvalue of H near Γ, where H is positive semi-definite, so the step is
stable there), stopped once every run's clean loss is below `tolerance` or after `max_steps`.
"""
from __future__ import annotations

from typing import Dict

import torch

from agmcore.optimizers.hyper import column


def project_to_manifold(problem, params: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Φ(θ) for R runs at once: the problem's own flow limit (exact where the task knows it, else
    `gradient_flow_projection`; tasks/regression.py)."""
    return problem.gradient_flow_limit(params)


def gradient_flow_projection(problem, params: Dict[str, torch.Tensor], max_steps: int = 2000,
                             tolerance: float = 1e-12, check_every: int = 50) -> Dict[str, torch.Tensor]:
    """Run the clean gradient flow from `params` (R runs at once); returns the end point."""
    step = 1.0 / problem.hessian_trace(params).clamp_min(torch.finfo(next(iter(params.values())).dtype).tiny)
    theta = dict(params)
    for k in range(max_steps):
        loss, grads = problem.clean_loss_and_grads(theta)
        if k % check_every == 0 and bool((loss < tolerance).all()):
            break
        theta = {name: p - column(step, p) * grads[name] for name, p in theta.items()}
    return theta


def denoising_point(problem, averaged: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Where the denoised measures are read (docs/denoising.md): Φ(θ̄) where the task knows Φ to
    round-off; else θ̄ itself (the discretised flow can stall or diverge far from Γ, as at the
    near-zero initialisation of a deep factorization, and costs up to 2000 steps a point)."""
    return problem.gradient_flow_limit(averaged) if problem.exact_flow_limit else averaged
