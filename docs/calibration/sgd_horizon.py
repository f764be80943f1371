"""Had SGD finished at the d = 2000 scale? Re-runs the named SGD cells of `--scale d2000`
(experiments/sample_complexity.py) with more steps, the same data, init and noise draws (the seed),
and prints each cell's test loss ½‖θ̄ − w*‖² at the mean iterate of the last quarter and whether it
settled (`sample_complexity.settled`). No oracles: the d2000 record already has them.

    PYTHONPATH=. python docs/calibration/sgd_horizon.py --steps 3000000 --workers 2 \\
        --cells 140:5,160:2,160:6,180:1,180:3,180:7,180:8,180:9
"""
from __future__ import annotations

import argparse
import dataclasses
import time

from agmcore.experiments.sample_complexity import LOGGED_POINTS, final_test_loss, sample_complexity_cells, settled
from agmcore.experiments.sweeps import collect


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", required=True, help="n:seed pairs, comma-separated")
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    wanted = [tuple(int(x) for x in pair.split(":")) for pair in args.cells.split(",")]
    by_cell = {(c.task.samples, c.seed): c for c in sample_complexity_cells("d2000", 10) if c.optimizer.name == "sgd"}
    cells = [dataclasses.replace(by_cell[key], steps=args.steps, log_every=args.steps // LOGGED_POINTS,
                                 oracle_metrics=False) for key in wanted]
    start = time.perf_counter()
    docs = collect(cells, None, "cpu", workers=args.workers)
    print(f"SGD at d = 2000, {args.steps:,} steps, {len(cells)} cells in {time.perf_counter() - start:.0f} s")
    for (n, seed), doc in zip(wanted, docs):
        print(f"  n = {n:3d}, seed {seed}: test loss at θ̄ {final_test_loss(doc):.3f}, settled: {settled(doc)}")


if __name__ == "__main__":
    main()
