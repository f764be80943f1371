"""The Experiments page's run against the CLI's, on the same cells, in one run.

    python -m bench.bench_experiment_sweep [--name sample-complexity] [--seeds N]

Both compute an experiment's classroom cells from an empty store over every core: the CLI's
`agmcore reproduce NAME --no-store` (wall time of the process, summary and figure included), and
the page's path, `service.background_sweeps.BackgroundSweeps` (an `agmcore sweep` process fed the
cells, stored cell by cell; wall time until it reports the last one). Prints both and the ratio
page / CLI (target, issue "The house in layers": ≤ 1.5).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from agmcore.experiments import EXPERIMENTS
from agmcore.service.background_sweeps import BackgroundSweeps
from agmcore.storage.store import ResultStore


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="sample-complexity", choices=sorted(EXPERIMENTS))
    parser.add_argument("--seeds", type=int, default=None)
    args = parser.parse_args()
    experiment = EXPERIMENTS[args.name]
    seeds = args.seeds or experiment.seeds
    cells = experiment.build("classroom", seeds)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "agmcore", "reproduce", args.name, "--seeds", str(seeds), "--no-store",
                        "--out", os.path.join(folder, "out")], check=True, stderr=subprocess.DEVNULL)
        cli = time.perf_counter() - start
        sweeps = BackgroundSweeps(os.path.join(folder, "store"))
        start = time.perf_counter()
        key = sweeps.start(cells)
        while (sweep := sweeps.sweep(key)).active:
            time.sleep(0.1)
        page = time.perf_counter() - start
        sweeps.shutdown()
        assert sweep.returncode in (None, 0) and sweep.error is None and sweep.done == len(cells), sweep  # done: its last line
        store = ResultStore(os.path.join(folder, "store"))
        assert all(store.usable_run(c.key) is not None for c in cells) and store.gallery() == []
    print(f"{args.name}, {len(cells)} cells, {sweeps.workers} worker processes:")
    print(f"  agmcore reproduce (CLI): {cli:.1f} s")
    print(f"  Experiments page (agmcore sweep in the background): {page:.1f} s; page / CLI = {page / cli:.2f}")


if __name__ == "__main__":
    main()
