"""Which running average θ̄ reads the bias of a live race (docs/denoising.md)?

Steps each optimizer of a Playground race one step at a time and prints, at a tenth, half,
nine tenths and the end of the run, the measures at Φ of: the ω-polynomial average
θ̄_t = θ̄_{t−1} + (ω+1)/(t+ω)·(θ_t − θ̄_{t−1}) for several ω, an EMA of horizon c/η² steps, the
last iterate θ_t, and (at the end) the mean iterate of the last quarter, the experiments' reading.

    PYTHONPATH=. python docs/calibration/denoising_window.py --seeds 0,7,31
    PYTHONPATH=. python docs/calibration/denoising_window.py --settings '{"pg_samples": 12}' --seeds 2
"""
from __future__ import annotations

import argparse
import json

import numpy as np

from agmcore.engine.compiled_group import CompiledDiagNetGroup
from agmcore.engine.results import RunRecord
from agmcore.presentation.playground import build_race

OMEGAS = (3, 8, 20)
EMA_HORIZONS = (1, 10)  # × 1/η² steps
COLUMNS = (1, 2, 3, 4, 5)  # test loss, tr H, tr(Diag(H)^½), ‖w‖₁, Σ|w|^½ (kernels.MEASURE_NAMES)


def _at(group, u, v):
    return group._measures(*group._projected(u, v))[0][0, list(COLUMNS)]


def probe(config):
    group = CompiledDiagNetGroup([RunRecord(config)])
    eta, total = config.optimizer.lr, config.steps
    polynomial = {w: [group.u.copy(), group.v.copy()] for w in OMEGAS}
    ema = {c: [group.u.copy(), group.v.copy()] for c in EMA_HORIZONS}
    u_sum, v_sum, counted = np.zeros_like(group.u), np.zeros_like(group.v), 0
    for t in range(1, total + 1):
        group.advance(1)
        for w, point in polynomial.items():
            weight = (w + 1) / (t + w)
            point[0] += weight * (group.u - point[0])
            point[1] += weight * (group.v - point[1])
        for c, point in ema.items():
            weight = eta**2 / c
            point[0] += weight * (group.u - point[0])
            point[1] += weight * (group.v - point[1])
        if t > 3 * total // 4:
            u_sum, v_sum, counted = u_sum + group.u, v_sum + group.v, counted + 1
        if t in (total // 10, total // 2, 9 * total // 10, total):
            rows = {f"Φ(θ̄) ω={w}": _at(group, *p) for w, p in polynomial.items()}
            rows.update({f"Φ(EMA {c}/η²)": _at(group, *p) for c, p in ema.items()})
            rows["Φ(θ_t)"] = _at(group, group.u, group.v)
            rows["θ_t"] = group._measures(group.u, group.v)[0][0, list(COLUMNS)]
            if t == total:
                rows["Φ(mean of last ¼)"] = _at(group, u_sum / counted, v_sum / counted)
            print(f"{config.optimizer.name} η={eta:g} seed {config.seed}, step {t}: "
                  "test loss, tr H, tr(Diag(H)^½), ‖w‖₁, Σ|w|^½")
            for name, values in rows.items():
                print(f"  {name:20s}" + "".join(f"{x:11.4g}" for x in values))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", default="{}", help="Playground settings (JSON) over its defaults")
    parser.add_argument("--seeds", default="0")
    args = parser.parse_args()
    for seed in (int(s) for s in args.seeds.split(",")):
        for config in build_race({**json.loads(args.settings), "pg_seed": seed}):
            probe(config)


if __name__ == "__main__":
    main()
