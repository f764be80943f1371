"""What both tasks share: a least-squares loss with fresh label noise on the targets.

    L_t(θ) = (1/2n) Σ_i (f_i(θ) − y_i − δ ζ_{t,i})²     (full batch; a minibatch reweights)

A task supplies `residual(params)` = f(θ) − y (R, n) and `grads_from(params, r)`, the
gradient of Σ_i r_i f_i(θ) for weights r (R, n); the rest follows here.
"""
from __future__ import annotations

from typing import Dict

import torch

from agmcore.problems.projection import gradient_flow_projection

Params = Dict[str, torch.Tensor]


class LabelNoiseRegression:
    """Mixin: needs self.noise (LabelNoise), self.delta (R, 1), self.task.samples."""

    exact_flow_limit = False  # whether gradient_flow_limit is Φ to round-off (else a discretised flow)

    def residual(self, params: Params) -> torch.Tensor:
        raise NotImplementedError

    def grads_from(self, params: Params, weights: torch.Tensor) -> Params:
        raise NotImplementedError

    def noisy_grads(self, params: Params):
        """Gradient of this step's label-noise loss, and the clean train loss (R,)."""
        zeta, batch = self.noise.next()
        clean = self.residual(params)
        noisy = clean - self.delta * zeta
        scaled = noisy / self.task.samples if batch is None else noisy * batch
        return self.grads_from(params, scaled), 0.5 * (clean * clean).mean(1)

    def gradient_flow_limit(self, params: Params) -> Params:
        """Φ(θ), where the clean gradient flow from θ ends: the discretised flow (projection.py);
        a task that knows Φ exactly overrides this."""
        return gradient_flow_projection(self, params)

    def clean_loss_and_grads(self, params: Params):
        """Clean loss (R,) and its gradient (used by the projection onto the manifold)."""
        r = self.residual(params)
        return 0.5 * (r * r).mean(1), self.grads_from(params, r / self.task.samples)
