"""A 10 × 10 map of two Playground knobs, computed the page's way, from an empty store.

    python -m bench.bench_knob_map [--steps 30000] [--x pg_adam_lr] [--y pg_adam_beta2]

The map's races (presentation.knob_map.map_races on the default race with `--steps`) are handed to
`service.background_sweeps.BackgroundSweeps`, as "Compute the map" does (an `agmcore sweep` process
over every core, each race stored as its runs finish); prints the wall time until the last run is
stored, the runs and races, and the speed model's prediction (docs/benchmarks.md, "Explore by
slider"; target ≤ 90 s at 3·10⁴ steps).
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

from agmcore.presentation.knob_map import map_races
from agmcore.presentation.knob_sweep import distinct_runs, predicted_seconds
from agmcore.service.background_sweeps import BackgroundSweeps
from agmcore.storage.store import ResultStore, race_key


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30_000)
    parser.add_argument("--x", default="pg_adam_lr")
    parser.add_argument("--y", default="pg_adam_beta2")
    args = parser.parse_args()
    cells, cannot = map_races({"pg_steps": args.steps}, args.x, args.y)
    races = [race for _, _, race in cells]
    with tempfile.TemporaryDirectory() as folder:
        sweeps = BackgroundSweeps(os.path.join(folder, "store"))
        start = time.perf_counter()
        key = sweeps.start(races=races)
        while (sweep := sweeps.sweep(key)).active:
            time.sleep(0.1)
        seconds = time.perf_counter() - start
        sweeps.shutdown()
        assert sweep.error is None and sweep.done == sweep.total, sweep
        store = ResultStore(os.path.join(folder, "store"))
        assert all(store.usable_race(race_key(r)) is not None for r in races)
    print(f"{args.x} × {args.y} at {args.steps:,} steps: {len(races)} races ({cannot} pairs cannot run), "
          f"{len(distinct_runs(races))} runs, {sweeps.workers} worker processes: {seconds:.1f} s "
          f"(predicted {predicted_seconds(races, sweeps.workers):.1f} s of compute; target ≤ 90 s)")


if __name__ == "__main__":
    main()
