"""Every page with AppTest: renders, controls, a tiny race, stored results, bad keys."""
import json
import os
import time

import pytest
from streamlit.testing.v1 import AppTest

from agmcore.engine.config import DiagNetTask, OptimizerConfig, RunConfig
from agmcore.engine.results import to_document
from agmcore.engine.runner import run_all
from agmcore.storage.store import ResultStore, race_key

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP = os.path.join(ROOT, "app.py")
TINY = {"pg_steps": "400", "pg_dim": "20", "pg_samples": "8"}


def _app(page=None, **query):
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _wait(at, done, timeout=90):
    """Rerun the app (AppTest does not fire run_every timers) until done(at)."""
    end = time.time() + timeout
    while time.time() < end:
        at.run()
        assert not at.exception, at.exception
        if done(at):
            return at
        time.sleep(0.3)
    raise AssertionError("timed out")


@pytest.fixture(scope="module")
def stored_race():
    configs = [RunConfig(task=DiagNetTask(dim=20, samples=8), optimizer=OptimizerConfig(name=n, lr=lr),
                         steps=300, log_every=100, seed=5) for n, lr in (("adam", 0.05), ("sgd", 0.05))]
    ResultStore().put_race(configs, [to_document(r) for r in run_all(configs)])
    return race_key(configs)


def test_home_renders_formulas_and_presets():
    at = _app()
    assert "implicit bias" in " ".join(m.value for m in at.markdown)
    assert len(at.get("latex")) == 3
    assert [b.label for b in at.button] == ["Adam vs SGD on sparse regression", "Matrix factorization: Adam vs SGD",
                                            "Matrix factorization over the poster's horizon", "AdamE-λ dial"]


def test_preset_opens_the_playground_with_its_settings():
    at = _app()
    at.button[1].click().run()
    assert not at.exception
    assert at.selectbox(key="pg_task").value == "matrix-factorization"
    assert at.select_slider(key="pg_rank").value == 2 and at.select_slider(key="pg_samples").value == 120


def test_playground_controls_and_a_tiny_race():
    at = _app("app_pages/playground.py", **TINY)
    assert at.selectbox(key="pg_task").value == "diag-net"
    assert at.multiselect(key="pg_opts").value == ["adam", "sgd"]
    assert at.select_slider(key="pg_steps").value == 400
    assert "Press **Run**" in at.info[0].value
    at.button(key="pg_run").click().run()
    assert not at.exception
    _wait(at, lambda a: len(a.success) > 0)
    assert "stored" in at.success[0].value
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert titles == ["Sharpness at the denoised iterate", "Implicit bias at the denoised iterate",
                      "Test loss ½‖w − w*‖²", "Verdict: each measure ÷ SGD's",
                      "w at the denoised iterate against the truth w*", "Weights at Φ(θ̄) over time: Adam",
                      "Weights at Φ(θ̄) over time: SGD"]
    assert any(m.value.startswith("**Verdict at the denoised iterate:**") for m in at.markdown)
    [table] = [h.proto.body for h in at.get("html") if "race-summary" in h.proto.body]  # the numbers, one row a run
    assert table.count("<tr>") == 3 and "test loss at Φ(θ̄)" in table and "adam" in table and "sgd" in table
    assert "Downloads" in [s.value for s in at.subheader]
    labels = [b.label for b in at.get("download_button")]
    assert sum(label.startswith("JSON: ") for label in labels) == 2  # one per optimizer of the race
    assert "CSV of the histories" in labels
    assert {label.split(" (")[0] for label in labels if label.startswith("Figure: ")} == \
        {"Figure: loss", "Figure: sharpness", "Figure: bias", "Figure: verdict"}


def _race_key(settings):
    from agmcore.presentation.playground import build_race

    return race_key(build_race(settings))


def test_a_moved_slider_runs_the_new_race_with_no_click_and_keeps_the_previous_beside_it():
    from ui.services import manager

    at = _app("app_pages/playground.py", **TINY)
    at.button(key="pg_run").click().run()
    _wait(at, lambda a: len(a.success) > 0)
    new = _race_key({**{k: int(v) for k, v in TINY.items()}, "pg_adam_beta2": 0.95})
    assert manager().job(new) is None
    at.select_slider(key="pg_adam_beta2").set_value(0.95).run()  # no click on Run
    assert not at.exception
    assert manager().job(new) is not None  # started by the move
    _wait(at, lambda a: len(a.success) > 0)
    [change] = [h.proto.body for h in at.get("html") if "before-after" in h.proto.body]
    assert "Adam β2 0.9 → 0.95" in change and "Adam: tr(Diag(H)^½) " in change and "SGD: tr(H) " in change
    names = [t.get("name", "") for c in at.get("plotly_chart") for t in json.loads(c.proto.spec)["data"]]
    assert any(n.startswith("previous setting: adam η=0.1 β2=0.9") for n in names)
    assert any(n.startswith("adam η=0.1 β2=0.95") for n in names)
    at.button(key="pg_clear_previous").click().run()
    assert not [h for h in at.get("html") if "before-after" in h.proto.body]
    names = [t.get("name", "") for c in at.get("plotly_chart") for t in json.loads(c.proto.spec)["data"]]
    assert not any(n.startswith("previous setting: ") for n in names)


def test_a_page_opened_or_redrawn_starts_nothing_and_a_long_race_waits_for_run():
    from ui.services import manager

    settings = {**TINY, "pg_seed": "91"}
    at = _app("app_pages/playground.py", **settings)
    key = _race_key({k: int(v) for k, v in settings.items()})
    at.run()
    assert manager().job(key) is None  # opening a link, or a rerun with nothing changed, runs nothing
    at.select_slider(key="pg_steps").set_value(10_000_000).run()
    long = _race_key({**{k: int(v) for k, v in settings.items()}, "pg_steps": 10_000_000})
    assert manager().job(long) is None
    assert any("s of compute: it starts when you click ▶ Run" in c.value for c in at.caption)


def test_an_exact_value_typed_moves_its_slider():
    at = _app("app_pages/playground.py", **TINY)
    at.number_input(key="pg_adam_lr__exact").set_value(0.0123).run()
    assert not at.exception
    assert at.select_slider(key="pg_adam_lr").value == 0.0123
    assert at.number_input(key="pg_adam_lr__exact").value == 0.0123
    at.select_slider(key="pg_adam_lr").set_value(0.05).run()
    assert at.number_input(key="pg_adam_lr__exact").value == 0.05  # the box follows the slider


def test_playground_bad_settings_show_a_message():
    at = _app("app_pages/playground.py", pg_dim="5", pg_sparsity="9")
    assert "cannot run" in at.error[0].value and "sparsity" in at.error[0].value


def test_second_session_attaches_to_a_running_race():
    from agmcore.presentation.playground import build_race
    from ui.services import manager

    settings = {"pg_steps": 10_000_000, "pg_dim": 30, "pg_samples": 10, "pg_seed": 77}  # runs for seconds
    key = manager().submit(build_race(settings), owner="the lecturer's browser")
    try:
        at = _app("app_pages/playground.py", **{k: str(v) for k, v in settings.items()})
        _wait(at, lambda a: len(a.get("progress")) > 0 or len(a.info) > 0)
        assert at.get("progress") or "queue" in at.info[0].value
        assert not any("Press **Run**" in i.value for i in at.info)
        assert at.button(key="pg_stop").disabled  # Stop belongs to who started it
        assert any("started in another browser" in c.value for c in at.caption)
        manager().cancel(key, who=at.session_state["session_id"])  # nor can this session's id stop it
        assert manager().job(key).active
    finally:
        manager().cancel(key, who="the lecturer's browser")
    deadline = time.time() + 30
    while manager().job(key).active and time.time() < deadline:
        time.sleep(0.1)
    assert not manager().job(key).active  # the starter's Stop works


def test_result_page_shows_a_stored_race(stored_race):
    at = _app("app_pages/result.py", run=stored_race)
    assert not at.error
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert titles[:5] == ["Sharpness at the denoised iterate", "Implicit bias at the denoised iterate",
                          "Test loss ½‖w − w*‖²", "Verdict: each measure ÷ SGD's",
                          "w at the denoised iterate against the truth w*"]
    assert len(titles) == 7  # and the weights of each of the two runs over time
    assert stored_race in at.caption[0].value
    assert any("Open in Playground" in str(p.proto) for p in at.get("page_link"))


@pytest.mark.parametrize("value, fragment", [("not-a-key", "malformed"), ("0" * 64, "No stored result")])
def test_result_page_bad_keys(value, fragment):
    at = _app("app_pages/result.py", run=value)
    assert fragment in at.error[0].value


def test_result_page_without_key():
    at = _app("app_pages/result.py")
    assert "No run given" in at.info[0].value


def test_gallery_lists_and_filters(stored_race):
    at = _app("app_pages/gallery.py")
    text = " ".join(m.value for m in at.markdown)
    assert f"/result?run={stored_race}" in text
    at.multiselect(key="gl_opt").set_value(["shampoo"]).run()
    assert "No stored runs match" in at.info[0].value


def _styles(at):
    """Style-only st.html goes to the event container, outside main and sidebar."""
    return [str(node.proto) for block in at._tree.children.values() for node in block.children.values()
            if type(node).__name__ == "Html"]


def test_teacher_mode_hides_controls_and_enlarges_fonts():
    at = _app(teacher="1")
    assert any("stSidebar" in s and "display: none" in s and "font-size" in s for s in _styles(at))
    assert not _styles(_app())


@pytest.mark.shipped
def test_experiments_page_shows_the_shipped_result_and_offers_to_run_the_cells():
    """A fresh store: the default sweep's shipped summary and figure (agmcore/assets/), marked shipped,
    with the button to compute its cells here."""
    from agmcore import experiments

    at = _app("app_pages/experiments.py")
    assert at.selectbox(key="ex_name").value == "sample-complexity"
    assert "Shipped result" in at.info[0].value and "0 of them are stored here" in at.info[0].value
    default = experiments.EXPERIMENTS["sample-complexity"].seeds
    assert at.slider(key="ex_seeds").value == default == 10
    cells = len(experiments.EXPERIMENTS["sample-complexity"].build("classroom", default))
    assert cells == 200
    assert any(c.value.startswith(f"What it runs: {cells} cells, seeds 0–9, ") for c in at.caption)  # the horizon
    assert at.button(key="ex_run").label.startswith(f"▶ Run the {cells} missing cells")
    assert at.success and "claim held" in at.success[0].value
    [chart] = at.get("plotly_chart")
    assert "half the seeds recover" in json.loads(chart.proto.spec)["layout"]["title"]["text"]
    at.selectbox(key="ex_name").set_value("sharpness-race").run()  # another experiment: its own default
    assert at.slider(key="ex_seeds").value == experiments.EXPERIMENTS["sharpness-race"].seeds == 30
    parts = next(m.value for m in at.markdown if "held on 20/20 seeds" in m.value)  # each part with its fraction
    assert "✓ adam measures" in parts and "· oracles (measured, not part of the claim) — held on 10/20" in parts
    at.slider(key="ex_seeds").set_value(4).run()  # cells nothing was shipped for
    assert "cells are stored" in at.info[0].value and not at.get("plotly_chart")


def test_experiments_page_offers_the_scales_an_experiment_ships_and_says_where_cells_run(monkeypatch):
    at = _app("app_pages/experiments.py")
    assert at.radio(key="ex_scale").options == ["classroom", "d2000"]  # paper scale: only with a cluster
    at.radio(key="ex_scale").set_value("d2000").run()
    assert not at.exception
    claim = next(m.value for m in at.markdown if m.value.startswith("**Claim.**"))
    assert "d = 2000 scale" in claim and "reproduce sample-complexity --scale d2000 --seeds 10" in claim
    assert "Shipped result" in at.info[0].value and "these 140 cells" in at.info[0].value  # the d2000 record
    assert at.success[0].value.startswith("The claim held") and at.get("plotly_chart")
    assert any(c.value.startswith("What it runs: 140 cells, seeds 0–9, 100,000 or 1,000,000 steps") for c in at.caption)
    assert any(c.value.startswith("They run here: about ") and " min on this machine's" in c.value for c in at.caption)
    at.selectbox(key="ex_name").set_value("matrix-factorization").run()  # one scale shipped: classroom again
    assert at.radio(key="ex_scale").value == "classroom" and at.radio(key="ex_scale").options == ["classroom"]
    monkeypatch.setenv("SHARPNESS_LAB_CLUSTER", "10.0.0.7:6379")
    at = _app("app_pages/experiments.py", ex_scale="paper")
    assert at.radio(key="ex_scale").options == ["classroom", "d2000", "paper"] and at.radio(key="ex_scale").value == "paper"
    assert any(c.value.startswith("They run on the Ray cluster at 10.0.0.7:6379") for c in at.caption)
    monkeypatch.delenv("SHARPNESS_LAB_CLUSTER")
    at = _app("app_pages/experiments.py", ex_scale="paper")  # a link to paper scale, without a cluster
    assert at.radio(key="ex_scale").value == "classroom" and not at.exception


def test_experiments_page_shows_a_stored_sweep(monkeypatch):
    from agmcore import experiments
    from agmcore.experiments.sweeps import collect

    monkeypatch.setitem(experiments.SAMPLE_COMPLEXITY, "classroom",
                        dict(dim=30, sparsity=2, samples=(6, 12), steps=200, log_every=100))
    configs = experiments.sample_complexity_cells("classroom", 1)
    held = experiments.EXPERIMENTS["sample-complexity"].summarize(configs, collect(configs, ResultStore(), "cpu"))["claim_holds"]
    at = _app("app_pages/experiments.py", ex_seeds="1")
    shown = at.success if held else at.warning  # the page says what the summary of these cells says
    assert len(shown) == 1 and len(at.success) + len(at.warning) == 1
    assert len(at.get("plotly_chart")) == 1


@pytest.mark.slow  # an agmcore sweep process
def test_experiments_page_runs_the_missing_cells_as_a_sweep_into_the_store(monkeypatch):
    """The page's run is the CLI's chunked sweep: every cell stored under its own key, counted out
    of the total, and no Gallery race made of them."""
    from agmcore import experiments

    monkeypatch.setitem(experiments.SAMPLE_COMPLEXITY, "classroom",
                        dict(dim=24, sparsity=2, samples=(6, 10), steps=300, log_every=100))
    configs = experiments.sample_complexity_cells("classroom", 2)
    store = ResultStore()
    races_before = len(store.gallery())
    at = _app("app_pages/experiments.py", ex_seeds="2")
    assert at.button(key="ex_run").label.startswith(f"▶ Run the {len(configs)} missing cells")
    at.button(key="ex_run").click().run()
    _wait(at, lambda at: bool(at.get("plotly_chart")), timeout=180)
    assert all(store.usable_run(c.key) is not None for c in configs)
    assert len(store.gallery()) == races_before
    assert len(at.success) + len(at.warning) == 1 and not at.error


def _points_in_first_trace(chart) -> int:
    """Points of the first trace of a chart's Plotly spec (float32 arrays travel as base64)."""
    import base64

    xs = json.loads(chart.proto.spec)["data"][0]["x"]
    return len(base64.b64decode(xs["bdata"])) // 4 if isinstance(xs, dict) else len(xs)


def test_result_page_replays_the_race_from_any_step(stored_race):
    """The step slider cuts every history panel at that step; playing advances it and stops at the end."""
    from ui.replay import SPEEDS

    at = _app("app_pages/result.py", run=stored_race)
    slider = at.select_slider(key="result_replay_step")
    steps = [int(s) for s in slider.options]  # AppTest lists the options as text
    assert slider.value == steps[-1] and len(steps) > 2
    full = _points_in_first_trace(at.get("plotly_chart")[0])
    slider.set_value(steps[1]).run()
    assert not at.exception
    assert _points_in_first_trace(at.get("plotly_chart")[0]) == 2 < full
    assert any("shows the end of the race" in c.value for c in at.caption)
    at.toggle(key="result_replay_playing").set_value(True).run()  # from step 1, one frame further
    assert not at.exception
    assert at.select_slider(key="result_replay_step").value == steps[min(1 + SPEEDS["normal"], len(steps) - 1)]
    assert at.toggle(key="result_replay_playing").value is False  # it reached the end and stopped


def test_damaged_entries_show_a_message_not_a_traceback(stored_race):
    """A race whose stored JSON is corrupt: the Result page says it is damaged; the Gallery lists
    the others and says how many it skipped (agmcore/storage/store.py)."""
    configs = [RunConfig(task=DiagNetTask(dim=20, samples=8), optimizer=OptimizerConfig(name="sgd", lr=0.05),
                         steps=100, log_every=50, seed=s) for s in (61, 62)]
    store = ResultStore()
    damaged = store.put_race(configs[:1], [to_document(r) for r in run_all(configs[:1])])
    store.cache.set(f"race:{damaged}", "{not json")
    store.cache.set(f"index:{damaged}", json.dumps({"key": damaged}))
    at = _app("app_pages/result.py", run=damaged)
    assert "is damaged" in at.error[0].value and "run the race again" in at.error[0].value
    at = _app("app_pages/gallery.py")
    assert "damaged and not listed" in at.warning[0].value
    text = " ".join(m.value for m in at.markdown)
    assert f"/result?run={stored_race}" in text and damaged not in text
    store.cache.delete(f"race:{damaged}")
    store.cache.delete(f"index:{damaged}")


def test_settings_that_cannot_work_stop_the_app_with_a_message(monkeypatch):
    monkeypatch.setenv("SHARPNESS_LAB_WORKERS", "abc")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "SHARPNESS_LAB_WORKERS='abc' is not a whole number" in at.error[0].value


@pytest.mark.parametrize("query, notice", [
    ({"pg_steps": "inf"}, "pg_steps=inf is not a whole number between 100 and 10,000,000: using 100,000"),
    ({"pg_dim": "9" * 5000}, "is not a whole number between 2 and 20,000: using 100"),
    ({"pg_adam_lr": "-1"}, "pg_adam_lr=-1 is not a number between 1e-06 and 10: using 0.1"),
    ({"pg_dim": "abc"}, "pg_dim=abc is not a whole number"),
    ({"pg_task": "mnist"}, "pg_task=mnist is not a task"),
    ({"pg_noise": "nan", "pg_seed": "5"}, "pg_noise=nan is not a number between 0 and 10"),
])
def test_bad_url_values_are_named_never_a_traceback(query, notice):
    at = _app("app_pages/playground.py", **query)
    assert [w.value for w in at.warning if notice in w.value], [w.value for w in at.warning]
    assert at.select_slider(key="pg_steps").value == 100_000 and at.select_slider(key="pg_dim").value == 100
    if "pg_seed" in query:  # a valid parameter beside a bad one is kept
        assert at.number_input(key="pg_seed").value == 5


def _swept_races(settings, knob):
    from agmcore.presentation.knob_sweep import sweep_races

    return [race for _, race in sweep_races({**{k: int(v) for k, v in settings.items()}}, knob)[0]]


@pytest.mark.slow  # an agmcore sweep process
def test_a_swept_knob_stores_each_value_and_its_link_reopens_the_strip():
    """"Sweep" computes every value's race in the background; then each value opens from the store
    with no click, and the strip marks the current value."""
    from ui.services import manager

    races = _swept_races(TINY, "pg_sgd_lr")
    missing = sum(ResultStore().usable_race(race_key(r)) is None for r in races)  # an earlier test ran the default
    at = _app("app_pages/playground.py", **TINY, pg_sweep="pg_sgd_lr")
    assert at.selectbox(key="pg_sweep_knob").value == "pg_sgd_lr"
    [sweep] = [b for b in at.button if b.key == "pg_sweep_run"]
    assert missing >= len(races) - 1
    assert sweep.label.startswith(f"Sweep sgd learning rate η: {missing} of {len(races)} races to compute")
    sweep.click().run()
    _wait(at, lambda a: any("races of this sweep are stored" in c.value for c in a.caption), timeout=240)
    store = ResultStore()
    assert all(store.usable_race(race_key(r)) is not None for r in races)
    strip = [c for c in at.get("plotly_chart") if "Final measures" in c.proto.spec]
    assert len(strip) == 1 and "against sgd learning rate η (dashed: 0.1)" in strip[0].proto.spec
    at.select_slider(key="pg_sgd_lr").set_value(0.2).run()
    assert manager().job(race_key(_swept_races({**TINY, "pg_sgd_lr": 0.2}, "pg_sgd_lr")[0])) is None
    assert len(at.success) == 1 and "stored" in at.success[0].value  # from the store, nothing computed
    strip = [c for c in at.get("plotly_chart") if "Final measures" in c.proto.spec]
    assert "(dashed: 0.2)" in strip[0].proto.spec
    assert at.query_params["pg_sweep"] == "pg_sgd_lr"  # the link reopens it


def test_a_sweep_named_in_the_url_that_is_no_slider_gives_a_notice():
    at = _app("app_pages/playground.py", **TINY, pg_sweep="pg_nonsense")
    assert any("pg_sweep=pg_nonsense names no slider" in w.value for w in at.warning)
    assert at.selectbox(key="pg_sweep_knob").value == ""
    assert not [c for c in at.get("plotly_chart") if "Final measures" in c.proto.spec]


def test_a_sweep_too_long_to_run_here_is_refused_with_what_to_lower():
    at = _app("app_pages/playground.py", pg_steps="1000000", pg_sweep="pg_dim")
    assert any("more than the 300 s a sweep may take here" in w.value for w in at.warning)
    assert not [b for b in at.button if b.key == "pg_sweep_run"]
    assert any("d = 2" in c.value for c in at.caption)  # the value that cannot run is named


def test_home_opens_with_the_shipped_sample_complexity_figure_and_links_its_notes():
    at = _app()
    [picture] = at.get("plotly_chart")
    assert "half the seeds recover from n" in picture.proto.spec
    captions = " ".join(c.value for c in at.caption)
    assert "[docs/regime-scan.md](notes?doc=regime-scan)" in captions


@pytest.mark.parametrize("doc", ["denoising", "sample-complexity"])
def test_the_notes_page_renders_a_note_its_images_and_links_to_the_others(doc):
    at = _app("app_pages/notes.py", doc=doc)
    text = " ".join(m.value for m in at.markdown)
    with open(os.path.join(ROOT, "docs", f"{doc}.md"), encoding="utf-8") as f:
        title = f.readline().strip("# \n")
    assert title in text
    assert "](notes?doc=" in text or doc == "denoising"
    images = [e for e in at.main if type(e).__name__ == "Image"]
    assert len(images) == (1 if doc == "sample-complexity" else 0)


def test_the_notes_page_names_a_missing_note():
    at = _app("app_pages/notes.py", doc="../README")
    assert any("There is no note" in w.value for w in at.warning) and at.markdown



@pytest.mark.slow  # an agmcore sweep process
def test_a_map_of_two_knobs_computes_every_cell_and_colours_each():
    at = _app("app_pages/playground.py", **TINY, pg_map="pg_adam_lr,pg_adam_beta2")
    [run] = [b for b in at.button if b.key == "pg_map_run"]
    assert run.label.startswith("Compute the map: ") and " of 100 races" in run.label
    run.click().run()
    _wait(at, lambda a: not [b for b in a.button if b.key == "pg_map_run"] and not a.get("progress"), timeout=300)
    [chart] = [c for c in at.get("plotly_chart") if "click a cell to open its race" in c.proto.spec]
    heat = json.loads(chart.proto.spec)["data"][0]
    assert heat["type"] == "heatmap" and all(v is not None for row in heat["z"] for v in row)
    assert any(t.get("name", "").startswith("2-scheme") for t in json.loads(chart.proto.spec)["data"])
    assert at.query_params["pg_map"] == "pg_adam_lr,pg_adam_beta2"


def test_a_map_named_in_the_url_that_is_not_two_sliders_gives_a_notice():
    at = _app("app_pages/playground.py", **TINY, pg_map="pg_adam_lr,pg_adam_lr")
    assert any("pg_map=pg_adam_lr,pg_adam_lr does not name two sliders" in w.value for w in at.warning)
    assert not [c for c in at.get("plotly_chart") if "click a cell" in c.proto.spec]
