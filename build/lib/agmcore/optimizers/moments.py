"""Second-moment statistics V(g) of the AGM family, and how each preconditions.

The family's update (docs/science.md §2):

    v_t = β2 v_{t-1} + (1 − β2) V(g_t)
    θ_{t+1} = θ_t − η · S(v̂_t) m_t,      S(v) = (v^λ + ε)^{-1},   v̂ = v / c

with c = 1 − β2^t under bias correction, else c = 1. A statistic is three pure functions
over one parameter of shape (R, *s) (R = runs):

    init(p) -> state                      zeros in the statistic's own (compressed) shape
    accumulate(state, g, β2) -> state     the EMA above
    precondition(state, m, λ, ε, c) -> S(v̂) m

Hyperparameters are floats or per-run tensors of shape (R,).
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

import torch

from agmcore.optimizers.hyper import Hyper, column

# A full-matrix (Shampoo on a vector) preconditioner of this size or less is allowed.
FULL_MATRIX_MAX_DIM = 2048


class SecondMoment(NamedTuple):
    """One way of keeping and applying the second moment (see module docstring)."""

    name: str
    init: Callable[[torch.Tensor], Any]
    accumulate: Callable[[Any, torch.Tensor, Hyper], Any]
    precondition: Callable[[Any, torch.Tensor, Hyper, Hyper, Hyper], torch.Tensor]


def _ema(old: torch.Tensor, new: torch.Tensor, beta2: Hyper) -> torch.Tensor:
    """β2·old + (1 − β2)·new, β2 broadcast per run."""
    b = column(beta2, old)
    return old * b + new * (1 - b)


def _denominator(v_hat: torch.Tensor, lam: Hyper, eps: Hyper) -> torch.Tensor:
    """v̂^λ + ε, with the plain square root when λ is the float 0.5."""
    powered = v_hat.sqrt() if (not isinstance(lam, torch.Tensor) and lam == 0.5) else v_hat.pow(column(lam, v_hat))
    return powered + column(eps, v_hat)


# ---------------------------------------------------------------- identity (SGD)
def identity() -> SecondMoment:
    """No second moment: S = I (SGD, with or without momentum)."""
    return SecondMoment(
        name="identity",
        init=lambda p: None,
        accumulate=lambda state, g, beta2: None,
        precondition=lambda state, m, lam, eps, c: m,
    )


# ---------------------------------------------------------------- reduced statistics
def _reduced(name: str, reduce: Callable, expand: Callable) -> SecondMoment:
    """A statistic kept as reduce(g⊙g) and applied after expand(...) back to p's shape."""

    def precondition(v, m, lam, eps, c):
        v_hat = v / column(c, v)
        return m / expand(_denominator(v_hat, lam, eps), m)

    return SecondMoment(
        name=name,
        init=lambda p: torch.zeros_like(reduce(p)),
        accumulate=lambda v, g, beta2: _ema(v, reduce(g * g), beta2),
        precondition=precondition,
    )


def elementwise() -> SecondMoment:
    """V(g) = g⊙g (RMSProp, Adam, AdamE-λ)."""
    return _reduced("elementwise", lambda x: x, lambda s, m: s)


def block_mean(block_size: int) -> SecondMoment:
    """V(g) = mean of g⊙g over consecutive blocks of the flattened parameter (Adam-mini).

    The last block may be shorter. State: one scalar per block, shape (R, ⌈N/B⌉).
    """
    if block_size < 1:
        raise ValueError(f"block size must be at least 1, got {block_size}")

    def reduce(x):
        flat = x.reshape(x.shape[0], -1)
        n = flat.shape[1]
        pad = (-n) % block_size
        sums = torch.nn.functional.pad(flat, (0, pad)).view(x.shape[0], -1, block_size).sum(-1)
        counts = torch.full((sums.shape[1],), float(block_size), dtype=x.dtype, device=x.device)
        counts[-1] = block_size - pad
        return sums / counts

    def expand(s, m):
        n = m[0].numel()
        return s.repeat_interleave(block_size, dim=1)[:, :n].reshape(m.shape)

    return _reduced(f"block_mean({block_size})", reduce, expand)


def layer_mean() -> SecondMoment:
    """V(g) = mean of g⊙g over the whole parameter tensor (Adalayer). State: (R, 1)."""
    return _reduced(
        "layer_mean",
        lambda x: x.reshape(x.shape[0], -1).mean(1, keepdim=True),
        lambda s, m: column(s.view(-1), m),
    )


# ---------------------------------------------------------------- factored (Adafactor)
def factored() -> SecondMoment:
    """Adafactor without update clipping, for matrices (R, a, b); vectors fall back to g⊙g.

    r = EMA(row sums of G⊙G), c = EMA(column sums); v̂_ij = r_i c_j / Σ_i r_i.
    """
    plain = elementwise()

    def init(p):
        if p.dim() < 3:
            return plain.init(p)
        return (p.new_zeros(p.shape[:-1]), p.new_zeros(p.shape[:-2] + p.shape[-1:]))

    def accumulate(state, g, beta2):
        if g.dim() < 3:
            return plain.accumulate(state, g, beta2)
        rows, cols = state
        g2 = g * g
        return (_ema(rows, g2.sum(-1), beta2), _ema(cols, g2.sum(-2), beta2))

    def precondition(state, m, lam, eps, c):
        if m.dim() < 3:
            return plain.precondition(state, m, lam, eps, c)
        rows, cols = state
        v = rows.unsqueeze(-1) * cols.unsqueeze(-2) / rows.sum(-1, keepdim=True).unsqueeze(-1).clamp_min(torch.finfo(m.dtype).tiny)
        v_hat = v / column(c, v)
        return m / _denominator(v_hat, lam, eps)

    return SecondMoment("factored", init, accumulate, precondition)


# ---------------------------------------------------------------- Kronecker (Shampoo)
def matrix_inverse_power(a: torch.Tensor, power: Hyper, eps: Hyper) -> torch.Tensor:
    """(A + εI)^{-power} for symmetric PSD A of shape (R, k, k), via eigh.

    ε sits inside the root, as in Shampoo (Gupta et al. 2018, L₀ = εI): a rank-deficient
    factor (fewer gradients seen than dimensions) then has a well-conditioned root instead of
    raising round-off noise to a small power. Eigenvalues are clamped at 0 first.
    """
    sym = 0.5 * (a + a.transpose(-1, -2))
    evals, evecs = torch.linalg.eigh(sym)
    evals = evals.clamp_min(0) + column(eps, evals)
    scaled = evals.pow(-column(power, evals))
    return (evecs * scaled.unsqueeze(-2)) @ evecs.transpose(-1, -2)


def kronecker(max_full_matrix_dim: int = FULL_MATRIX_MAX_DIM) -> SecondMoment:
    """Shampoo. For a matrix G: L = EMA(G Gᵀ), R = EMA(Gᵀ G) and the update
    (L̂ + εI)^{-λ/2} M (R̂ + εI)^{-λ/2} (λ = ½ gives Shampoo's L^{-1/4} M R^{-1/4}).

    For a vector g of size d ≤ max_full_matrix_dim: the full-matrix form
    L = EMA(g gᵀ), update (L̂ + εI)^{-λ} m. Larger vectors are refused (d² memory).
    """

    def check_vector(p):
        d = p.shape[-1]
        if d > max_full_matrix_dim:
            raise ValueError(
                f"Shampoo on a vector of size {d} needs a {d}×{d} full-matrix preconditioner; "
                f"the bound is {max_full_matrix_dim}. Use a smaller dimension or another optimizer."
            )

    def outer(x):  # (R, a, b) -> (R, a, a)
        return x @ x.transpose(-1, -2)

    def init(p):
        if p.dim() == 2:
            check_vector(p)
            d = p.shape[-1]
            return p.new_zeros(p.shape[0], d, d)
        if p.dim() != 3:
            raise ValueError(f"Shampoo supports vector and matrix parameters, got shape {tuple(p.shape[1:])}")
        return (p.new_zeros(p.shape[0], p.shape[1], p.shape[1]), p.new_zeros(p.shape[0], p.shape[2], p.shape[2]))

    def accumulate(state, g, beta2):
        if g.dim() == 2:
            return _ema(state, g.unsqueeze(-1) * g.unsqueeze(-2), beta2)
        left, right = state
        return (_ema(left, outer(g), beta2), _ema(right, outer(g.transpose(-1, -2)), beta2))

    def precondition(state, m, lam, eps, c):
        if m.dim() == 2:
            full = state / column(c, state)
            return (matrix_inverse_power(full, lam, eps) @ m.unsqueeze(-1)).squeeze(-1)
        left, right = (s / column(c, s) for s in state)
        return matrix_inverse_power(left, lam / 2, eps) @ m @ matrix_inverse_power(right, lam / 2, eps)

    return SecondMoment("kronecker", init, accumulate, precondition)

