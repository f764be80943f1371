"""What a live race costs the browsers that watch it: CPU of Chromium's page processes per tab.

    python -m bench.bench_live_browser --baseline REV [--tabs 1 2] [--dim 200] [--seconds 20] [--repeats 2]

For the working tree and for git revision REV (checked out in a temporary worktree), in
alternation: start `streamlit run app.py` (one worker), open TABS headless Chromium tabs on one
long Playground race of dimension DIM (the first presses Run), wait until each draws its seven
charts, then count over SECONDS the CPU seconds Chromium's renderer processes spent (DevTools
SystemInfo.getProcessInfo) and the charts drawn anew (Streamlit draws a changed figure as a new
chart). Prints both per tab and minute, medians over repeats, and the ratios working tree ÷ REV. Needs Debian's chromium and playwright (requirements-test.txt).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time

from playwright import sync_api

from bench.app_server import CHROMIUM, CHROMIUM_ARGS, ROOT, running_app
from bench.viewers import long_race

CHARTS = 7  # a live race of two optimizers draws seven charts


def renderer_seconds(session) -> float:
    """CPU seconds all of the browser's renderer (page) processes have used so far."""
    info = session.send("SystemInfo.getProcessInfo")["processInfo"]
    return sum(p["cpuTime"] for p in info if p["type"] == "renderer")


COUNT_NEW_CHARTS = """() => { window.newCharts = 0; new MutationObserver(changes => { for (const change of changes)
    for (const node of change.addedNodes) if (node.classList && node.classList.contains('plot-container'))
        window.newCharts++; }).observe(document.body, {subtree: true, childList: true}); }"""


def watch(root: str, tabs: int, dim: int, seconds: float, seed: int) -> tuple:
    """(renderer cores per tab, charts drawn anew per tab and minute) while `tabs` tabs watch one
    live race served from checkout `root`."""
    with running_app(workers=1, root=root) as (_, url), sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        race = f"{url}/playground?{long_race(seed=seed, dim=dim)}"
        pages = [browser.new_context(viewport={"width": 1200, "height": 900}).new_page() for _ in range(tabs)]
        pages[0].goto(race)
        pages[0].wait_for_timeout(8000)  # the worker starts with the server: let it import torch
        pages[0].get_by_role("button", name="▶ Run").click(timeout=60_000)
        for page in pages[1:]:
            page.goto(race)
        for page in pages:
            deadline = time.monotonic() + 120
            while page.get_by_test_id("stPlotlyChart").count() < CHARTS and time.monotonic() < deadline:
                page.wait_for_timeout(250)
        pages[0].wait_for_timeout(3000)
        for page in pages:
            page.evaluate(COUNT_NEW_CHARTS)
        session = browser.new_browser_cdp_session()
        used, start = renderer_seconds(session), time.monotonic()
        pages[0].wait_for_timeout(seconds * 1000)
        used, elapsed = renderer_seconds(session) - used, time.monotonic() - start
        drawn = sum(page.evaluate("() => window.newCharts") for page in pages)
        browser.close()
    return used / elapsed / tabs, drawn / tabs / (elapsed / 60)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", required=True, help="git revision to compare against, e.g. 43824ac")
    parser.add_argument("--tabs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--dim", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    worktree = tempfile.mkdtemp(prefix="sharpness-lab-baseline-")
    subprocess.run(["git", "worktree", "add", "--detach", worktree, args.baseline], cwd=ROOT, check=True,
                   capture_output=True)
    try:
        print(f"Tabs watching one live race (d = {args.dim}) for {args.seconds:g} s, median of {args.repeats}")
        for tabs in args.tabs:
            results = {"baseline": [], "now": []}
            for r in range(args.repeats):  # alternating, so drift in the machine's load hits both
                for name, root in (("baseline", worktree), ("now", ROOT)):
                    results[name].append(watch(root, tabs, args.dim, args.seconds, seed=5000 + 10 * r + tabs))
            (base_cores, base_charts), (cores, charts) = (
                [statistics.median(x) for x in zip(*results[k])] for k in ("baseline", "now"))
            print(f"  {tabs} tab(s): renderer cores per tab {args.baseline} {base_cores:.3f}, working tree {cores:.3f} "
                  f"(ratio {cores / base_cores:.2f}); charts drawn anew per tab and minute {base_charts:.0f} → "
                  f"{charts:.0f} (ratio {charts / base_charts:.2f})")
            print(f"    each (cores, charts/min): {args.baseline} {[(round(c, 3), round(n)) for c, n in results['baseline']]}; "
                  f"working tree {[(round(c, 3), round(n)) for c, n in results['now']]}")
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", worktree], cwd=ROOT, check=False, capture_output=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    main()
