"""A classroom on one race: the server's CPU per viewer at 1, 10 and 30 viewers.

    python -m bench.bench_viewers [--viewers 1,10,30] [--seconds 12] [--rounds 2]

Starts `streamlit run app.py` (one worker, a fresh store). A simulated lecturer (bench/viewers.py:
the app's websocket, as a browser uses it) opens the Playground with a long race and presses Run;
then, for each count V, V simulated viewers open the same URL and rerun the live fragment at the
interval the server asks for. The server process's CPU (user + system, from /proc; the worker that
trains is another process) is read over `--seconds` with the viewers, after a warm-up, and with
the lecturer alone just before and just after. A live race's shared work grows as it runs and
comes in whole frames, so each reading with viewers is set against the mean of the two readings
beside it, and each count is measured `--rounds` times: printed per V are the medians of the
server's cores and of the cores per viewer above the lecturer alone, how many viewers saw a chart
and how soon, and the refresh interval the viewers were given. Target (issue "Reliable for a
classroom"): ≤ 0.02 cores per viewer.
"""
from __future__ import annotations

import argparse
import statistics
import time

from agmcore.service.audience import WATCH_WINDOW
from bench.app_server import running_app
from bench.viewers import Viewer, cpu_seconds, long_race

RACE = long_race(seed=4242)
WARM_UP = 8.0  # seconds for new viewers to connect, run the page once and start refreshing
# after viewers leave: the server forgets them (so they no longer slow the next viewers' refresh)
# before the next ones come, since the reading of the lecturer alone lies in between
SETTLE = 2.0


def server_cores(pid: int, seconds: float) -> float:
    start_cpu, start = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - start_cpu) / (time.monotonic() - start)


def with_viewers(url: str, pid: int, count: int, seconds: float) -> dict:
    """One reading with `count` viewers: the server's cores, who saw a chart, the intervals given."""
    viewers = [Viewer(url, "playground", RACE) for _ in range(count)]
    for viewer in viewers:
        viewer.start()
    time.sleep(WARM_UP)
    cores = server_cores(pid, seconds)
    for viewer in viewers:
        viewer.stop()
    return {"cores": cores, "saw": [v.first_chart for v in viewers if v.first_chart is not None],
            "failed": [v.error for v in viewers if v.error],
            "intervals": [i for v in viewers for i in v.fragments.values()]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--viewers", default="1,10,30")
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    assert args.seconds + SETTLE > WATCH_WINDOW, "viewers of one reading would still count in the next"
    counts = [int(v) for v in args.viewers.split(",")]
    with running_app(workers=1) as (proc, url):
        lecturer = Viewer(url, "playground", RACE)
        lecturer.start()
        time.sleep(10)  # the worker imports torch and numba with the server
        lecturer.press("▶ Run")
        time.sleep(WARM_UP)
        print(f"One race (d = 2000, 5·10⁶ steps): server CPU over {args.seconds:.0f} s readings, the lecturer "
              f"alone before and after each; medians of {args.rounds} rounds")
        alone = server_cores(proc.pid, args.seconds)
        for count in counts:
            readings = []
            for _ in range(args.rounds):
                reading = with_viewers(url, proc.pid, count, args.seconds)
                time.sleep(SETTLE)
                after = server_cores(proc.pid, args.seconds)
                baseline = (alone + after) / 2
                reading.update(alone=baseline, per_viewer=(reading["cores"] - baseline) / count)
                readings.append(reading)
                alone = after
            saw = [s for r in readings for s in r["saw"]]
            failed = [f for r in readings for f in r["failed"]]
            intervals = [i for r in readings for i in r["intervals"]]
            rounds = ", ".join(f"{r['per_viewer']:.4f}" for r in readings)
            print(f"  {count:>3d} viewers: {statistics.median(r['cores'] for r in readings):.3f} cores "
                  f"(alone {statistics.median(r['alone'] for r in readings):.3f}), "
                  f"{statistics.median(r['per_viewer'] for r in readings):.4f} cores per viewer "
                  f"[rounds: {rounds}]; "
                  f"{len(saw)}/{count * args.rounds} saw a chart (median first chart "
                  f"{statistics.median(saw) if saw else float('nan'):.1f} s); refresh every "
                  f"{statistics.median(intervals) if intervals else float('nan'):g} s (median)"
                  + (f"; {len(failed)} failed: {failed[0]}" if failed else ""))
        lecturer.stop()


if __name__ == "__main__":
    main()
