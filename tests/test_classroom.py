"""A classroom on one race (slow: starts a server): ten viewers open the lecturer's race and each
sees its charts and a step counter that moves; the server's bookkeeping behind that (one shared
copy of a job per change, who is watching, the refresh that slows for a crowd)."""
import re
import time

import pytest

from agmcore.config import DiagNetTask, OptimizerConfig, RunConfig
from agmcore.jobs import WATCH_WINDOW, JobManager
from agmcore.store import ResultStore
from ui.job_status import CROWD, refresh_interval


def test_a_crowd_slows_the_refresh_in_steps():
    assert [refresh_interval(v, 1.0) for v in (1, 9, 10, 19, 20, 30)] == [1, 1, 2, 2, 3, 4]
    assert refresh_interval(CROWD * 3, 0.5) == 2.0


def test_watching_counts_recent_sessions_only(tmp_path):
    jobs = JobManager(ResultStore(str(tmp_path / "store")), workers=1, warm=False)
    assert jobs.watching("race", "a", now=100.0) == 1
    assert jobs.watching("race", "b", now=101.0) == 2
    assert jobs.watching("race", "a", now=102.0) == 2  # the same session again
    assert jobs.watching("race", "c", now=101.0 + WATCH_WINDOW + 1) == 2  # b has gone quiet
    assert jobs.watching("other", "a", now=100.0) == 1


def test_every_viewer_gets_the_same_copy_until_the_job_changes(tmp_path):
    jobs = JobManager(ResultStore(str(tmp_path / "store")), workers=1, warm=False)
    config = RunConfig(task=DiagNetTask(dim=8, samples=4, sparsity=1), optimizer=OptimizerConfig(name="sgd"), steps=50)
    key = jobs.submit([config])
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


@pytest.mark.slow
def test_ten_viewers_of_one_race_each_see_it_live():
    from bench.app_server import running_app
    from bench.viewers import Viewer

    race = "pg_dim=2000&pg_samples=40&pg_sparsity=5&pg_steps=5000000&pg_seed=4243"
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
            time.sleep(20)
            for viewer in viewers:
                assert viewer.error is None, viewer.error
                assert viewer.first_chart is not None and viewer.first_chart < 20  # every viewer saw the race
                steps = [int(m.group(1).replace(",", "")) for m in map(re.compile(r"step ([\d,]+) of").search,
                                                                       viewer.progress) if m]
                assert len(set(steps)) >= 2 and steps == sorted(steps)  # its step counter moved forward
            assert "■ Stop" in lecturer.buttons
        finally:
            for viewer in viewers:
                viewer.stop()
