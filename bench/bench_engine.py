"""Steps per second of the engine against a plain autograd loop doing the same steps.

    python bench/bench_engine.py [--steps 3000] [--repeats 3]

Adam on the diagonal network (float64, full batch, label noise), one run, for each size; then
a batch of 8 runs (8 learning rates) in one tensor program against 8 plain loops. Prints the
median over repeats and the ratio engine / plain (higher is better for the engine).
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from agmcore.baseline import plain_diag_net_run  # noqa: E402
from agmcore.config import DiagNetTask, OptimizerConfig, RunConfig  # noqa: E402
from agmcore.engine import run_all  # noqa: E402
from timing import median_seconds  # noqa: E402  (bench/timing.py, beside this script)


def _config(dim, samples, steps, lr=0.1):
    return RunConfig(task=DiagNetTask(dim=dim, samples=samples, sparsity=3),
                     optimizer=OptimizerConfig(name="adam", lr=lr, beta2=0.95), steps=steps, log_every=steps)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    print(f"Adam, diag-net, float64, {args.steps} steps, median of {args.repeats}, device {args.device}")
    print(f"{'case':<28}{'plain steps/s':>15}{'engine steps/s':>16}{'ratio':>8}")
    for dim, samples in ((100, 20), (1000, 50)):
        config = _config(dim, samples, args.steps)
        plain, _ = median_seconds(lambda: plain_diag_net_run(config, device=args.device), args.repeats)
        engine, _ = median_seconds(lambda: run_all([config], device=args.device), args.repeats)
        print(f"{f'd={dim}, n={samples}, 1 run':<28}{args.steps / plain:>15,.0f}{args.steps / engine:>16,.0f}"
              f"{plain / engine:>8.2f}")
        batch = [_config(dim, samples, args.steps, lr=0.02 * (i + 1)) for i in range(8)]
        plain, _ = median_seconds(lambda: [plain_diag_net_run(c, device=args.device) for c in batch], args.repeats)
        engine, _ = median_seconds(lambda: run_all(batch, device=args.device), args.repeats)
        print(f"{f'd={dim}, n={samples}, 8 runs':<28}{8 * args.steps / plain:>15,.0f}{8 * args.steps / engine:>16,.0f}"
              f"{plain / engine:>8.2f}   (run-steps/s)")


if __name__ == "__main__":
    main()
