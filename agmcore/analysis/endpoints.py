"""Every optimizer's sharpness measure at a finished run's end point (a race table).

A run records tr(S·H) for its *own* optimizer only. To say "each optimizer ends lower on its
own measure" the measure of optimizer X must also be evaluated at the other runs' end points:
with S_X = V_X(diag H)^{-λ} a function of diag H alone (sharpness.implied_sharpness), this
needs just the Hessian diagonal at each end point, rebuilt here from the stored parameters and
the run's data (seeded, so the same data). Optionally at the projection Φ(θ_T) onto Γ.
"""
from __future__ import annotations

from typing import Dict, Sequence

import torch

from agmcore.engine.config import OptimizerConfig, RunConfig
from agmcore.engine.device import dtype_of
from agmcore.engine.runner import problem_for
from agmcore.optimizers.family import REGISTRY
from agmcore.optimizers.naming import measure_name
from agmcore.problems.projection import project_to_manifold
from agmcore.problems.sharpness import implied_sharpness


def measures_at_end(config: RunConfig, doc: Dict, optimizers: Sequence[OptimizerConfig],
                    projected: bool = False, averaged: bool = False) -> Dict[str, float]:
    """{measure_name(X): tr(S_X·H)} at the run's final parameters θ_T, or at its tail average θ̄
    (`averaged`, runs with tail_average > 0), either one optionally projected onto Γ."""
    dtype = dtype_of(config.dtype)
    problem = problem_for(config.task, [config.seed], [config.task.label_noise], dtype, torch.device("cpu"))
    source = doc["params_avg"] if averaged else doc["params"]
    params = {k: torch.tensor(v, dtype=dtype).unsqueeze(0) for k, v in source.items()}
    if projected:
        params = project_to_manifold(problem, params)
    diag = problem.hessian_diagonal(params)
    return {measure_name(o): float(implied_sharpness(o.name, diag, o.lam, o.block_size)[0])
            for o in optimizers if REGISTRY[o.name].diagonal}


def race_table(configs: Sequence[RunConfig], docs: Sequence[Dict], projected: bool = False,
               averaged: bool = False) -> Dict[str, Dict]:
    """For every cell key: every (diagonal-preconditioner) optimizer's measure at that end point."""
    optimizers = list({measure_name(c.optimizer): c.optimizer for c in configs}.values())
    return {c.key: measures_at_end(c, d, optimizers, projected, averaged) for c, d in zip(configs, docs)}


def own_measure_wins(configs: Sequence[RunConfig], table: Dict[str, Dict], rival: str = "sgd") -> Dict[int, Dict[str, bool]]:
    """From a race_table of `configs`: per seed, per optimizer X ≠ rival, is X's measure lower at
    X's end point than at the rival's, and the rival's measure lower at the rival's end point than at X's?"""
    by_seed: Dict[int, Dict[str, RunConfig]] = {}
    for c in configs:
        by_seed.setdefault(c.seed, {})[measure_name(c.optimizer)] = c
    out: Dict[int, Dict[str, bool]] = {}
    for seed, cells in sorted(by_seed.items()):
        base = table[cells[rival].key]
        out[seed] = {}
        for name, c in cells.items():
            if name == rival or name not in table[c.key]:
                continue
            own = table[c.key]
            out[seed][f"{name} lower on {name}'s measure"] = own[name] < base[name]
            out[seed][f"{rival} lower on {rival}'s measure than {name}"] = base[rival] < own[rival]
    return out
