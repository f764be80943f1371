"""Matrix completion at depth 2: in which (m, rank, n) do both optimizers fail and Adam fail worse
(the poster's direction)? Per setting, each seed's held-out error (the mean of the last 10 % of
the logged test loss, the authors' reading) for Adam and SGD, the seeds on which Adam's is higher,
and the degrees of freedom r(2m − r) of the truth. docs/matrix-factorization.md keeps the result.

    python docs/calibration/mf_regime_scan.py --settings 20:2:60,20:2:80,40:2:120 --seeds 3 --steps 20000
"""
from __future__ import annotations

import argparse
import statistics
import time

from agmcore.engine.config import MatrixFactorizationTask, OptimizerConfig, RunConfig
from agmcore.experiments.common import tail_mean
from agmcore.experiments.sweeps import collect
from agmcore.storage.store import ResultStore


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", required=True, help="m:rank:n, comma-separated")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--adam", default="0.01,0.999", help="Adam's η,β2 (no bias correction, ε 1e-6)")
    parser.add_argument("--sgd", type=float, default=0.3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--store", help="a result store folder, to reuse cells across scans")
    args = parser.parse_args()
    adam_lr, adam_beta2 = map(float, args.adam.split(","))
    optimizers = (OptimizerConfig(name="adam", lr=adam_lr, beta2=adam_beta2, bias_correction=False, eps=1e-6),
                  OptimizerConfig(name="sgd", lr=args.sgd))
    store = ResultStore(args.store) if args.store else None
    print(f"depth 2, {args.steps} steps, Adam η,β2 = {args.adam}, SGD η = {args.sgd}, seeds 0–{args.seeds - 1}")
    print("| m | rank | n | dof r(2m−r) | Adam error per seed | SGD error per seed | Adam higher | medians Adam / SGD | wall |")
    print("|---|---|---|---|---|---|---|---|---|")
    for setting in args.settings.split(","):
        m, rank, n = map(int, setting.split(":"))
        task = MatrixFactorizationTask(size=m, rank=rank, depth=2, samples=n)
        configs = [RunConfig(task=task, optimizer=o, steps=args.steps, log_every=max(1, args.steps // 40), seed=s)
                   for o in optimizers for s in range(args.seeds)]
        start = time.perf_counter()
        docs = collect(configs, store, "cpu", workers=args.workers)
        errors = {"adam": [], "sgd": []}
        for c, d in zip(configs, docs):
            errors[c.optimizer.name].append(tail_mean(d["history"]["test_loss"]))
        higher = sum(a > g for a, g in zip(errors["adam"], errors["sgd"]))
        print(f"| {m} | {rank} | {n} | {rank * (2 * m - rank)} | {', '.join(f'{e:.3g}' for e in errors['adam'])} | "
              f"{', '.join(f'{e:.3g}' for e in errors['sgd'])} | {higher}/{args.seeds} | "
              f"{statistics.median(errors['adam']):.3g} / {statistics.median(errors['sgd']):.3g} | "
              f"{time.perf_counter() - start:.0f} s |", flush=True)


if __name__ == "__main__":
    main()
