"""Run → Finished for each Home preset, as a visitor sees it in Chromium.

    python -m bench.bench_browser [--repeats 3] [--only "Matrix factorization: Adam vs SGD"]

Starts `streamlit run app.py` (one worker, a fresh store), opens Home in Debian's headless
Chromium, clicks a preset, waits for the worker to be ready, clicks Run and times until the page
says "Finished." Each repeat uses a new seed (a stored race would open at once). Needs Debian's
chromium and playwright (requirements-test.txt).
"""
from __future__ import annotations

import argparse
import statistics
import time

from playwright import sync_api

from agmcore.presentation.presets import PRESETS
from bench.app_server import CHROMIUM, CHROMIUM_ARGS, running_app


def run_to_finished(page, url: str, preset: int, seed: int) -> float:
    page.goto(f"{url}/")
    page.get_by_role("button", name=list(PRESETS)[preset]).click()
    seed_box = page.get_by_label("seed")
    seed_box.wait_for(timeout=60_000)
    seed_box.fill(str(seed))
    seed_box.press("Enter")
    run = page.get_by_role("button", name="▶ Run")
    sync_api.expect(page.get_by_text("Press Run")).to_be_visible(timeout=30_000)
    start = time.perf_counter()
    run.click()
    sync_api.expect(page.get_by_text("Finished.")).to_be_visible(timeout=300_000)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", action="append", help="time this preset only (repeatable; default: every one)")
    args = parser.parse_args()
    with running_app() as (_, url):
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/")
            page.wait_for_timeout(10_000)  # the worker starts with the server: let it import torch and numba
            print(f"Run → Finished in Chromium, median of {args.repeats} seeds (one worker, fresh store)")
            for i, name in enumerate(PRESETS):
                if args.only and name not in args.only:
                    continue
                times = [run_to_finished(page, url, i, 100 + k) for k in range(args.repeats)]
                print(f"  {name}: {statistics.median(times):.2f} s (each: {', '.join(f'{t:.2f}' for t in times)})")
            browser.close()


if __name__ == "__main__":
    main()
