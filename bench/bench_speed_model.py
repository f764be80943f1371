"""The race-time model of agmcore.engine.speed against measured races, in one run.

    python -m bench.bench_speed_model [--repeats 2] [--fit]

Races of Adam and SGD (the Playground's default pair, its logging) at a range of d, n and steps:
each one's median wall time over repeats, the model's prediction and their ratio. --fit also
prints the constants a least-squares fit to these cases gives (what speed.py holds
was fitted this way on the development machine).
"""
from __future__ import annotations

import argparse

import numpy as np

from agmcore.engine import speed
from agmcore.engine.config import DiagNetTask, OptimizerConfig, RunConfig
from agmcore.engine.runner import run_all
from agmcore.presentation.playground import log_every_for
from bench.timing import median_seconds

CASES = [(30, 10, 100_000), (100, 15, 30_000), (100, 15, 100_000), (100, 15, 300_000), (100, 50, 100_000),
         (300, 30, 100_000), (1000, 15, 100_000), (2000, 30, 30_000), (1000, 100, 30_000)]  # (d, n, steps)


def race(dim: int, samples: int, steps: int):
    return [RunConfig(task=DiagNetTask(dim=dim, samples=samples, sparsity=min(5, samples)),
                      optimizer=OptimizerConfig(name=name), steps=steps, log_every=log_every_for(steps), seed=0)
            for name in ("adam", "sgd")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--fit", action="store_true", help="print a least-squares fit of the constants")
    args = parser.parse_args()
    run_all(race(20, 8, 200), device="cpu")  # load the kernels
    rows, measured = [], []
    print(f"{'d':>6} {'n':>5} {'steps':>9} {'measured s':>11} {'predicted s':>12} {'ratio':>6}")
    for dim, samples, steps in CASES:
        configs = race(dim, samples, steps)
        seconds, _ = median_seconds(lambda: run_all(configs, device="cpu"), args.repeats)
        predicted = speed.estimated_seconds(configs)
        print(f"{dim:>6} {samples:>5} {steps:>9,} {seconds:>11.3f} {predicted:>12.3f} {predicted / seconds:>6.2f}")
        rows.append([1] + [sum(column) for column in zip(*(speed.terms(c) for c in configs))])
        measured.append(seconds)
    if args.fit:
        constants = np.linalg.lstsq(np.array(rows, float), np.array(measured), rcond=None)[0]
        print("fit: START = %.3g, COSTS = (%.3g, %.3g, %.3g, %.3g)" % tuple(constants))


if __name__ == "__main__":
    main()
