"""Two speed-ups of the classroom experiments, each against its baseline in one run.

    python -m bench.bench_sweeps [--steps 4000] [--repeats 3] [--only projection|sweep]

1. Projection Φ onto the manifold at sharpness-race end points (diagonal network, 15 runs):
   the exact flow limit (`DiagNetProblem.gradient_flow_limit`) against the discretised flow
   (`projection.gradient_flow_projection`, 2000 steps at most), with how far apart the two
   land (the discrete flow's error).
2. A sweep: the matrix-factorization classroom cells (42 cells, 14 chunks) shortened to --steps,
   `collect(workers=2)` against `collect(workers=1)`; their documents are compared too.
Prints medians over repeats and the ratio baseline / new (higher is better for the new path).
"""
from __future__ import annotations

import argparse
import dataclasses
import json

import torch

from agmcore.engine.device import cpu_cores
from agmcore.engine.runner import problem_for, run_all
from agmcore.experiments import matrix_factorization_cells, sharpness_race_cells
from agmcore.experiments.sweeps import collect
from agmcore.problems.projection import gradient_flow_projection
from bench.timing import median_seconds


def bench_projection(steps, repeats):
    cells = [dataclasses.replace(c, steps=steps, log_every=steps, manifold_metrics=False, oracle_metrics=False,
                                 tail_average=0) for c in sharpness_race_cells("classroom", 3)]
    records = run_all(cells, device="cpu")
    seeds = [c.seed for c in cells]
    problem = problem_for(cells[0].task, seeds, [c.task.label_noise for c in cells], torch.float64,
                          torch.device("cpu"))
    params = {k: torch.tensor([r.arrays["params"][k] for r in records], dtype=torch.float64) for k in ("u", "v")}
    discrete_s, discrete = median_seconds(lambda: gradient_flow_projection(problem, params), repeats)
    exact_s, exact = median_seconds(lambda: problem.gradient_flow_limit(params), repeats)
    gap = max((exact[k] - discrete[k]).abs().max().item() for k in params)
    trace_gap = ((problem.hessian_trace(discrete) / problem.hessian_trace(exact)) - 1).abs().max().item()
    print(f"Φ at {len(cells)} sharpness-race end points after {steps} steps (d = 100, n = 12), median of {repeats}")
    print(f"  discrete flow {discrete_s * 1e3:8.1f} ms   exact {exact_s * 1e3:8.1f} ms   ratio {discrete_s / exact_s:6.1f}")
    print(f"  clean loss: discrete ≤ {problem.clean_loss_and_grads(discrete)[0].max().item():.1e}, "
          f"exact ≤ {problem.clean_loss_and_grads(exact)[0].max().item():.1e}; "
          f"max |Δθ| {gap:.1e}, max relative Δ tr(H) {trace_gap:.1e}")


def bench_sweep(steps, repeats):
    cells = [dataclasses.replace(c, steps=steps, log_every=max(1, steps // 40))
             for c in matrix_factorization_cells("classroom", 3)]
    one_s, one = median_seconds(lambda: collect(cells, None, "cpu", workers=1), repeats)
    two_s, two = median_seconds(lambda: collect(cells, None, "cpu", workers=2), repeats)
    same = [json.dumps(a, sort_keys=True) for a in one] == [json.dumps(b, sort_keys=True) for b in two]
    print(f"matrix-factorization sweep, {len(cells)} cells × {steps} steps, median of {repeats}")
    print(f"  1 process {one_s:7.1f} s   2 worker processes {two_s:7.1f} s   ratio {one_s / two_s:5.2f}   "
          f"documents identical: {same}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", choices=("projection", "sweep"), default=None)
    args = parser.parse_args()
    print(f"CPU cores available: {cpu_cores()}")
    if args.only in (None, "projection"):
        bench_projection(args.steps * 5, args.repeats)
    if args.only in (None, "sweep"):
        bench_sweep(args.steps, args.repeats)


if __name__ == "__main__":
    main()
