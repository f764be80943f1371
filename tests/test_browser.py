"""A real browser (Debian's headless Chromium, driven by Playwright) against `streamlit run`.

Opens the Playground, starts a small race, sees the charts update while it runs, opens the
permalink in a second tab and sees the same result; then a classroom: ten more browsers open a
lecturer's running race and each sees it live. Screenshots and the measured timings go to
test-artifacts/.
"""
import json
import os
import time
import urllib.parse

import pytest

from bench.app_server import CHROMIUM, CHROMIUM_ARGS, ROOT, start_app
from bench.bench_slider_browser import NEW_CHART
from bench.bench_sweep_browser import COUNT_PANELS, PANELS_AT
from bench.viewers import long_race, step_of

pytestmark = pytest.mark.browser

ARTIFACTS = os.path.join(ROOT, "test-artifacts")
# large enough to stay live for several seconds under the compiled loop (d = 60 finished in < 1 s)
RACE = "pg_steps=60000&pg_dim=2000&pg_samples=100&pg_seed=11"

if not os.path.exists(CHROMIUM):
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def store_folder(tmp_path_factory):
    return str(tmp_path_factory.mktemp("browser-store"))


@pytest.fixture(scope="module")
def server(store_folder):
    try:
        proc, url = start_app(store=store_folder)
    except RuntimeError as e:
        pytest.fail(str(e))
    yield url
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _wait_for_charts(page, at_least, timeout_s=60):
    """The number of Plotly charts once it reaches `at_least`, or the count at the deadline:
    Streamlit renders a page's charts one after another, so one visible chart is not all of them."""
    charts = page.get_by_test_id("stPlotlyChart")
    deadline = time.perf_counter() + timeout_s
    while charts.count() < at_least and time.perf_counter() < deadline:
        page.wait_for_timeout(200)
    return charts.count()


def _progress_text(page):
    return page.get_by_test_id("stProgress").first.inner_text(timeout=30_000)


def test_live_race_and_permalink(server, browser):
    os.makedirs(ARTIFACTS, exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{server}/playground?{RACE}")
    run = page.get_by_role("button", name="▶ Run")
    run.wait_for(timeout=60_000)
    sync_api.expect(page.get_by_text("Press Run")).to_be_visible(timeout=30_000)
    page.wait_for_timeout(10_000)  # the worker starts with the server; let it finish importing torch
    start = time.perf_counter()
    run.click()
    page.get_by_test_id("stPlotlyChart").first.wait_for(state="visible", timeout=60_000)
    first_point = time.perf_counter() - start
    before = _progress_text(page)
    page.screenshot(path=os.path.join(ARTIFACTS, "playground-running.png"))
    page.wait_for_timeout(2500)
    after = _progress_text(page)
    assert before != after, "the live view did not update while the race ran"
    # Regression: with a pages/ folder, Streamlit 1.67 dropped the menu and wide layout on
    # fragment reruns of a non-default page.
    assert page.get_by_test_id("stTopNavLink").count() == 6

    sync_api.expect(page.get_by_text("Finished.")).to_be_visible(timeout=180_000)
    run_to_finished = time.perf_counter() - start
    page.screenshot(path=os.path.join(ARTIFACTS, "playground-finished.png"), full_page=True)
    href = page.get_by_role("link", name="Permalink to this result").get_attribute("href")
    assert "run=" in href

    second = context.new_page()
    start = time.perf_counter()
    second.goto(urllib.parse.urljoin(page.url, href))
    second.get_by_test_id("stPlotlyChart").first.wait_for(state="visible", timeout=60_000)
    open_stored = time.perf_counter() - start
    key = href.split("run=")[1]
    sync_api.expect(second.get_by_text(key[:16], exact=False)).to_be_visible()
    assert _wait_for_charts(second, 6) >= 6
    second.screenshot(path=os.path.join(ARTIFACTS, "result-permalink.png"), full_page=True)
    with open(os.path.join(ARTIFACTS, "browser-timings.json"), "w") as f:
        json.dump({"run_to_first_plotted_point_s": round(first_point, 2), "run_to_finished_s": round(run_to_finished, 2),
                   "open_stored_result_s": round(open_stored, 2)}, f)
    print(f"\nRun → first plotted point: {first_point:.2f} s; open stored result: {open_stored:.2f} s")
    context.close()
    _screenshot_every_page(browser, server, href)


def test_a_keyboard_drag_runs_one_race_with_no_click_and_keeps_the_previous_beside_it(server, browser, store_folder):
    """Four presses of → on Adam's β2 slider, faster than the debounce: only the value it rests on
    is run (one new race in the store), drawn with no click beside the previous setting, named."""
    from agmcore.presentation.playground import build_race, key_of
    from agmcore.storage.store import ResultStore, race_key

    def stored():
        return {entry["key"] for entry in ResultStore(store_folder).gallery()}

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/playground")
    sync_api.expect(page.get_by_text("Finished.")).to_be_visible(timeout=120_000)  # the shipped default race
    page.wait_for_timeout(2000)
    before = stored()
    thumb = page.get_by_role("slider").nth(2)  # Adam's η, β1, β2
    assert thumb.get_attribute("aria-valuetext") == "0.9"
    thumb.focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(60)
    assert thumb.get_attribute("aria-valuetext") == "0.995"
    page.wait_for_function(NEW_CHART, arg="0.995", polling="raf", timeout=60_000)
    sync_api.expect(page.get_by_test_id("before-after")).to_contain_text("Adam β2 0.9 → 0.995", timeout=60_000)
    sync_api.expect(page.get_by_text("Finished.")).to_be_visible(timeout=60_000)
    page.wait_for_timeout(2000)
    page.screenshot(path=os.path.join(ARTIFACTS, "playground-before-after.png"), full_page=True)
    keys = {b: race_key(build_race({key_of("adam", "beta2"): b})) for b in (0.95, 0.98, 0.99, 0.995)}
    added = stored() - before
    assert added == {keys[0.995]}, f"{len(added)} races stored for one drag"
    page.close()


def test_a_swept_knob_scrubs_through_stored_races_and_its_link_reopens_it(server, browser, store_folder):
    """"Sweep" on SGD's η: every value's race stored (none in the Gallery); a press of → then
    shows the next value's race in every panel with nothing computed, the strip's mark moves, and
    the page's link (pg_sweep) reopens the sweep."""
    from agmcore.presentation.knob_sweep import sweep_races
    from agmcore.storage.store import ResultStore, race_key

    setting = "pg_steps=20000&pg_seed=3"
    races = [race for _, race in sweep_races({"pg_steps": 20000, "pg_seed": 3}, "pg_sgd_lr")[0]]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/playground?{setting}&pg_sweep=pg_sgd_lr")
    sweep = page.get_by_role("button", name="Sweep sgd learning rate η")
    sweep.wait_for(timeout=90_000)
    gallery = len(ResultStore(store_folder).gallery())  # the shipped races, put in the store as the page opened
    sweep.click()
    page.get_by_text("races of this sweep are stored").wait_for(timeout=180_000)
    store = ResultStore(store_folder)
    assert all(store.usable_race(race_key(r)) is not None for r in races)
    assert len(store.gallery()) == gallery
    if not page.get_by_text("Finished.").count():
        page.get_by_role("button", name="▶ Run").click()  # the current value's race: from the store
    sync_api.expect(page.get_by_text("Finished.")).to_be_visible(timeout=60_000)
    page.wait_for_timeout(1500)
    least = page.evaluate(COUNT_PANELS, "sgd ")
    thumb = page.get_by_role("slider").nth(3)  # Adam's η, β1, β2, then SGD's η
    assert thumb.get_attribute("aria-valuetext") == "0.1" and least >= 3
    thumb.focus()
    page.keyboard.press("ArrowRight")
    assert thumb.get_attribute("aria-valuetext") == "0.2"
    page.wait_for_function(PANELS_AT, arg=["sgd ", "η=0.2", least], polling="raf", timeout=30_000)
    sync_api.expect(page.get_by_text("Finished.")).to_be_visible(timeout=30_000)
    strip = page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')].map(p => (p.layout.title && "
                          "p.layout.title.text || '').replace(/<[^>]*>/g, '')).filter(t => t.startsWith('Final measures'))")
    assert strip == ["Final measures at Φ(θ̄) against sgd learning rate η (dashed: 0.2)"]
    assert "pg_sweep=pg_sgd_lr" in page.url
    page.goto(page.url)  # the link reopens the sweep, every race stored
    page.get_by_text("All 13 races of this sweep are stored").wait_for(timeout=60_000)
    _wait_for_charts(page, 8)
    page.wait_for_timeout(2000)  # the strip drawn
    page.screenshot(path=os.path.join(ARTIFACTS, "playground-sweep.png"), full_page=True)
    page.close()


MAP_COMPUTED = """() => {  // every cell of the map coloured: each race stored
  const gd = document.querySelector('.st-key-pg_map_chart .js-plotly-plot');
  return !!gd && gd.data[0].z.every(row => row.every(v => v !== null && v !== undefined));
}"""
CELL_AT = """([i, j]) => {  // the page position of map cell (i across, j up): Plotly's own axes
  const gd = document.querySelector('.st-key-pg_map_chart .js-plotly-plot');
  const box = gd.getBoundingClientRect(), xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  return [box.left + xa._offset + xa.l2p(i), box.top + ya._offset + ya.l2p(j)];
}"""


def test_a_map_of_two_knobs_opens_the_race_of_a_clicked_cell(server, browser):
    """η × β2 of Adam, 10 × 10 cells: computed in the background, then a click on a cell moves both
    sliders to its values and opens its race from the store."""
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(f"{server}/playground?pg_steps=3000&pg_seed=4&pg_map=pg_adam_lr,pg_adam_beta2")
    page.get_by_role("button", name="Compute the map").click(timeout=90_000)
    page.wait_for_function(MAP_COMPUTED, polling=500, timeout=240_000)
    chart = page.locator(".st-key-pg_map_chart .js-plotly-plot").first
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    x, y = page.evaluate(CELL_AT, [2, 7])  # η = 0.01 (0.002, 0.005, 0.01, …); 1 − β2 = 0.1 (0.0005, …, 0.1)
    page.mouse.click(x, y)
    sliders = page.get_by_role("slider")
    sync_api.expect(sliders.nth(0)).to_have_attribute("aria-valuetext", "0.01", timeout=30_000)
    sync_api.expect(sliders.nth(2)).to_have_attribute("aria-valuetext", "0.9", timeout=30_000)
    sync_api.expect(page.get_by_text("Finished.")).to_be_visible(timeout=30_000)
    page.wait_for_function(PANELS_AT, arg=["adam ", "η=0.01 β2=0.9", 3], polling="raf", timeout=30_000)
    page.screenshot(path=os.path.join(ARTIFACTS, "playground-map.png"), full_page=True)
    page.close()


def test_the_teacher_mode_summary_table_fits_a_projector_width(server, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(f"{server}/playground?teacher=1")
    table = page.get_by_test_id("race-summary")
    table.wait_for(timeout=120_000)
    page.wait_for_timeout(1000)
    scroll, width = page.evaluate("() => { const d = document.querySelector('[data-testid=race-summary]');"
                                  " return [d.scrollWidth, d.clientWidth]; }")
    assert scroll <= width, f"the table is {scroll - width} px wider than the page"
    page.close()


PAGES = {"home": "/", "home-path": "/home", "playground": f"/playground?{RACE}", "gallery": "/gallery", "experiments": "/experiments",
         "notes": "/notes?doc=sample-complexity"}


def _screenshot_every_page(browser, server, result_href):
    """Every page, normal and in teacher mode, tall enough to hold all its panels, for review; in
    teacher mode the charts' axis text is at least 18 px."""
    context = browser.new_context(viewport={"width": 1440, "height": 4000})
    page = context.new_page()
    pages = dict(PAGES, result="/" + result_href.lstrip("/"))
    for name, path in pages.items():
        for teacher in (False, True):
            url = server + path + (("&" if "?" in path else "?") + "teacher=1" if teacher else "")
            page.goto(url)
            page.get_by_test_id("stTopNavLink").first.wait_for(timeout=60_000)
            page.wait_for_timeout(1000)
            assert page.get_by_text("Page not found").count() == 0, path  # /home too
            if name in ("playground", "result"):
                _wait_for_charts(page, 7)
            page.wait_for_timeout(1500)
            page.screenshot(path=os.path.join(ARTIFACTS, f"page-{name}{'-teacher' if teacher else ''}.png"))
            if teacher and name in ("playground", "result"):
                sizes = page.eval_on_selector_all(
                    "[data-testid=stPlotlyChart] .xtick text, [data-testid=stPlotlyChart] .ytick text",
                    "nodes => nodes.map(n => parseFloat(getComputedStyle(n).fontSize))")
                assert sizes and min(sizes) >= 18, (name, min(sizes or [0]))
            if teacher and name == "result":
                for i in range(page.get_by_test_id("stPlotlyChart").count()):
                    page.get_by_test_id("stPlotlyChart").nth(i).screenshot(
                        path=os.path.join(ARTIFACTS, f"panel-{i}-teacher.png"))
    context.close()


CLASSROOM_RACE = long_race(seed=4244)
CLASSROOM = 10  # browsers that open the lecturer's race
# seconds after which a tab that has drawn no chart is stuck: not a speed claim. Ten Chromium tabs
# share this machine's two cores with the server and the race, and loading the app is most of their
# wait (docs/benchmarks.md, "Ten real browsers"; bench/bench_classroom_browsers.py measures it)
STUCK_AFTER = 240
# seconds for every step counter to move on: the ten tabs slow the race to ≈ 6,000 steps/s, a
# logged step (12,500) every ≈ 2 s, and a tab drawing seven charts on a shared core lags behind
COUNTER_WITHIN = 30


def _step(page) -> int:
    return step_of(_progress_text(page))


def test_ten_browsers_watch_the_lecturers_race(server, browser):
    """One browser starts a long race; ten more, each its own session, open the same URL: every one
    sees the charts and a step counter that moves forward, and only the lecturer may stop it."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    url = f"{server}/playground?{CLASSROOM_RACE}"
    contexts = [browser.new_context(viewport={"width": 1200, "height": 900}) for _ in range(CLASSROOM + 1)]
    try:
        lecturer, *viewers = [context.new_page() for context in contexts]
        lecturer.goto(url)
        lecturer.get_by_role("button", name="▶ Run").click(timeout=60_000)
        lecturer.get_by_test_id("stPlotlyChart").first.wait_for(state="visible", timeout=60_000)
        for page in viewers:  # the class opens the link at once
            page.goto(url, wait_until="commit")
        opened, first_chart = time.perf_counter(), [None] * CLASSROOM
        while None in first_chart and time.perf_counter() - opened < STUCK_AFTER:
            for i, page in enumerate(viewers):
                if first_chart[i] is None and page.get_by_test_id("stPlotlyChart").count():
                    first_chart[i] = round(time.perf_counter() - opened, 1)
            lecturer.wait_for_timeout(250)
        assert None not in first_chart, f"{first_chart.count(None)} of {CLASSROOM} saw no chart in {STUCK_AFTER} s"
        before = [_step(page) for page in viewers]
        after, deadline = list(before), time.perf_counter() + COUNTER_WITHIN
        while any(b <= a for a, b in zip(before, after)) and time.perf_counter() < deadline:
            lecturer.wait_for_timeout(1000)
            after = [b if b > a else _step(page) for a, b, page in zip(before, after, viewers)]
        moved = [b > a for a, b in zip(before, after)]
        assert all(moved), f"step counters that stood still: {moved.count(False)} of {CLASSROOM} ({before} → {after})"
        for page in viewers:
            assert _wait_for_charts(page, 7) >= 7
            sync_api.expect(page.get_by_role("button", name="■ Stop")).to_be_disabled()
            sync_api.expect(page.get_by_text("started in another browser")).to_be_visible()
        viewers[-1].screenshot(path=os.path.join(ARTIFACTS, "classroom-viewer.png"))
        with open(os.path.join(ARTIFACTS, "classroom-timings.json"), "w") as f:
            json.dump({"browsers": CLASSROOM, "first_chart_s": first_chart,
                       "steps_before": before, "steps_after": after}, f)
        for context in contexts[1:]:  # the class leaves: the lecturer's tab gets the CPU it needs to stop
            context.close()
        lecturer.get_by_role("button", name="■ Stop").click()  # frees the worker for what follows
        sync_api.expect(lecturer.get_by_text("Stopped at step")).to_be_visible(timeout=30_000)
    finally:
        for context in contexts:
            context.close()  # closing one that is closed already does nothing
