"""Matrix factorization at depth 2 over the poster's horizon (up to 5·10⁶ steps, log-spaced logging):
per regime (m, rank, n, measurement), does Adam end with a higher held-out error than SGD, does
each end lower on its own measure, and does Adam's error rise after its minimum?
docs/matrix-factorization.md keeps the result.

    python docs/calibration/mf_horizon_scan.py --settings entries:20:2:60,gaussian:20:2:120 --seeds 10 \
        --steps 5000000 --json docs/calibration/scans/mf-horizon.json

Per regime: the seeds on which Adam's final error (the mean held-out error over logging points
in the last 10 % of the steps) is above SGD's, with a 95 % Wilson interval; the medians; the
seeds on which SGD ends lower on tr(H) and Adam lower on tr(Diag(H)^½) (at θ̄, the denoised
iterate); the seeds on which Adam's error ends ≥ 20 % above its minimum ("the rise"), and the
medians of each measure at log-spaced checkpoints (the time course).
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from agmcore.engine.config import MatrixFactorizationTask, OptimizerConfig, RunConfig
from agmcore.experiments.common import seed_fraction
from agmcore.experiments.sweeps import collect
from agmcore.storage.store import ResultStore

MEASURES = ("test_loss", "trace_H_denoised", "trace_sqrt_diag_H_denoised", "effective_rank_denoised")
RISE = 1.2  # Adam's final error at least this × its minimum: the rise after the minimum appeared


def final_error(history) -> float:
    """The mean held-out error over logging points in the last 10 % of the steps."""
    steps, values = np.array(history["step"]), np.array(history["test_loss"], dtype=float)
    return float(values[steps >= 0.9 * steps[-1]].mean())


def time_course(docs, measure: str, checkpoints) -> list:
    """The median over seeds of a measure at the logging step nearest each checkpoint."""
    out = []
    for point in checkpoints:
        values = []
        for d in docs:
            steps = np.array(d["history"]["step"])
            values.append(d["history"][measure][int(np.abs(np.log(np.maximum(steps, 1) / point)).argmin())])
        out.append(statistics.median(values))
    return out


def regime_report(setting: str, configs, docs, seeds: int) -> dict:
    by = {(c.optimizer.name, c.seed): d for c, d in zip(configs, docs)}
    adam = [by["adam", s] for s in range(seeds)]
    sgd = [by["sgd", s] for s in range(seeds)]
    errors = {"adam": [final_error(d["history"]) for d in adam], "sgd": [final_error(d["history"]) for d in sgd]}
    minimum = [min(v for v in d["history"]["test_loss"] if v is not None) for d in adam]
    steps = configs[0].steps
    checkpoints = [p for p in (1e2, 1e3, 1e4, 3e4, 1e5, 3e5, 1e6, 2e6, 5e6) if p <= steps]
    final = lambda d, k: d["final"][k]  # noqa: E731
    return {
        "setting": setting, "steps": steps, "seeds": seeds,
        "adam_error_above_sgd": seed_fraction([a > g for a, g in zip(errors["adam"], errors["sgd"])]),
        "median_error": {k: statistics.median(v) for k, v in errors.items()},
        "errors": errors,
        "sgd_lower_trace_H": seed_fraction([final(g, "trace_H_denoised") < final(a, "trace_H_denoised")
                                            for a, g in zip(adam, sgd)]),
        "adam_lower_trace_sqrt_diag_H": seed_fraction([final(a, "trace_sqrt_diag_H_denoised") <
                                                       final(g, "trace_sqrt_diag_H_denoised") for a, g in zip(adam, sgd)]),
        "adam_rise_after_minimum": seed_fraction([e >= RISE * m for e, m in zip(errors["adam"], minimum)]),
        "adam_minimum_median": statistics.median(minimum),
        "checkpoints": checkpoints,
        "time_course": {name: {k: time_course(runs, k, checkpoints) for k in MEASURES}
                        for name, runs in (("adam", adam), ("sgd", sgd))},
    }


def row(report) -> str:
    f = lambda x: f"{x['held']}/{x['seeds']} ({x['low']:.2f}–{x['high']:.2f})"  # noqa: E731
    med = report["median_error"]
    return (f"| {report['setting']} | {report['steps']:.0e} | {f(report['adam_error_above_sgd'])} | "
            f"{med['adam']:.3g} / {med['sgd']:.3g} | {f(report['sgd_lower_trace_H'])} | "
            f"{f(report['adam_lower_trace_sqrt_diag_H'])} | {f(report['adam_rise_after_minimum'])} | "
            f"{report['wall_s']:.0f} s |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", required=True, help="measurement:m:rank:n, comma-separated")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--steps", type=int, default=5_000_000)
    parser.add_argument("--log-points", type=int, default=400)
    parser.add_argument("--adam", default="0.01,0.999", help="Adam's η,β2 (no bias correction, ε 1e-6)")
    parser.add_argument("--sgd", type=float, default=0.3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--store", default=None, help="a result store folder, to reuse cells across scans")
    parser.add_argument("--json", default=None, help="append each regime's report to this JSON-lines file")
    args = parser.parse_args()
    adam_lr, adam_beta2 = map(float, args.adam.split(","))
    optimizers = (OptimizerConfig(name="adam", lr=adam_lr, beta2=adam_beta2, bias_correction=False, eps=1e-6),
                  OptimizerConfig(name="sgd", lr=args.sgd))
    store = ResultStore(args.store) if args.store else None
    print(f"depth 2, Adam η,β2 = {args.adam}, SGD η = {args.sgd}, seeds 0–{args.seeds - 1}, {args.log_points} log points")
    print("| regime | steps | Adam's error above SGD's | median error Adam / SGD | SGD lower tr(H) | "
          "Adam lower tr(Diag(H)^½) | Adam rises ≥ 20 % after its minimum | wall |")
    print("|---|---|---|---|---|---|---|---|")
    for setting in args.settings.split(","):
        measurement, m, rank, n = setting.split(":")
        task = MatrixFactorizationTask(size=int(m), rank=int(rank), depth=2, samples=int(n), measurement=measurement)
        configs = [RunConfig(task=task, optimizer=o, steps=args.steps, log_points=args.log_points, seed=s)
                   for o in optimizers for s in range(args.seeds)]
        start = time.perf_counter()
        docs = collect(configs, store, "cpu", workers=args.workers)
        report = regime_report(setting, configs, docs, args.seeds)
        report["wall_s"] = time.perf_counter() - start
        report["dof"] = int(rank) * (2 * int(m) - int(rank))
        print(row(report), flush=True)
        if args.json:
            with open(args.json, "a") as out:
                out.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    main()
