"""A classroom on one race: the server's CPU per viewer at 1, 10 and 30 viewers.

    python -m bench.bench_viewers [--viewers 1,10,30] [--seconds 15]

Starts `streamlit run app.py` (one worker, a fresh store). A simulated lecturer (bench/viewers.py:
the app's websocket, as a browser uses it) opens the Playground with a long race and presses Run;
then, for each count V, V simulated viewers open the same URL and rerun the live fragment at the
interval the server asks for. After a warm-up, the server process's CPU (user + system, from
/proc; the worker that trains is another process) is read over `--seconds`. Printed per V: the
server's cores, the cores per viewer above the lecturer alone, how many viewers saw a chart and
how soon. Target (issue "Reliable for a classroom"): ≤ 0.02 cores per viewer.
"""
from __future__ import annotations

import argparse
import statistics
import time

from bench.app_server import running_app
from bench.viewers import Viewer, cpu_seconds

# a race that runs for minutes on one core: d = 2000 at 5·10⁶ steps
RACE = "pg_dim=2000&pg_samples=40&pg_sparsity=5&pg_steps=5000000&pg_seed=4242"
WARM_UP = 8.0  # seconds for new viewers to connect, run the page once and start refreshing


def server_cores(pid: int, seconds: float) -> float:
    start_cpu, start = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - start_cpu) / (time.monotonic() - start)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--viewers", default="1,10,30")
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    counts = [int(v) for v in args.viewers.split(",")]
    with running_app(workers=1) as (proc, url):
        lecturer = Viewer(url, "playground", RACE)
        lecturer.start()
        time.sleep(10)  # the worker imports torch and numba with the server
        lecturer.press("▶ Run")
        time.sleep(WARM_UP)
        alone = server_cores(proc.pid, args.seconds)
        print(f"One race (d = 2000, 5·10⁶ steps), server CPU over {args.seconds:.0f} s after {WARM_UP:.0f} s of warm-up")
        print(f"  lecturer alone: {alone:.3f} cores")
        for count in counts:
            viewers = [Viewer(url, "playground", RACE) for _ in range(count)]
            for viewer in viewers:
                viewer.start()
            time.sleep(WARM_UP)
            cores = server_cores(proc.pid, args.seconds)
            saw = [v.first_chart for v in viewers if v.first_chart is not None]
            failed = [v.error for v in viewers if v.error]
            print(f"  {count:>3d} viewers: {cores:.3f} cores, {(cores - alone) / count:.4f} cores per viewer; "
                  f"{len(saw)}/{count} saw a chart (median first chart {statistics.median(saw) if saw else float('nan'):.1f} s)"
                  + (f"; {len(failed)} failed: {failed[0]}" if failed else ""))
            for viewer in viewers:
                viewer.stop()
            time.sleep(2)
        lecturer.stop()


if __name__ == "__main__":
    main()
