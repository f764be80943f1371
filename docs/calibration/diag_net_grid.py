"""Step-size grids for AdamE-λ, Adam or SGD on the classroom sample-complexity cells (docs/adame-lambda.md,
docs/sample-complexity.md).

Prints, per (λ, η) and n, the test loss of seeds 0, 1, … at the last iterate (mean over the last
10 % of the logged history, as the experiment's summary reads it) and at the mean iterate θ̄ of
the last quarter of the steps.

    PYTHONPATH=. python docs/calibration/diag_net_grid.py --samples 10,12,15,20 --steps 60000
    PYTHONPATH=. python docs/calibration/diag_net_grid.py --samples 10,12,15 --steps 240000 --pairs 0.1:0.03,0.9:0.001
    PYTHONPATH=. python docs/calibration/diag_net_grid.py --optimizer sgd --lrs 0.1,0.2,0.3,0.5 --samples 10,12,15
    PYTHONPATH=. python docs/calibration/diag_net_grid.py --optimizer adam --lrs 0.03,0.1 --samples 8,10,12,15,20 --seeds 10
    PYTHONPATH=. python docs/calibration/diag_net_grid.py --pairs 0.5:0.1,0.75:0.03 --seeds 10
    PYTHONPATH=. python docs/calibration/diag_net_grid.py --beta2 0.991 --pairs 0.9:0.003,0.9:0.001 --seeds 10

By default each η gets β2 = 1 − 10η² (the 2-scheme); --beta2 B fixes it. Also prints, per (λ, η), the smallest n from
which the median over seeds recovers, the fraction of seeds recovered per n and each seed's own
recovery n, all at θ̄ (experiments.sample_complexity).
"""
from __future__ import annotations

import argparse
import time

from agmcore.engine.config import DiagNetTask, OptimizerConfig, RunConfig
from agmcore.experiments.adame_lambda import ADAME, ADAME_LAMBDAS, TAIL_AVERAGE, rounded_two_scheme_beta2
from agmcore.experiments.common import tail_mean
from agmcore.experiments.sample_complexity import median_drop_n, per_seed_recovery_n, recovery_rate
from agmcore.experiments.sweeps import collect

LRS = (0.003, 0.01, 0.03, 0.1, 0.3)


def _floats(text: str):
    return tuple(float(x) for x in text.split(","))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", default="12,20", help="n values, comma-separated")
    parser.add_argument("--steps", type=int, default=ADAME["classroom"]["steps"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="processes (sweeps.collect)")
    parser.add_argument("--optimizer", choices=("adame", "adam", "sgd"), default="adame")
    parser.add_argument("--lrs", default=",".join(map(str, LRS)), help="η values, comma-separated")
    parser.add_argument("--pairs", default=None, help="AdamE λ:η pairs (default: every λ with every η)")
    parser.add_argument("--bias-correction", action="store_true", help="Adam/AdamE with bias correction")
    parser.add_argument("--beta2", default="2-scheme", help="AdamE's β2, or 2-scheme (the default): 1 − 10η² per η")
    args = parser.parse_args()
    lrs = _floats(args.lrs)
    if args.optimizer in ("sgd", "adam"):
        pairs = [(0.0, lr) for lr in lrs]
    else:
        pairs = ([tuple(float(x) for x in p.split(":")) for p in args.pairs.split(",")] if args.pairs
                 else [(lam, lr) for lam in ADAME_LAMBDAS for lr in lrs])
    s = ADAME["classroom"]

    def optimizer(lam, lr):
        if args.optimizer == "sgd":
            return OptimizerConfig(name="sgd", lr=lr)
        beta2 = rounded_two_scheme_beta2(lr) if args.beta2 == "2-scheme" else float(args.beta2)
        if args.optimizer == "adam":
            return OptimizerConfig(name="adam", lr=lr, beta2=beta2, eps=1e-6, bias_correction=args.bias_correction)
        return OptimizerConfig(name="adame", lam=lam, lr=lr, beta2=beta2, eps=1e-6,
                               bias_correction=args.bias_correction)

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

    def name(lam, lr):
        return f"λ {lam} η {lr}" if args.optimizer == "adame" else f"{args.optimizer} η {lr}"

    for which, title in ((0, "last iterate"), (1, "mean iterate θ̄")):
        print(f"\n test loss at the {title}")
        for (lam, lr), per_n in table.items():
            print(f"{name(lam, lr)}: " + " | ".join(f"n {n}: {fmt(v[which])}" for n, v in sorted(per_n.items())))
    print("\n recovery at θ̄ (median drop n; fraction recovered per n; each seed's recovery n)")
    for (lam, lr), per_n in table.items():
        at_mean = {n: v[1] for n, v in per_n.items()}
        rates = " ".join(f"{n}:{r:.1f}" for n, r in recovery_rate(at_mean).items())
        print(f"{name(lam, lr)}: median drop {median_drop_n(at_mean)}; {rates}; per seed {per_seed_recovery_n(at_mean)}")


if __name__ == "__main__":
    main()
