"""A moved Playground slider, in a real browser: how soon the new setting's race is drawn, no click.

    python -m bench.bench_slider_browser [--moves 5] [--workers 2]

Opens the Playground on the default race (d = 100, n = 15, 10⁵ steps, Adam and SGD), runs it
once, then moves Adam's β2 slider one value to the right with the keyboard, `--moves` times.
For each move it times, from the key press: the first chart of the new setting (the first Plotly
chart on the page that draws Adam at the new β2 with the previous setting beside it) and
"Finished" (the new race stored).
Prints each move and the medians (docs/benchmarks.md, "Explore by slider").
"""
from __future__ import annotations

import argparse
import statistics
import time

from bench.app_server import app_page

NEW_CHART = """(value) => {
  const plots = document.querySelectorAll('.js-plotly-plot');
  if (!plots.length) return false;
  const names = (plots[0].data || []).map(t => t.name || '');
  return names.some(n => n.startsWith('previous setting: '))
      && names.some(n => n.startsWith('adam ') && n.includes('β2=' + value));
}"""


def slider_value(page, index: int) -> str:
    return page.get_by_role("slider").nth(index).get_attribute("aria-valuetext")


def move(page, index: int, sync_api) -> tuple:
    """Press → right on slider `index`; (seconds to the new setting's first chart, to Finished)."""
    page.get_by_text("Finished.").wait_for(timeout=60_000)
    page.wait_for_timeout(1500)  # the page at rest: nothing still drawing
    thumb = page.get_by_role("slider").nth(index)
    thumb.focus()
    start = time.perf_counter()
    page.keyboard.press("ArrowRight")
    value = thumb.get_attribute("aria-valuetext")  # the slider moves at once; its race follows
    page.wait_for_function(NEW_CHART, arg=value, polling="raf", timeout=60_000)
    first = time.perf_counter() - start
    sync_api.expect(page.get_by_text("Finished.")).to_be_visible(timeout=60_000)
    sync_api.expect(page.get_by_test_id("before-after")).to_be_visible(timeout=60_000)
    return first, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with app_page(args.workers, "/playground") as (_, _, page, sync_api):
        page.get_by_role("button", name="▶ Run").wait_for(timeout=90_000)
        page.wait_for_timeout(8000)  # the workers import torch and load the kernels
        if not page.get_by_text("Finished.").count():
            page.get_by_role("button", name="▶ Run").click()
        beta2 = 2  # Adam's η, β1, β2 are the first three sliders
        firsts, finishes = [], []
        for _ in range(args.moves):
            before = slider_value(page, beta2)
            first, finished = move(page, beta2, sync_api)
            firsts.append(first)
            finishes.append(finished)
            print(f"β2 {before} → {slider_value(page, beta2)}: first chart of the new setting {first:.2f} s, "
                  f"finished {finished:.2f} s", flush=True)
    print(f"median over {args.moves} moves: first chart {statistics.median(firsts):.2f} s (target ≤ 1.0 s), "
          f"finished {statistics.median(finishes):.2f} s")


if __name__ == "__main__":
    main()
