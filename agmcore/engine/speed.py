"""How long a race takes in the compiled loop, before it runs: what the Playground reads to decide
whether a moved slider re-runs at once (docs/benchmarks.md, "Explore by slider").

A run of T steps on d coordinates and n samples, logged at L points, costs about

    T·(a·d·n + b·d + c) + L·e·d·n²     seconds (the step; Φ(θ̄)'s Newton at each logging point)

plus one START for the race. The constants were fitted on the 2-core development machine
(`python -m bench.bench_speed_model` refits them and prints each case's ratio, predicted over
measured); on another machine the prediction scales with its speed.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch

from agmcore.engine.compiled_group import compiled_supports
from agmcore.engine.config import RunConfig

START = 0.05  # seconds: building the groups, the first logging point
# seconds per unit of each of terms(): a·d·n, b·d, c per step of one run; e·d·n² per logging point
COSTS = (4.5e-10, 7.0e-9, 6.4e-8, 2.9e-10)


def terms(config: RunConfig) -> tuple:
    """One run's cost terms: (T·d·n, T·d, T, L·d·n²), with L its logging points (twice over where
    Φ(θ_t) is measured too)."""
    d, n, steps = config.task.dim, config.task.samples, config.steps
    logs = (steps // config.log_every + 2) * (2 if config.manifold_metrics else 1)
    return steps * d * n, steps * d, steps, logs * d * n * n


def estimated_seconds(configs: Sequence[RunConfig]) -> Optional[float]:
    """The race's predicted compute time in the compiled loop on CPU, START + Σ COSTS·terms over
    its runs; None when some run goes another path (the torch group: matrix factorization,
    Shampoo, float32), which this model does not cover."""
    if not configs or not all(compiled_supports(c, torch.device("cpu")) for c in configs):
        return None
    return START + sum(cost * term for c in configs for cost, term in zip(COSTS, terms(c)))
