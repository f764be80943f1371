"""A soak: many short races through one job manager (one server), watching the server's memory.

    python -m bench.bench_soak [--races 500] [--steps 300] [--dim 20]

Each race (Adam against SGD, its own seed, so none comes from the store) is submitted, waited
for and read back as a viewer would. Prints the server process's resident memory after the first
50 races and at the end, the growth between them (docs/architecture.md: the JobManager keeps only
ENDED_KEPT ended jobs; before, it kept every one), and races per second.
"""
from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time

from agmcore.engine.config import DiagNetTask, OptimizerConfig, RunConfig
from agmcore.service.jobs import JobManager
from agmcore.storage.store import ResultStore


def rss_mb() -> float:
    """This process's resident memory now (Linux /proc), in MB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 1e6


def race(seed: int, steps: int, dim: int):
    task = DiagNetTask(dim=dim, samples=max(4, dim // 3), sparsity=2)
    return [RunConfig(task=task, optimizer=OptimizerConfig(name=name, lr=0.1), steps=steps, log_every=max(1, steps // 100),
                      seed=seed) for name in ("adam", "sgd")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--races", type=int, default=500)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--dim", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        manager = JobManager(ResultStore(os.path.join(folder, "store")), workers=1, device="cpu")
        start, after_50 = time.perf_counter(), None
        try:
            for i in range(args.races):
                key = manager.submit(race(10_000 + i, args.steps, args.dim))
                while (job := manager.job(key)) is not None and job.active:
                    time.sleep(0.005)
                assert manager.store.get_race(key) is not None, f"race {i} was not stored"
                if i + 1 == 50:
                    after_50 = rss_mb()
        finally:
            manager.shutdown()
        end, seconds = rss_mb(), time.perf_counter() - start
    print(f"{args.races} races of {args.steps} steps (d = {args.dim}): {args.races / seconds:.1f} races/s")
    print(f"server RSS after 50 races: {after_50:.1f} MB; after {args.races}: {end:.1f} MB; "
          f"growth {end - after_50:+.1f} MB (target: within 50 MB)")


if __name__ == "__main__":
    main()
