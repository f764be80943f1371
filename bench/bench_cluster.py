"""Sweeps on a Ray cluster against the local pool, in one run (issue targets: docs/benchmarks.md).

    python -m bench.bench_cluster [--seeds 10] [--repeats 1] [--baseline PATH] [--only pool|kill|off]

1. pool: the classroom sample-complexity sweep (10 seeds: 200 cells) through a two-node Ray
   cluster on this machine (one CPU a node, 127.0.0.1 only, no dashboard) against the local
   pool with two worker processes (`collect(workers=2)`); wall times (the cluster's start is
   timed apart), their ratio (target ≤ 1.2) and whether the documents are identical.
2. kill: a sweep of 16 short cells with one node killed after the first cell arrived; how
   often each cell was stored (target: every cell exactly once).
3. off: `agmcore run` without `--cluster`, in a fresh process: the median wall time over
   repeats, whether Ray was imported, and with --baseline (a checkout of the previous commit)
   the same for it and whether the two documents are identical.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from agmcore.experiments import sample_complexity_cells
from agmcore.experiments.sweeps import collect, run_sweep
from bench.ray_cluster import CountingStore, start_two_nodes
from bench.timing import median_seconds


def _dumps(docs):
    return [json.dumps(d, sort_keys=True) for d in docs]


def bench_pool(seeds: int, repeats: int):
    cells = sample_complexity_cells("classroom", seeds)
    pool_s, pool = median_seconds(lambda: collect(cells, None, "cpu", workers=2), repeats)
    start = time.perf_counter()
    cluster, _ = start_two_nodes()
    started = time.perf_counter() - start
    try:
        ray_s, on_ray = median_seconds(lambda: collect(cells, None, "cpu", cluster=cluster.address), repeats)
    finally:
        cluster.shutdown()
    print(f"classroom sample complexity, {len(cells)} cells, median of {repeats}")
    print(f"  pool (2 workers) {pool_s:7.1f} s   Ray, two nodes {ray_s:7.1f} s (+ {started:.1f} s to start them)   "
          f"ratio {ray_s / pool_s:5.2f} (target ≤ 1.2)   documents identical: {_dumps(pool) == _dumps(on_ray)}")


def bench_kill():
    cells = [dataclasses.replace(c, steps=20_000) for c in sample_complexity_cells("classroom", 2)[:16]]
    cluster, worker = start_two_nodes()
    try:
        with tempfile.TemporaryDirectory() as folder:
            store = CountingStore(folder)
            arrived, start = [], time.perf_counter()
            for i, _, _ in run_sweep(cells, store, "cpu", cluster=cluster.address):
                if not arrived:
                    cluster.remove_node(worker, allow_graceful=False)
                arrived.append(i)
            seconds = time.perf_counter() - start
            once = sorted(arrived) == list(range(len(cells))) and store.puts == {c.key: 1 for c in cells}
    finally:
        cluster.shutdown()
    print(f"a node killed after the first of {len(cells)} cells arrived: {len(arrived)} arrived, stored "
          f"{sorted(set(store.puts.values()))} times each, in {seconds:.1f} s; every cell exactly once: {once}")


RUN = ["-m", "agmcore", "run", "--dim", "100", "--samples", "15", "--sparsity", "5", "--steps", "2000",
       "--quiet", "--out", "-"]


def _run_once(pythonpath: str):
    env = dict(os.environ, PYTHONPATH=pythonpath)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *RUN], capture_output=True, text=True, env=env, check=True)
    seconds = time.perf_counter() - start
    document = {k: v for k, v in json.loads(done.stdout).items() if k != "wall_seconds"}  # the one timing field
    imported = subprocess.run([sys.executable, "-c", "import sys; from agmcore.command import cli; "
                               "cli.build_parser(with_reproduce=False); print('ray' in sys.modules)"],
                              capture_output=True, text=True, env=env, check=True).stdout.strip()
    return seconds, document, imported


def bench_off(repeats: int, baseline: str):
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rows = {"this tree": here, **({"baseline": baseline} if baseline else {})}
    runs = {name: [] for name in rows}
    for _ in range(repeats):  # interleaved, so a load that comes and goes falls on both
        for name, path in rows.items():
            runs[name].append(_run_once(path))
    results = {name: (statistics.median(r[0] for r in rs), rs[0][1], rs[0][2]) for name, rs in runs.items()}
    print(f"`agmcore run` (d = 100, 2000 steps) in a fresh process, no --cluster, median of {repeats}")
    for name, (seconds, _, imported) in results.items():
        print(f"  {name:10s} {seconds:6.2f} s   Ray imported: {imported}")
    if baseline:
        ratio = results["this tree"][0] / results["baseline"][0]
        print(f"  ratio {ratio:5.2f}   documents identical: {results['this tree'][1] == results['baseline'][1]}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--baseline", default=None, help="a checkout of the previous commit, for `off`")
    parser.add_argument("--only", choices=("pool", "kill", "off"), default=None)
    args = parser.parse_args()
    if args.only in (None, "pool"):
        bench_pool(args.seeds, args.repeats)
    if args.only in (None, "kill"):
        bench_kill()
    if args.only in (None, "off"):
        bench_off(max(3, args.repeats), args.baseline)


if __name__ == "__main__":
    main()
