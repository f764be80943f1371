"""Sweep a Playground knob, in a real browser: the sweep's time, then a drag across its stored races.

    python -m bench.bench_sweep_browser [--moves 6] [--workers 2]

Opens the Playground on the default race (d = 100, n = 15, 10⁵ steps, Adam and SGD) with Adam's β2
chosen to sweep (`?pg_sweep=pg_adam_beta2`, a fresh store), clicks "Sweep", and times the click →
every race stored (13 values of β2: 13 races, 14 runs, the SGD run shared). Then it moves the β2
slider one value with the keyboard, `--moves` times (one press, the page at rest between), and
times each press → every race panel showing Adam at the new β2 (each value's race from the store).
Last, it presses → and ← in turn, one every 0.3 s for 6 s, and reads the server process's CPU time
over that drag (/proc: user + system; the server's own process, its workers idle).
Prints each figure and the medians (docs/benchmarks.md, "Explore by slider").
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

from bench.app_server import app_page

BETA2 = 2  # Adam's η, β1, β2 are the first three sliders
# every race panel (each Plotly chart but the sweep's strip) draws optimizer `who` at `setting`
# (e.g. 'adam ', 'β2=0.95'), none at another: [who, setting, at least this many panels]
STRIP = "(p.layout && p.layout.title && p.layout.title.text || '').includes('Final measures')"  # Streamlit adds <b>
PANELS_AT = """([who, setting, least]) => {
  const drawing = [...document.querySelectorAll('.js-plotly-plot')].filter(p => !STRIP(p)
      && (p.data || []).some(t => (t.name || '').startsWith(who)));
  const at = name => {  // the name holds the setting, with no digit after it: β2=0.9, not β2=0.95
    const i = name.indexOf(setting);
    return i >= 0 && !'0123456789'.includes(name.charAt(i + setting.length) || 'x');
  };
  return drawing.length >= least && drawing.every(p => (p.data || []).some(t => (t.name || '').startsWith(who)
      && at(t.name)));
}""".replace("STRIP(p)", STRIP)
COUNT_PANELS = f"""(who) => [...document.querySelectorAll('.js-plotly-plot')].filter(p => !{STRIP}
    && (p.data || []).some(t => (t.name || '').startsWith(who))).length"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` (/proc/<pid>/stat fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with app_page(args.workers, "/playground?pg_sweep=pg_adam_beta2") as (server, _, page, sync_api):
        button = page.get_by_role("button", name="Sweep adam β2")
        button.wait_for(timeout=90_000)
        page.wait_for_timeout(8000)  # the workers import torch and load the kernels
        start = time.perf_counter()
        button.click()
        page.get_by_text("races of this sweep are stored").wait_for(timeout=120_000)
        swept = time.perf_counter() - start
        print(f"sweep of 13 β2 values (13 races, 14 runs): click → every race stored {swept:.2f} s", flush=True)
        page.get_by_text("Finished.").wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        least = page.evaluate(COUNT_PANELS, "adam ")
        thumb = page.get_by_role("slider").nth(BETA2)
        scrubs = []
        for i in range(args.moves):
            page.wait_for_timeout(1500)  # the page at rest
            thumb.focus()
            start = time.perf_counter()
            page.keyboard.press("ArrowLeft" if i % 2 else "ArrowRight")
            value = thumb.get_attribute("aria-valuetext")
            page.wait_for_function(PANELS_AT, arg=["adam ", f"β2={value}", least], polling="raf", timeout=60_000)
            scrubs.append(time.perf_counter() - start)
            print(f"β2 → {value}: every one of the {least} race panels from the store {scrubs[-1]:.2f} s", flush=True)
        page.wait_for_timeout(1500)
        thumb.focus()
        cpu, wall = cpu_seconds(server.pid), time.perf_counter()
        for i in range(20):
            page.keyboard.press("ArrowRight" if i % 2 else "ArrowLeft")
            page.wait_for_timeout(300)
        page.wait_for_timeout(1000)
        cores = (cpu_seconds(server.pid) - cpu) / (time.perf_counter() - wall)
    print(f"median over {args.moves} moves: slider → every panel {statistics.median(scrubs):.2f} s (target ≤ 0.3 s); "
          f"sweep {swept:.2f} s (target ≤ 10 s); server during a 20-press drag {cores:.2f} cores (target ≤ 1)")


if __name__ == "__main__":
    main()
