"""The server's background sweeps: `agmcore sweep` processes that store every cell, counted as they finish."""
import pytest

from agmcore.service.background_sweeps import BackgroundSweeps
from agmcore.storage.store import ResultStore
from tests.helpers import tiny_runs, wait_until

pytestmark = pytest.mark.slow  # each test starts an agmcore sweep process


def _cells(seeds=2):
    return tiny_runs(samples=(5, 9), seeds=range(seeds))


def _ended(sweeps, key, timeout=120):
    return wait_until(lambda: (sweep := sweeps.sweep(key)) is not None and sweep.returncode is not None and sweep, timeout,
                      every=0.2, what="the sweep to end")


def test_a_sweep_stores_every_cell_and_counts_them(tmp_path):
    folder = str(tmp_path / "store")
    sweeps = BackgroundSweeps(folder, workers=2)
    cells = _cells()
    try:
        key = sweeps.start(cells)
        assert sweeps.start(cells) == key  # the same cells attach to the running sweep
        sweep = _ended(sweeps, key)
    finally:
        sweeps.shutdown()
    assert (sweep.returncode, sweep.error, sweep.done, sweep.total) == (0, None, len(cells), len(cells))
    store = ResultStore(folder)
    assert all(store.usable_run(c.key)["status"] == "finished" for c in cells)
    assert store.gallery() == []  # cells, not a race


def test_a_sweep_that_cannot_run_says_why(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    sweeps = BackgroundSweeps(str(blocked), workers=1)
    try:
        sweep = _ended(sweeps, sweeps.start(_cells(1)))
    finally:
        sweeps.shutdown()
    assert sweep.returncode == 2 and "is a file, not a folder" in sweep.error and sweep.done == 0
