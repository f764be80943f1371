"""Matrix factorization: the compiled loop against the engine's torch path, in one run.

    python -m bench.bench_matrix_factorization [--repeats 3] [--long-steps 5000000]

One Adam run (η 0.01, β2 0.999, no bias correction, ε 1e-6; the Experiments' setting), float64,
full batch, label noise, one thread, logging 40 times: completion at 20 × 20, n = 120, depth 2
and 3; Gaussian sensing at 20 × 20, n = 120, depth 2; completion at 60 × 60, n = 900, depth 2.
Each case is timed on the torch path (`reference=True`) and on the compiled loop, as the median
over repeats, and their ratio is printed. Then one depth-2 20 × 20 run of --long-steps steps
with 400 log-spaced logging points (the poster's horizon), timed once (docs/benchmarks.md).
"""
from __future__ import annotations

import argparse

import torch

from agmcore.engine.config import MatrixFactorizationTask, OptimizerConfig, RunConfig
from agmcore.engine.runner import run_all
from bench.timing import median_seconds

ADAM = OptimizerConfig(name="adam", lr=0.01, beta2=0.999, bias_correction=False, eps=1e-6)
CASES = (  # (what, task, steps on the torch path, steps on the compiled loop)
    ("completion 20×20, depth 2", MatrixFactorizationTask(size=20, samples=120, depth=2), 10_000, 100_000),
    ("completion 20×20, depth 3", MatrixFactorizationTask(size=20, samples=120, depth=3), 10_000, 50_000),
    ("sensing 20×20, depth 2", MatrixFactorizationTask(size=20, samples=120, measurement="gaussian"), 5_000, 20_000),
    ("completion 60×60, depth 2", MatrixFactorizationTask(size=60, rank=2, samples=900), 5_000, 20_000),
)


def steps_per_second(task, steps: int, repeats: int, reference: bool) -> float:
    config = RunConfig(task=task, optimizer=ADAM, steps=steps, log_every=max(1, steps // 40))
    seconds, records = median_seconds(lambda: run_all([config], device="cpu", reference=reference), repeats)
    assert records[0].status == "finished"
    return steps / seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--long-steps", type=int, default=5_000_000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    run_all([RunConfig(task=MatrixFactorizationTask(size=4, samples=8), optimizer=ADAM, steps=2, log_every=1)])  # load
    print(f"{'case':30} {'torch path':>14} {'compiled':>14} {'ratio':>7}")
    for what, task, torch_steps, compiled_steps in CASES:
        reference = steps_per_second(task, torch_steps, args.repeats, reference=True)
        compiled = steps_per_second(task, compiled_steps, args.repeats, reference=False)
        print(f"{what:30} {reference:>10,.0f} st/s {compiled:>10,.0f} st/s {compiled / reference:>6.1f}×", flush=True)
    long = RunConfig(task=CASES[0][1], optimizer=ADAM, steps=args.long_steps, log_points=400)
    seconds, records = median_seconds(lambda: run_all([long], device="cpu"), 1)
    print(f"one depth-2 20×20 run of {args.long_steps:,} steps, {len(records[0].history['step'])} logging points: "
          f"{seconds:.1f} s ({args.long_steps / seconds:,.0f} steps/s)")


if __name__ == "__main__":
    main()
