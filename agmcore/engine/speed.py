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
PER_STEP = (4.5e-10, 7.0e-9, 6.4e-8)  # a·d·n, b·d, c: seconds per step of one run
PER_LOG = 2.9e-10  # e·d·n²: seconds per logging point of one run (Φ(θ̄)'s Newton, the measures)


def estimated_seconds(configs: Sequence[RunConfig]) -> Optional[float]:
    """The race's predicted compute time in the compiled loop on CPU; None when some run goes
    another path (the torch group: matrix factorization, Shampoo, float32), which this model
    does not cover."""
    if not configs or not all(compiled_supports(c, torch.device("cpu")) for c in configs):
        return None
    total = START
    for c in configs:
        d, n = c.task.dim, c.task.samples
        logs = c.steps // c.log_every + 2
        projections = 2 if c.manifold_metrics else 1  # Φ(θ_t) too
        total += c.steps * (PER_STEP[0] * d * n + PER_STEP[1] * d + PER_STEP[2])
        total += logs * projections * PER_LOG * d * n * n
    return total
