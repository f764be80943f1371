"""Curvature of any scalar loss of a flat parameter vector, through torch.func.

Exact:      diag(H)_j = e_jᵀ H e_j, by Hessian-vector products vmapped over basis vectors
            (chunked; O(P) HVPs for P parameters, for models small enough).
Hutchinson: tr H ≈ mean_k z_kᵀ H z_k and diag H ≈ mean_k z_k ⊙ H z_k with Rademacher z_k;
            both unbiased, returned with their standard error (sample std / √K).
For the two tasks the closed forms in tasks/ are faster; these serve any other model and
check the closed forms.
"""
from __future__ import annotations

from typing import Callable, NamedTuple, Optional

import torch
from torch.func import grad, jvp, vmap

Loss = Callable[[torch.Tensor], torch.Tensor]


def hvp(loss: Loss, theta: torch.Tensor, vectors: torch.Tensor) -> torch.Tensor:
    """H(θ) v for each row v of `vectors` (K, P): forward-over-reverse."""
    single = lambda v: jvp(grad(loss), (theta,), (v,))[1]  # noqa: E731
    return vmap(single)(vectors)


def exact_hessian_diagonal(loss: Loss, theta: torch.Tensor, chunk: int = 256) -> torch.Tensor:
    """diag H(θ), exactly, from P Hessian-vector products in chunks of `chunk`."""
    p = theta.numel()
    out = torch.empty(p, dtype=theta.dtype, device=theta.device)
    for start in range(0, p, chunk):
        idx = torch.arange(start, min(start + chunk, p), device=theta.device)
        basis = torch.zeros(len(idx), p, dtype=theta.dtype, device=theta.device)
        basis[torch.arange(len(idx)), idx] = 1
        out[idx] = hvp(loss, theta, basis)[torch.arange(len(idx)), idx]
    return out


class Estimate(NamedTuple):
    value: torch.Tensor  # the estimate (scalar for a trace, (P,) for a diagonal)
    stderr: torch.Tensor  # its standard error


def _rademacher(samples: int, p: int, like: torch.Tensor, generator: Optional[torch.Generator]) -> torch.Tensor:
    z = torch.randint(0, 2, (samples, p), generator=generator).to(like.device, like.dtype)
    return 2 * z - 1


def hutchinson_diagonal(loss: Loss, theta: torch.Tensor, samples: int = 64,
                        generator: Optional[torch.Generator] = None) -> Estimate:
    """diag H ≈ mean z ⊙ Hz, with the standard error per coordinate."""
    z = _rademacher(samples, theta.numel(), theta, generator)
    draws = z * hvp(loss, theta, z)
    return Estimate(draws.mean(0), draws.std(0) / samples**0.5)


def hutchinson_trace(loss: Loss, theta: torch.Tensor, samples: int = 64,
                     generator: Optional[torch.Generator] = None) -> Estimate:
    """tr H ≈ mean zᵀ H z, with its standard error."""
    z = _rademacher(samples, theta.numel(), theta, generator)
    draws = (z * hvp(loss, theta, z)).sum(1)
    return Estimate(draws.mean(), draws.std() / samples**0.5)
