"""Where do the theory oracles recover w*? Per seed, the smallest n of a grid from which the
min-ℓ1 interpolator (a linear program) and the min-ℓ^½ one (reweighted ℓ1, agmcore.problems.oracles) have
test loss ½‖w_o − w*‖² < 0.1 at that n and above, on the diagonal network's data (draw_data).
No training: this sizes a setting before optimizer time is spent on it (docs/sample-complexity.md).

    PYTHONPATH=. python docs/calibration/oracle_scan.py --dim 2000 --sparsity 30 --seeds 3 \\
        --samples 60,80,100,120,140,160,180,200 --restarts 0
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from agmcore.engine.config import DiagNetTask
from agmcore.experiments.sample_complexity import per_seed_recovery_n
from agmcore.problems.diag_net import draw_data
from agmcore.problems.oracles import min_l1_interpolator, min_lhalf_interpolator


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, required=True)
    parser.add_argument("--sparsity", type=int, required=True)
    parser.add_argument("--samples", required=True, help="n values, comma-separated")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--restarts", type=int, default=10, help="random restarts of the min-ℓ^½ search")
    args = parser.parse_args()
    start = time.perf_counter()
    losses = {"min-ℓ1": {}, "min-ℓ^½": {}}
    for n in (int(x) for x in args.samples.split(",")):
        for seed in range(args.seeds):
            w_star, z = draw_data(DiagNetTask(dim=args.dim, samples=n, sparsity=args.sparsity), seed)
            z_np, w_np = z.numpy(), w_star.numpy()
            y = z_np @ w_np
            for name, w in (("min-ℓ1", min_l1_interpolator(z_np, y)),
                            ("min-ℓ^½", min_lhalf_interpolator(z_np, y, restarts=args.restarts))):
                losses[name].setdefault(n, []).append(0.5 * float(np.sum((w - w_np) ** 2)))
        print(f"n = {n} done ({time.perf_counter() - start:.0f} s)", flush=True)
    for name, per_n in losses.items():
        print(f"{name}: each seed's recovery n {per_seed_recovery_n(per_n)}")
        for n, values in sorted(per_n.items()):
            print(f"  n {n}: " + ", ".join(f"{v:.3g}" for v in values))


if __name__ == "__main__":
    main()
