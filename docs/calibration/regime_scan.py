"""Sample complexity in one regime: the fraction of seeds that recover w* at each n, per optimizer,
under both readings (the test loss at θ̄, the mean iterate of the last quarter, and the authors' mean
test loss over the last 10 % of the steps), and each optimizer's half-recovery n with a bootstrap
interval over seeds. docs/regime-scan.md keeps every regime tried.

    python docs/calibration/regime_scan.py --dim 300 --sparsity 5 --samples 15,20,25,30,40 \\
        --steps 100000 --adam 0.1,0.95 --sgd 0.1 --seeds 0-9 --store /tmp/scan-store
"""
from __future__ import annotations

import argparse
import json
import time

from agmcore.engine.config import DiagNetTask, OptimizerConfig, RunConfig
from agmcore.experiments.common import TAIL_AVERAGE
from agmcore.experiments.sample_complexity import recovery_table
from agmcore.experiments.sweeps import collect
from agmcore.storage.store import ResultStore


def seeds_of(text: str):
    first, last = map(int, text.split("-"))
    return list(range(first, last + 1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, required=True)
    parser.add_argument("--sparsity", type=int, required=True)
    parser.add_argument("--samples", required=True, help="the n grid, comma-separated")
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--adam", default="0.1,0.95", help="Adam's η,β2 (no bias correction, ε 1e-6)")
    parser.add_argument("--sgd", type=float, default=0.1, help="SGD's η")
    parser.add_argument("--seeds", default="0-9")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--oracles", action="store_true", help="also the min-ℓ1 and min-ℓ^½ interpolators")
    parser.add_argument("--store", help="a result store folder, to reuse cells across scans")
    args = parser.parse_args()
    adam_lr, adam_beta2 = map(float, args.adam.split(","))
    optimizers = (OptimizerConfig(name="adam", lr=adam_lr, beta2=adam_beta2, bias_correction=False, eps=1e-6),
                  OptimizerConfig(name="sgd", lr=args.sgd))
    ns = [int(n) for n in args.samples.split(",")]
    configs = [RunConfig(task=DiagNetTask(dim=args.dim, samples=n, sparsity=args.sparsity), optimizer=opt,
                         steps=args.steps, log_every=max(1, args.steps // 40), seed=seed, oracle_metrics=args.oracles,
                         tail_average=TAIL_AVERAGE)
               for opt in optimizers for n in ns for seed in seeds_of(args.seeds)]
    start = time.perf_counter()
    docs = collect(configs, ResultStore(args.store) if args.store else None, "cpu", workers=args.workers)
    seconds = time.perf_counter() - start
    table = recovery_table(configs, docs)
    print(f"d={args.dim} κ={args.sparsity} steps={args.steps} Adam η,β2={args.adam} SGD η={args.sgd} "
          f"seeds {args.seeds}: {len(configs)} cells in {seconds:.0f} s")
    for reading, rows in table["readings"].items():
        print(f"  reading: {reading}")
        print("    n     " + "".join(f"{name:>26s}" for name in rows["fraction"]))
        for n in ns:
            cells = [f"{f[str(n)]['held']:>3d}/{f[str(n)]['seeds']} [{f[str(n)]['low']:.2f}, {f[str(n)]['high']:.2f}]"
                     for f in rows["fraction"].values()]
            print(f"    {n:<5d} " + "".join(f"{c:>26s}" for c in cells))
        half = rows["half_recovery_n"]
        print("    half-recovery n (90 % bootstrap): " + "; ".join(
            f"{name} {v['n']} [{v['low']}, {v['high']}]" for name, v in half["per_optimizer"].items())
            + f"; ratio Adam/SGD {half['ratio']['value']} [{half['ratio']['low']}, {half['ratio']['high']}]")
    print(json.dumps({"regime": vars(args), "seconds": round(seconds), **table}))


if __name__ == "__main__":
    main()
