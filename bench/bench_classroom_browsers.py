"""Ten Chromium tabs open the app at once: how long until each draws a chart, live race or not.

    python -m bench.bench_classroom_browsers [--tabs 10] [--repeats 1]

One server (`streamlit run app.py`, one worker), Debian's headless Chromium, each tab its own
browser context (a student's own browser). Two cases, each on a fresh server and browser:
  - stored: the tabs open a shipped result (seven charts; no race runs): the baseline, what loading
    the app and drawing its charts costs Chromium on this machine;
  - live: one tab starts a long Playground race, then the tabs open it (as
    tests/test_browser.py::test_ten_browsers_watch_the_lecturers_race does).
Prints, per case, the seconds from opening to each tab's first chart (median and slowest), the
renderer CPU seconds spent until the last one (all tabs, the lecturer's included) per opening tab,
and the ratio live ÷ stored. Needs
Debian's chromium and playwright (requirements-test.txt).
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

from playwright import sync_api

from bench.app_server import CHROMIUM, CHROMIUM_ARGS, running_app
from bench.bench_live_browser import renderer_seconds
from bench.viewers import long_race

GIVE_UP = 300  # seconds a tab is waited for
COUNT_CHARTS = "() => document.querySelectorAll('[data-testid=stPlotlyChart]').length"


def shipped_result() -> str:
    """The key of one result the app ships (agmcore/assets/races)."""
    import agmcore

    races = os.path.join(os.path.dirname(agmcore.__file__), "assets", "races")
    return sorted(name.split(".")[0] for name in os.listdir(races))[0]


def first_charts(tabs: int, live: bool, seed: int) -> tuple:
    """(seconds to each tab's first chart, None for one that drew none; renderer CPU s per tab)."""
    with running_app(workers=1) as (_, url), sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        session = browser.new_browser_cdp_session()
        path = f"/playground?{long_race(seed=seed)}" if live else f"/result?run={shipped_result()}"
        if live:
            lecturer = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
            lecturer.goto(url + path)
            lecturer.get_by_role("button", name="▶ Run").click(timeout=60_000)
            lecturer.get_by_test_id("stPlotlyChart").first.wait_for(state="visible", timeout=60_000)
        pages = [browser.new_context(viewport={"width": 1200, "height": 900}).new_page() for _ in range(tabs)]
        time.sleep(5)  # the worker starts with the server; let it import torch in both cases
        used, opened = renderer_seconds(session), time.perf_counter()
        for page in pages:
            page.goto(url + path, wait_until="commit")
        first = [None] * tabs
        while None in first and time.perf_counter() - opened < GIVE_UP:
            for i, page in enumerate(pages):
                if first[i] is None and page.evaluate(COUNT_CHARTS):
                    first[i] = round(time.perf_counter() - opened, 1)
            time.sleep(0.25)
        used = renderer_seconds(session) - used
        browser.close()
    return first, used / tabs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tabs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    print(f"{args.tabs} Chromium tabs open the app at once (each its own context); first chart, in seconds")
    medians = {}
    for live in (False, True):
        name = "live race" if live else "stored result"
        runs = [first_charts(args.tabs, live, seed=6000 + r) for r in range(args.repeats)]
        drawn = [t for first, _ in runs for t in first if t is not None]
        missing = sum(first.count(None) for first, _ in runs)
        medians[live] = statistics.median(drawn) if drawn else float("nan")
        print(f"  {name}: median {medians[live]:.1f}, slowest {max(drawn, default=float('nan')):.1f}"
              f"{f', {missing} drew none in {GIVE_UP} s' if missing else ''}; renderer CPU "
              f"{statistics.median(cpu for _, cpu in runs):.1f} s per tab; each: {[first for first, _ in runs]}")
    print(f"  ratio live ÷ stored (medians): {medians[True] / medians[False]:.2f}")


if __name__ == "__main__":
    main()
