"""Theory oracles for the diagonal network: the interpolators each implicit bias predicts.

    SGD  (tr H ↔ 4‖w‖₁):          w₁ = argmin ‖w‖₁        s.t. Z w = y   (a linear program)
    Adam (tr Diag(H)^½ ↔ 2Σ|w|^½): w½ = argmin Σ_j |w_j|^½ s.t. Z w = y   (non-convex)

w½ is found by iteratively reweighted ℓ1 (Candès, Wakin, Boyd 2008): starting from w₁, solve
argmin Σ c_j |w_j| s.t. Z w = y with c_j = (|w_j| + ε)^{-½}, shrinking ε; then again from
`restarts` random reweightings (seeded), keeping the best. The result is a local minimiser of
Σ|w|^½ over the interpolators, never worse than w₁ on that objective; the restarts make the
global one likely on small problems (checked against brute force in the tests).
"""
from __future__ import annotations

from typing import Optional

import numpy as np


def weighted_l1_interpolator(z: np.ndarray, y: np.ndarray, weights: Optional[np.ndarray] = None) -> np.ndarray:
    """argmin Σ c_j |w_j| s.t. Z w = y, as an LP over w = p − q with p, q ≥ 0."""
    from scipy.optimize import linprog  # here, not at import: a run without oracles starts sooner

    n, d = z.shape
    c = np.ones(d) if weights is None else weights
    result = linprog(np.concatenate([c, c]), A_eq=np.hstack([z, -z]), b_eq=y, bounds=(0, None), method="highs")
    if result.status != 0:
        raise ValueError(f"no interpolator found: {result.message}")
    return result.x[:d] - result.x[d:]


def min_l1_interpolator(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    return weighted_l1_interpolator(z, y)


def _reweighted(z: np.ndarray, y: np.ndarray, w: np.ndarray, iterations: int) -> np.ndarray:
    """IRL1 for Σ|w|^½ from the starting point w; returns the best iterate."""
    best, best_value = w, np.sum(np.sqrt(np.abs(w)))
    eps = max(np.abs(w).max(), 1e-12)
    for _ in range(iterations):
        previous, w = w, weighted_l1_interpolator(z, y, 1.0 / np.sqrt(np.abs(w) + eps))
        if eps <= 1e-9 and np.abs(w - previous).max() < 1e-10:
            break  # converged: the support and the values no longer move
        value = np.sum(np.sqrt(np.abs(w)))
        if value < best_value - 1e-12:
            best, best_value = w, value
        eps = max(eps / 10, 1e-9)
    return best


def min_lhalf_interpolator(z: np.ndarray, y: np.ndarray, iterations: int = 30, restarts: int = 10,
                           seed: int = 0) -> np.ndarray:
    """A local minimiser of Σ|w_j|^½ over {w : Z w = y} (see module docstring)."""
    rng = np.random.default_rng(seed)
    candidates = [_reweighted(z, y, min_l1_interpolator(z, y), iterations)]
    for _ in range(restarts):
        start = weighted_l1_interpolator(z, y, rng.exponential(size=z.shape[1]))
        candidates.append(_reweighted(z, y, start, iterations))
    return min(candidates, key=lambda w: np.sum(np.sqrt(np.abs(w))))
