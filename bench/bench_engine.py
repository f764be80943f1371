"""Steps per second of the engine against the loops one would write without it, in one run.

    python -m bench.bench_engine [--repeats 3] [--no-torch-compile]

Adam on the diagonal network (float64, full batch, label noise, one thread), one run, at
d = 100, n = 20 and d = 1000, n = 50, measured five ways: a plain autograd loop with
torch.optim.Adam (the project's yardstick, agmcore.engine.baseline), a minimal torch eager loop with the analytic
gradient, that loop's step under `torch.compile`, the engine's torch path (`reference=True`) and
the engine's compiled loop. Then 8 runs batched against one, a d = 1000, n = 20 run of 10⁵
steps, and the cost of the measures in a 60,000-step race. Each figure is the median over
repeats; ratios are taken within this run (docs/benchmarks.md).
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import torch

from agmcore.engine.baseline import plain_diag_net_run
from agmcore.engine.config import DiagNetTask, OptimizerConfig, RunConfig
from agmcore.engine.runner import run_all
from agmcore.problems.diag_net import draw_data, initial_params
from agmcore.problems.randomness import LabelNoise
from bench.timing import median_seconds


def _config(dim, samples, steps, lr=0.1, name="adam", log_every=None, **extra):
    beta2 = {"adam": dict(beta2=0.95)}.get(name, {})
    return RunConfig(task=DiagNetTask(dim=dim, samples=samples, sparsity=3),
                     optimizer=OptimizerConfig(name=name, lr=lr, **beta2), steps=steps,
                     log_every=log_every or steps, **extra)


def minimal_eager_step():
    """One Adam step with the analytic gradient, in place (what a careful torch user writes)."""
    def step(u, v, m_u, m_v, s_u, s_v, z, y, zeta, lr, b1, b2, eps, delta, n, t):
        w = u * u - v * v
        c = z.T @ ((z @ w - y - delta * zeta) / n)
        for p, g, m, s in ((u, 2 * c * u, m_u, s_u), (v, -2 * c * v, m_v, s_v)):
            m.mul_(b1).add_(g, alpha=1 - b1)
            s.mul_(b2).addcmul_(g, g, value=1 - b2)
            p.sub_(lr / (1 - b1 ** t) * m / ((s / (1 - b2 ** t)).sqrt() + eps))
    return step


def minimal_loop(config: RunConfig, step) -> None:
    """config.steps steps of `step` on the engine's data, init and label-noise stream."""
    task, o = config.task, config.optimizer
    w_star, z = draw_data(task, config.seed)
    y = z @ w_star
    init = initial_params(task, config.seed)
    u, v = init["u"].clone(), init["v"].clone()
    m_u, m_v, s_u, s_v = (torch.zeros_like(u) for _ in range(4))
    noise = LabelNoise([config.seed], task.samples, task.noise_law, None, torch.float64, torch.device("cpu"))
    for t in range(1, config.steps + 1):
        zeta = noise.next()[0][0]
        step(u, v, m_u, m_v, s_u, s_v, z, y, zeta, o.lr, o.beta1, o.beta2, o.eps, task.label_noise, task.samples, t)


def steps_per_second(fn, steps: int, repeats: int) -> float:
    seconds, _ = median_seconds(fn, repeats)
    return steps / seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-torch-compile", action="store_true", help="skip the torch.compile row (≈ 20 s to compile)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"one thread, float64, median of {args.repeats}")
    run_all([_config(100, 20, 10)])  # load the compiled kernels once
    eager = minimal_eager_step()
    compiled_step = None if args.no_torch_compile else torch.compile(eager)
    print("\nAdam, one run, steps/s (ratio: compiled engine / that loop)")
    print(f"{'case':<18}{'autograd':>10}{'eager':>10}{'t.compile':>11}{'engine(torch)':>15}{'engine':>10}"
          f"{'×autograd':>11}{'×eager':>8}{'×t.compile':>12}")
    for dim, samples, small, large in ((100, 20, 3_000, 200_000), (1000, 50, 2_000, 50_000)):
        few, many = _config(dim, samples, small), _config(dim, samples, large)
        autograd = steps_per_second(lambda: plain_diag_net_run(few), small, args.repeats)
        plain = steps_per_second(lambda: minimal_loop(few, eager), small, args.repeats)
        compiled_torch = float("nan")
        if compiled_step is not None:
            minimal_loop(_config(dim, samples, 10), compiled_step)  # compile for this shape
            compiled_torch = steps_per_second(lambda: minimal_loop(few, compiled_step), small, args.repeats)
        reference = steps_per_second(lambda: run_all([few], device="cpu", reference=True), small, args.repeats)
        engine = steps_per_second(lambda: run_all([many], device="cpu"), large, args.repeats)
        print(f"{f'd={dim}, n={samples}':<18}{autograd:>10,.0f}{plain:>10,.0f}{compiled_torch:>11,.0f}"
              f"{reference:>15,.0f}{engine:>10,.0f}{engine / autograd:>11.1f}{engine / plain:>8.1f}"
              f"{engine / compiled_torch:>12.1f}")

    print("\nBatching (compiled engine, Adam, 8 learning rates): run-steps/s")
    for dim, samples, steps in ((100, 20, 100_000), (1000, 50, 20_000)):
        one = steps_per_second(lambda: run_all([_config(dim, samples, steps)]), steps, args.repeats)
        batch = [_config(dim, samples, steps, lr=0.02 * (i + 1)) for i in range(8)]
        eight = steps_per_second(lambda: run_all(batch), 8 * steps, args.repeats)
        print(f"  d={dim}, n={samples}: one run {one:,.0f}, 8 runs {eight:,.0f} per run-step ({eight / one:.2f}×)")

    config = _config(1000, 20, 100_000)
    seconds, _ = median_seconds(lambda: run_all([config]), args.repeats)
    print(f"\nd=1000, n=20, 10⁵ steps, one Adam run: {seconds:.2f} s")

    print("\nMeasures in a 60,000-step race (Adam η 0.1 and SGD η 0.04, d=100, n=20): wall s")
    race = lambda log_every, **extra: [_config(100, 20, 60_000, log_every=log_every, **extra),  # noqa: E731
                                       _config(100, 20, 60_000, lr=0.04, name="sgd", log_every=log_every, **extra)]
    bare, _ = median_seconds(lambda: run_all(race(60_000)), args.repeats)
    for label, extra in (("measures", {}), ("measures + Φ (manifold_metrics)", dict(manifold_metrics=True))):
        logged, _ = median_seconds(lambda: run_all(race(150, **extra)), args.repeats)
        print(f"  400 logging points, {label}: {logged:.3f} s against {bare:.3f} s at 1 point: "
              f"{100 * (logged - bare) / logged:.0f} % of the race")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"\n(benchmark took {time.perf_counter() - start:.0f} s)")
