"""The result store (JSON only, 0700, LRU) and the job manager (dedupe, queue, cancel, crash)."""
import json
import os
import stat
import time

import pytest
from tests.helpers import wait_until

from agmcore.engine.config import DiagNetTask, OptimizerConfig, RunConfig
from agmcore.engine.results import loads, to_document
from agmcore.engine.runner import run_all
from agmcore.service.worker_process import WorkerProcess
from agmcore.service.jobs import CANCELLED, FAILED, FINISHED, RUNNING, JobManager
from agmcore.storage.store import ResultStore, is_key, race_key


def _configs(steps=200, seed=0, names=("adam", "sgd")):
    return [RunConfig(task=DiagNetTask(dim=20, samples=8), optimizer=OptimizerConfig(name=n, lr=0.05), steps=steps,
                      log_every=50, seed=seed) for n in names]


def _wait(predicate, timeout=120):
    wait_until(predicate, timeout)


def test_store_round_trip_permissions_and_text_only(tmp_path):
    store = ResultStore(str(tmp_path / "s"))
    assert stat.S_IMODE(os.stat(store.folder).st_mode) == 0o700
    configs = _configs()
    docs = [to_document(r) for r in run_all(configs)]
    key = store.put_race(configs, docs)
    assert key == race_key(configs) and is_key(key)
    back = store.get_race(key)
    assert [d["key"] for d in back] == [c.key for c in configs]
    assert loads(json.dumps(back[0]))["history"] == docs[0]["history"]
    assert store.get_race(configs[0].key)[0]["key"] == configs[0].key  # a run key opens a race of one
    for k in store.cache.iterkeys():  # only text values: nothing is ever unpickled
        assert isinstance(store.cache.get(k), str)
    entry = store.gallery()[0]
    assert entry["key"] == key and entry["optimizers"] == ["adam", "sgd"] and entry["task"] == "diag-net"


@pytest.mark.parametrize("bad", ["", "xyz", "A" * 64, "0" * 63, None, "../" * 30])
def test_store_rejects_malformed_keys(tmp_path, bad):
    assert ResultStore(str(tmp_path / "s")).get_race(bad) is None


def test_store_evicts_least_recently_used(tmp_path):
    empty = ResultStore(str(tmp_path / "probe")).cache.volume()  # the sqlite file itself counts
    store = ResultStore(str(tmp_path / "s"), size_limit=empty + 150_000)  # room for about a dozen races of ~10 kB
    keys = []
    for seed in range(30):
        configs = _configs(steps=400, seed=seed, names=("adam",))
        keys.append(store.put_race(configs, [to_document(r) for r in run_all(configs)]))
        store.get_race(keys[0])  # keep the first one in use
        store.cache.cull()
    assert store.get_race(keys[0]) is not None
    assert any(store.get_race(k) is None for k in keys[1:-1])
    assert len(store.gallery()) < 30  # evicted races leave the gallery


@pytest.fixture
def manager(tmp_path):
    jobs = JobManager(ResultStore(str(tmp_path / "s")), workers=1, device="cpu")
    yield jobs
    jobs.shutdown()


@pytest.mark.slow  # a worker process
def test_jobs_dedupe_queue_and_store(manager, monkeypatch):
    sent = []  # the races handed to worker processes
    send = WorkerProcess.send
    monkeypatch.setattr(WorkerProcess, "send", lambda slot, message: sent.append(message["job"]) or send(slot, message))
    first, second = _configs(steps=3000), _configs(steps=300, seed=1)
    key = manager.submit(first)
    manager.submit(first)  # attaches to the job already there
    other = manager.submit(second)
    assert manager.queue_position(other) == 1
    _wait(lambda: manager.job(other).status == FINISHED)
    job = manager.job(key)
    assert job.status == FINISHED and job.step == 3000
    assert job.runs[0]["history"]["step"][-1] == 3000
    assert manager.store.get_race(key) is not None
    manager.submit(first)  # stored: no new job
    assert sent == [key, other] and manager.job(key).status == FINISHED


@pytest.mark.slow  # a worker process
def test_jobs_cancel_running_and_queued(manager):
    running, waiting = _configs(steps=10**7), _configs(steps=10**7, seed=2)
    a, b = manager.submit(running), manager.submit(waiting)
    _wait(lambda: manager.job(a).step > 0)
    manager.cancel(b)
    assert manager.job(b).status == CANCELLED
    manager.cancel(a)
    _wait(lambda: manager.job(a).status == CANCELLED)
    assert 0 < manager.job(a).step < 10**7
    assert manager.store.get_race(a) is None  # a cancelled race is not stored as a result


@pytest.mark.slow  # 6 s: two worker processes die and restart
def test_worker_crash_restarts_once_then_fails_and_the_next_one_runs(manager):
    key = manager.submit(_configs(steps=10**7))
    _wait(lambda: manager.job(key).step > 0)
    manager._slots[0].process.kill()
    _wait(lambda: manager.job(key).restarts == 1 and manager.job(key).step > 0)  # again, on a fresh worker
    assert manager.job(key).status == RUNNING and "started again on a fresh worker" in manager.job(key).notice
    reached = manager.job(key).step
    manager._slots[0].process.kill()
    _wait(lambda: manager.job(key).status == FAILED)
    error = manager.job(key).error
    assert "stopped unexpectedly 2 times" in error and int(error.rsplit("step ", 1)[1].replace(",", "")) >= reached
    nxt = manager.submit(_configs(steps=200, seed=9))
    _wait(lambda: manager.job(nxt).status == FINISHED)


def test_a_malformed_worker_line_fails_the_job_cleanly(tmp_path):
    """A worker that dies mid-line: the reader fails its job with a message and kills the worker,
    instead of dying on the JSONDecodeError and leaving the job "running" forever."""
    from agmcore.service.jobs import Job

    manager = JobManager(ResultStore(str(tmp_path / "s")), workers=1, warm=False)
    configs = _configs()
    key = race_key(configs)
    manager._jobs[key] = Job(key, configs, status=RUNNING)
    killed = []

    class DeadWorker:  # its last line was cut off
        stdout = iter(['{"job": "' + key + '", "type": "snapsh'])
        kill = staticmethod(lambda: killed.append(True))
        wait = poll = staticmethod(lambda: -9)

    class Slot:
        process, job = DeadWorker(), key
        alive = staticmethod(lambda: False)

    manager._slots.append(Slot())
    manager._read(manager._slots[0])
    job = manager.job(key)
    assert job.status == FAILED and "unreadable message" in job.error and killed == [True]
    assert manager._slots == []  # the dead worker is forgotten; the next race gets a fresh one


@pytest.mark.parametrize("name, value, fragment", [
    ("SHARPNESS_LAB_WORKERS", "0", "between 1 and 64"),
    ("SHARPNESS_LAB_WORKERS", "-1", "between 1 and 64"),
    ("SHARPNESS_LAB_WORKERS", "abc", "not a whole number"),
    ("SHARPNESS_LAB_STORE_LIMIT", "0", "at least 67,108,864"),
    ("SHARPNESS_LAB_STORE_LIMIT", "1", "at least 67,108,864"),
    ("SHARPNESS_LAB_STORE_LIMIT", "-5", "at least 67,108,864"),
    ("SHARPNESS_LAB_STORE_LIMIT", "abc", "not a whole number"),
    ("SHARPNESS_LAB_CLUSTER", "head node:6379", "is not an address"),
    ("SHARPNESS_LAB_CLUSTER", "--address", "is not an address"),
])
def test_settings_that_cannot_work_are_refused_by_name(name, value, fragment):
    from agmcore import settings

    with pytest.raises(settings.SettingsError, match=fragment) as error:
        settings.check({name: value})
    assert name in str(error.value)
    assert settings.workers({"SHARPNESS_LAB_WORKERS": "3"}) == 3
    assert settings.store_limit({}) == settings.DEFAULT_STORE_LIMIT
    assert settings.cluster({"SHARPNESS_LAB_CLUSTER": " 10.0.0.7:6379 "}) == "10.0.0.7:6379"


@pytest.mark.slow  # a worker process
def test_only_the_starter_may_stop_a_race(manager):
    key = manager.submit(_configs(steps=10**7, seed=21), owner="lecturer")
    assert manager.submit(_configs(steps=10**7, seed=21), owner="student") == key  # attaching
    assert manager.may_stop(key, "lecturer") and not manager.may_stop(key, "student")
    manager.cancel(key, who="student")
    time.sleep(0.5)
    assert manager.job(key).active and manager.job(key).owner == "lecturer"
    manager.cancel(key, who="lecturer")
    _wait(lambda: manager.job(key).status == CANCELLED)


@pytest.mark.slow  # a worker process
def test_the_queue_is_bounded_per_server_and_per_browser(tmp_path, monkeypatch):
    from agmcore.service.jobs import Refused

    monkeypatch.setenv("SHARPNESS_LAB_QUEUE", "3")
    monkeypatch.setenv("SHARPNESS_LAB_PER_BROWSER", "2")
    manager = JobManager(ResultStore(str(tmp_path / "s")), workers=1, warm=False)
    try:
        manager.submit(_configs(steps=10**7, seed=31), owner="a")
        manager.submit(_configs(steps=10**7, seed=32), owner="a")
        with pytest.raises(Refused, match="this browser already has 2 races"):
            manager.submit(_configs(steps=10**7, seed=33), owner="a")
        manager.submit(_configs(steps=10**7, seed=34), owner="b")
        with pytest.raises(Refused, match="already has 3 races waiting or running"):
            manager.submit(_configs(steps=10**7, seed=35), owner="c")
        assert manager.submit(_configs(steps=10**7, seed=31), owner="c")  # attaching to a race is not a new one
    finally:
        manager.shutdown()


@pytest.mark.slow  # a worker process
def test_a_race_too_large_for_memory_now_is_refused(tmp_path, monkeypatch):
    """The check covers the whole race (every optimizer) against memory available at admission."""
    from agmcore.service import jobs

    manager = JobManager(ResultStore(str(tmp_path / "s")), workers=1, warm=False)
    configs = _configs(names=("adam", "sgd", "rmsprop"))
    each = configs[0].memory_bytes()
    monkeypatch.setattr(jobs, "available_bytes", lambda: int(2.5 * each))  # room for two runs, not three
    with pytest.raises(jobs.Refused, match="these 3 runs need about .* in all .* race fewer optimizers"):
        manager.submit(configs)
    assert manager.submit(configs[:2])
    manager.shutdown()


def _die(manager: JobManager):
    """The server dies mid-race: no cancel, no clean shutdown. Its workers are killed, the store writes
    it had already asked for land, and nothing it does afterwards (restarting the killed race, say)
    reaches the store or starts a process."""
    with manager._lock:
        manager.workers = 0
        for slot in manager._slots:
            slot.process.kill()
            slot.process.wait()
        manager._writes.put(None)
        manager._writer.join()


@pytest.mark.slow  # 8 s: two job managers, one killed mid-race
def test_a_restart_reports_interrupted_races(tmp_path):
    """Queued and running races are recorded in the store; a new manager (a restarted server)
    reports them interrupted at the step they reached, and Run starts them again."""
    from agmcore.service.jobs import INTERRUPTED

    store = ResultStore(str(tmp_path / "s"))
    first = JobManager(store, workers=1)
    first.pending_every = 0.2  # seconds between records of the step (5 in the app)
    running = first.submit(_configs(steps=10**7, seed=41))
    waiting = first.submit(_configs(steps=10**7, seed=42))
    _wait(lambda: first.job(running).step > 0)
    time.sleep(1.0)
    _die(first)
    reached = {p["key"]: p["step"] for p in store.pending()}
    assert set(reached) == {running, waiting} and reached[running] > 0 and reached[waiting] == 0
    second = JobManager(store, workers=1, warm=False)
    job = second.job(running)
    assert job.status == INTERRUPTED and not job.active and job.step == reached[running]
    assert f"interrupted at step {reached[running]:,}" in job.notice
    assert second.job(waiting).status == INTERRUPTED and store.pending() == []
    assert second.submit(_configs(steps=200, seed=41)) != running  # another race runs as usual
    again = second.submit(_configs(steps=10**7, seed=41))
    assert again == running and second.job(running).active  # Run starts it again
    second.cancel(running)
    _wait(lambda: not second.job(running).active)
    _wait(lambda: store.pending() == [] or all(p["key"] != running for p in store.pending()))
    second.shutdown()
    first.shutdown()


@pytest.mark.slow  # a worker process
def test_a_finished_race_leaves_no_record_of_being_in_progress(manager):
    key = manager.submit(_configs(steps=200, seed=43))
    _wait(lambda: manager.job(key).status == FINISHED)
    assert manager.store.pending() == []
