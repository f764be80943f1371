"""A classroom on one race (slow: starts a server): ten viewers open the lecturer's race and each
sees its charts and a step counter that moves; the server's bookkeeping behind that (one shared
copy of a job per change and per frame, who is watching, the refresh that slows for a crowd, one
dict per shared figure)."""
import time

import pytest

from agmcore.engine.config import DiagNetTask, OptimizerConfig, RunConfig
from agmcore.service.job import RUNNING, Job
from agmcore.service.audience import WATCH_WINDOW
from agmcore.service.jobs import JobManager
from agmcore.storage.store import ResultStore, race_key
from ui.job_status import CHART_REFRESHES, CROWD, chart_interval, frame_age, keeps_view, refresh_interval


def test_a_crowd_slows_the_refresh_in_steps():
    assert [refresh_interval(v, 1.0) for v in (1, 9, 10, 19, 20, 30, 100, 1000)] == [1, 1, 2, 2, 3, 4, 4, 4]
    assert refresh_interval(CROWD * 3, 0.5) == 2.0
    assert refresh_interval(10**6, 1.0) * 2 <= WATCH_WINDOW  # refreshing viewers stay counted


def test_a_live_view_redraws_its_charts_every_other_refresh():
    assert CHART_REFRESHES == 2 and chart_interval(1.0) == 2.0 and chart_interval(refresh_interval(20, 1.0)) == 6.0
    held = (("race", 12_500, "running"), ["documents"], 100.0)
    every = chart_interval(1.0)
    assert not keeps_view(None, ("race", 12_500, "running"), 100.0, every)  # nothing drawn yet: draw
    assert keeps_view(held, ("race", 25_000, "running"), 101.0, every)  # one refresh later: the same charts
    assert keeps_view(held, ("race", 25_000, "running"), 101.7, every)  # a late refresh is still the first
    assert not keeps_view(held, ("race", 37_500, "running"), 101.9, every)  # the second refresh, a little early
    assert not keeps_view(held, ("race", 12_500, "finished"), 100.5, every)  # a change of state shows at once
    assert not keeps_view(held, ("other race", 100, "running"), 100.5, every)  # so does another race


def test_watching_counts_recent_sessions_only(tmp_path):
    jobs = JobManager(ResultStore(str(tmp_path / "store")), workers=1, warm=False)
    assert jobs.watching("race", "a", now=100.0) == 1
    assert jobs.watching("race", "b", now=101.0) == 2
    assert jobs.watching("race", "a", now=102.0) == 2  # the same session again
    assert jobs.watching("race", "c", now=101.0 + WATCH_WINDOW + 1) == 2  # b has gone quiet
    assert jobs.watching("other", "a", now=100.0) == 1


def test_every_viewer_gets_the_same_copy_until_the_job_changes(tmp_path):
    jobs, key = _running_race(tmp_path)
    first, again = jobs.job(key), jobs.job(key)
    assert first is again  # no copy per viewer while nothing changed
    with jobs._lock:  # as a snapshot from the worker would
        jobs._jobs[key].step = 10
    changed = jobs.job(key)
    assert changed is not first and changed.step == 10 and first.step == 0
    with jobs._lock:  # ended, as the worker's last message would make it: its viewers read the store
        jobs._jobs[key].status = "finished"
    ended = jobs.job(key)
    assert ended.status == "finished" and jobs.job(key) is not ended and key not in jobs._copies  # no copy kept
    assert jobs.job("unknown") is None
    jobs.shutdown()


def _running_race(tmp_path):
    """A manager holding one race that is running as far as its viewers can tell, with no worker
    behind it: the test plays the worker's part (_progress), and nothing else moves the race."""
    jobs = JobManager(ResultStore(str(tmp_path / "store")), workers=1, warm=False)
    config = RunConfig(task=DiagNetTask(dim=8, samples=4, sparsity=1), optimizer=OptimizerConfig(name="sgd"), steps=50)
    key = race_key([config])
    with jobs._lock:
        jobs._jobs[key] = Job.new(key, [config], status=RUNNING)
    return jobs, key


def _progress(jobs, key, step):
    with jobs._lock:  # as a snapshot from the worker would
        jobs._jobs[key].step, jobs._jobs[key].elapsed = step, step / 100


def test_a_live_copy_holds_progress_back_for_a_frame_but_never_a_change_of_state(tmp_path):
    jobs, key = _running_race(tmp_path)
    first = jobs.job(key, max_age=1.0, now=100.0)
    _progress(jobs, key, 10)
    assert jobs.job(key, max_age=1.0, now=100.5) is first  # within the frame: the same snapshot
    assert jobs.job(key, max_age=1.0, now=101.0).step == 10  # the frame is over: the newest
    _progress(jobs, key, 20)
    with jobs._lock:
        jobs._jobs[key].notice = "Its worker stopped; it started again on a fresh one."
    changed = jobs.job(key, max_age=1.0, now=101.1)  # a change of state is shown at once, progress with it
    assert changed.notice and changed.step == 20
    _progress(jobs, key, 30)
    assert jobs.job(key, now=101.2).step == 30  # no max_age: every change at once
    jobs.shutdown()


def _copies_made(tmp_path, phases, interval, max_age, seconds=60.0, snapshot_every=0.8):
    """Sessions refreshing every `interval` from their `phases` watch a race whose worker reports a
    step every `snapshot_every` seconds: how many distinct copies (so figure builds) they read."""
    jobs, key = _running_race(tmp_path)
    events = sorted([(i * snapshot_every, "step") for i in range(1, int(seconds / snapshot_every))]
                    + [(phase + i * interval, "view") for phase in phases for i in range(int(seconds / interval))])
    seen = {}  # id -> copy (kept, so no id is reused)
    for step, (now, what) in enumerate(events):
        if what == "step":
            _progress(jobs, key, step)
        else:
            copy = jobs.job(key, max_age=max_age, now=now)
            seen[id(copy)] = copy
    jobs.shutdown()
    return len(seen)


def test_more_viewers_in_any_phase_make_no_more_snapshots_to_draw_than_one(tmp_path):
    one = _copies_made(tmp_path / "1", [0.0], 1.0, frame_age(1.0))
    assert one >= 59  # a lone viewer still sees new progress at every refresh
    for phases in ([0.0, 0.45], [0.0, 0.93], [0.0, 0.07, 0.33, 0.5, 0.61, 0.78, 0.9, 0.95, 0.99, 0.999]):
        assert _copies_made(tmp_path / str(len(phases)), phases, 1.0, frame_age(1.0)) <= one + 1
    # without frames, two viewers out of phase catch every step the worker reports
    assert _copies_made(tmp_path / "2", [0.0, 0.45], 1.0, max_age=0.0) >= 1.2 * one


def test_a_shared_figure_draws_the_same_chart_from_one_dict():
    from streamlit.testing.v1 import AppTest

    def script():
        import plotly.graph_objects as go
        import streamlit as st

        from ui.race_view import drawn_once

        def figure():
            return go.Figure(go.Scatter(x=[1, 2, 3], y=[0.5, 0.25, 0.125], name="Φ(θ̄) ½")).update_layout(
                template="plotly_white", title="tr(Diag(H)^½)", yaxis_type="log")

        once = drawn_once(figure())
        assert once.to_dict() is once.to_dict()  # no copy per draw
        st.plotly_chart(figure(), key="plain")
        st.plotly_chart(once, key="once")

    at = AppTest.from_function(script).run()
    assert not at.exception
    plain, once = at.get("plotly_chart")
    assert plain.proto.spec == once.proto.spec and '"Φ(θ̄) ½"' in once.proto.spec


WATCHED = 20  # seconds the ten viewers watch


@pytest.mark.slow
def test_ten_viewers_of_one_race_each_see_it_live():
    from bench.app_server import running_app
    from bench.viewers import Viewer, long_race, step_of

    race = long_race(seed=4243)
    viewers = []
    with running_app(workers=1) as (_, url):
        try:
            lecturer = Viewer(url, "playground", race)
            lecturer.start()
            lecturer.press("▶ Run", timeout=90)
            deadline = time.monotonic() + 120
            while lecturer.first_chart is None and time.monotonic() < deadline:
                time.sleep(0.5)
            assert lecturer.first_chart is not None, lecturer.error
            viewers = [Viewer(url, "playground", race) for _ in range(10)]
            for viewer in viewers:
                viewer.start()
            time.sleep(WATCHED)
            for viewer in viewers:
                assert viewer.error is None, viewer.error
                assert viewer.first_chart is not None and viewer.first_chart < 20  # every viewer saw the race
                steps = [s for s in map(step_of, viewer.progress) if s is not None]
                assert len(set(steps)) >= 2 and steps == sorted(steps)  # its step counter moved forward
                # its charts changed at most once every chart_interval of the refresh it was given
                changes = sum(a != b for a, b in zip(viewer.views, viewer.views[1:]))
                every = chart_interval(max(viewer.fragments.values()))
                assert len(viewer.views) >= 2 and changes <= WATCHED / every + 1, (changes, len(viewer.views), every)
            assert "■ Stop" in lecturer.buttons
            # past the watch window, eleven still count (each refresh records its session), so a
            # newcomer is given the crowd's slower refresh
            newcomer = Viewer(url, "playground", race)
            viewers.append(newcomer)
            newcomer.start()
            deadline = time.monotonic() + 30
            while not newcomer.fragments and time.monotonic() < deadline:
                time.sleep(0.2)
            assert set(newcomer.fragments.values()) == {refresh_interval(12, 1.0)} == {2.0}
        finally:
            for viewer in viewers:
                viewer.stop()
