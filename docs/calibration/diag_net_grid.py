"""Step-size grids for AdamE-λ or SGD on the classroom sample-complexity cells (docs/adame-lambda.md,
docs/sample-complexity.md).

Prints, per (λ, η) and n, the test loss of seeds 0, 1, … at the last iterate (mean over the last
10 % of the logged history, as the experiment's summary reads it) and at the mean iterate θ̄ of
the last quarter of the steps.

    PYTHONPATH=. python docs/calibration/diag_net_grid.py --samples 10,12,15,20 --steps 60000
    PYTHONPATH=. python docs/calibration/diag_net_grid.py --samples 10,12,15 --steps 240000 --pairs 0.1:0.03,0.9:0.001
    PYTHONPATH=. python docs/calibration/diag_net_grid.py --optimizer sgd --lrs 0.1,0.2,0.3,0.5 --samples 10,12,15
"""
from __future__ import annotations

import argparse
import time

from agmcore.config import DiagNetTask, OptimizerConfig, RunConfig
from agmcore.experiments.adame_lambda import ADAME, ADAME_BETA2, ADAME_LAMBDAS, TAIL_AVERAGE
from agmcore.experiments.common import tail_mean
from agmcore.sweeps import collect

LRS = (0.003, 0.01, 0.03, 0.1, 0.3)


def _floats(text: str):
    return tuple(float(x) for x in text.split(","))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", default="12,20", help="n values, comma-separated")
    parser.add_argument("--steps", type=int, default=ADAME["classroom"]["steps"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="processes (sweeps.collect)")
    parser.add_argument("--optimizer", choices=("adame", "sgd"), default="adame")
    parser.add_argument("--lrs", default=",".join(map(str, LRS)), help="η values, comma-separated")
    parser.add_argument("--pairs", default=None, help="AdamE λ:η pairs (default: every λ with every η)")
    args = parser.parse_args()
    lrs = _floats(args.lrs)
    if args.optimizer == "sgd":
        pairs = [(0.0, lr) for lr in lrs]
    else:
        pairs = ([tuple(float(x) for x in p.split(":")) for p in args.pairs.split(",")] if args.pairs
                 else [(lam, lr) for lam in ADAME_LAMBDAS for lr in lrs])
    s = ADAME["classroom"]

    def optimizer(lam, lr):
        if args.optimizer == "sgd":
            return OptimizerConfig(name="sgd", lr=lr)
        return OptimizerConfig(name="adame", lam=lam, lr=lr, beta2=ADAME_BETA2, eps=1e-6, bias_correction=False)

    cells = [RunConfig(task=DiagNetTask(dim=s["dim"], samples=int(n), sparsity=s["sparsity"]),
                       optimizer=optimizer(lam, lr),
                       steps=args.steps, log_every=args.steps // 20, seed=seed, tail_average=TAIL_AVERAGE)
             for n in _floats(args.samples) for lam, lr in pairs for seed in range(args.seeds)]
    start = time.perf_counter()
    docs = collect(cells, None, "auto", workers=args.workers)
    print(f"{len(cells)} cells, {args.steps} steps, {time.perf_counter() - start:.1f} s")
    table = {}
    for c, d in zip(cells, docs):
        row = table.setdefault((c.optimizer.lam, c.optimizer.lr), {}).setdefault(c.task.samples, ([], []))
        row[0].append(tail_mean(d["history"]["test_loss"]))
        row[1].append(d["final"].get("test_loss_avg"))

    def fmt(values):
        return ",".join("nan" if v is None else f"{v:.3f}" for v in values)

    for which, title in ((0, "last iterate"), (1, "mean iterate θ̄")):
        print(f"\n test loss at the {title}")
        for (lam, lr), per_n in table.items():
            name = f"sgd η {lr}" if args.optimizer == "sgd" else f"λ {lam} η {lr}"
            print(f"{name}: " + " | ".join(f"n {n}: {fmt(v[which])}" for n, v in sorted(per_n.items())))


if __name__ == "__main__":
    main()
