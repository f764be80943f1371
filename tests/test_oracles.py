"""The theory oracles: feasibility and optimality against brute force on small instances."""
import itertools

import numpy as np
import pytest

from agmcore.engine.config import DiagNetTask
from agmcore.problems.diag_net import draw_data
from agmcore.problems.oracles import min_l1_interpolator, min_lhalf_interpolator


def _basic_solutions(z, y):
    """All basic interpolators (n columns, the rest zero): the ℓ1 and ℓ^½ minima are among them."""
    n, d = z.shape
    for cols in itertools.combinations(range(d), n):
        sub = z[:, cols]
        if abs(np.linalg.det(sub)) > 1e-9:
            w = np.zeros(d)
            w[list(cols)] = np.linalg.solve(sub, y)
            yield w


@pytest.mark.parametrize("seed", range(6))
def test_oracles_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    z, y = rng.standard_normal((4, 9)), rng.standard_normal(4)
    basics = list(_basic_solutions(z, y))
    w1 = min_l1_interpolator(z, y)
    assert np.allclose(z @ w1, y, atol=1e-8)
    assert np.abs(w1).sum() == pytest.approx(min(np.abs(b).sum() for b in basics), rel=1e-7)
    wh = min_lhalf_interpolator(z, y, restarts=30)
    assert np.allclose(z @ wh, y, atol=1e-7)
    best = min(np.sqrt(np.abs(b)).sum() for b in basics)
    assert np.sqrt(np.abs(wh)).sum() <= np.sqrt(np.abs(w1)).sum() + 1e-9
    assert np.sqrt(np.abs(wh)).sum() == pytest.approx(best, rel=1e-6)  # the restarts find the global one here


def test_oracles_on_the_sparse_task():
    """With few samples ℓ^½ recovers a sparse truth where ℓ1 does not (the paper's point)."""
    task = DiagNetTask(dim=100, samples=12, sparsity=3)
    recovered = {"l1": 0, "lhalf": 0}
    for seed in range(5):
        w_star, z = (t.numpy() for t in draw_data(task, seed))
        y = z @ w_star
        recovered["l1"] += np.abs(min_l1_interpolator(z, y) - w_star).max() < 1e-6
        recovered["lhalf"] += np.abs(min_lhalf_interpolator(z, y) - w_star).max() < 1e-6
    assert recovered["lhalf"] > recovered["l1"]
