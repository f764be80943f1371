"""Sweeps on a real two-node Ray cluster on this machine (127.0.0.1 only, no dashboard): the same
documents as the local pool, every cell exactly once when a node dies mid-sweep, chunks that fail
twice reported by key; and without a cluster Ray is never imported."""
import json
import os
import subprocess
import sys

import pytest

from agmcore.command import cli
from agmcore.command.progress import cell_line
from agmcore.engine.config import DiagNetTask, OptimizerConfig, RunConfig
from agmcore.experiments.cluster import LOOPBACK_ONLY
from agmcore.experiments.sweeps import collect, run_sweep
from agmcore.storage.store import ResultStore
from bench.ray_cluster import CountingStore, start_two_nodes  # it keeps Ray on 127.0.0.1 (LOOPBACK_ONLY)


def _cells(count: int, steps: int = 4000):
    """`count` cells in chunks of their own (each n is its own tensor program), about 0.3 s each."""
    return [RunConfig(task=DiagNetTask(dim=40, samples=10 + i, sparsity=3),
                      optimizer=OptimizerConfig(name=("adam", "sgd")[i % 2], lr=0.05), steps=steps, log_every=500,
                      seed=0) for i in range(count)]


def _dumps(docs):
    return [json.dumps(d, sort_keys=True) for d in docs]


@pytest.fixture
def two_nodes():
    cluster, worker = start_two_nodes()
    try:
        yield cluster, worker
    finally:
        cluster.shutdown()  # the processes this test started, and only those


@pytest.mark.slow  # starts a two-node Ray cluster
def test_cluster_gives_the_pools_documents_and_listens_on_loopback_only(two_nodes, tmp_path):
    cluster, _ = two_nodes
    cells = _cells(6, steps=1500)
    on_cluster = collect(cells, ResultStore(str(tmp_path / "c")), "cpu", cluster=cluster.address)
    assert _dumps(on_cluster) == _dumps(collect(cells, None, "cpu", workers=2))
    listening = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True).stdout
    ports = {line.split()[3] for line in listening.splitlines() if line.split()[3].endswith(cluster.address.split(":")[1])}
    assert ports and all("127.0.0.1" in p for p in ports), ports  # the head's GCS port, on loopback alone


@pytest.mark.slow  # starts a two-node Ray cluster and kills one node
def test_a_node_killed_mid_sweep_leaves_every_cell_stored_exactly_once(two_nodes, tmp_path):
    cluster, worker = two_nodes
    cells = _cells(8)
    store = CountingStore(str(tmp_path / "store"))
    arrived = []
    for i, doc, fresh in run_sweep(cells, store, "cpu", cluster=cluster.address):
        if not arrived:
            cluster.remove_node(worker, allow_graceful=False)  # its chunk in flight dies with it
        arrived.append(i)
    assert sorted(arrived) == list(range(len(cells)))
    assert store.puts == {c.key: 1 for c in cells}
    assert _dumps(store.get_run(c.key) for c in cells) == _dumps(collect(cells, None, "cpu"))
    again = list(run_sweep(cells, store, "cpu", cluster=cluster.address))  # resumed: nothing left to run
    assert [fresh for _, _, fresh in again] == [False] * len(cells)


@pytest.mark.slow  # starts a two-node Ray cluster
def test_a_chunk_that_fails_twice_is_reported_by_its_keys(two_nodes, tmp_path):
    from agmcore.experiments.cluster import CellsFailed, computed_on_cluster, connected
    from agmcore.experiments.sweeps import run_chunk
    cluster, _ = two_nodes
    cells = _cells(4, steps=300)
    doomed = cells[2].key

    def dies_on_the_doomed_cell(config_dicts, device):
        if any(RunConfig.from_dict(d).key == doomed for d in config_dicts):
            os._exit(1)  # the worker process dies, every time
        return run_chunk(config_dicts, device)

    arrived = []
    with connected(cluster.address) as on, pytest.raises(CellsFailed) as failed:
        for indices, docs in computed_on_cluster(on, cells, [[i] for i in range(len(cells))], "cpu",
                                                 run_chunk=dies_on_the_doomed_cell):
            arrived += indices
    assert failed.value.keys == [doomed]
    assert sorted(arrived) == [0, 1, 3]


@pytest.mark.slow  # starts a Ray cluster and CLI processes
def test_reproduce_on_a_local_cluster_reports_the_cells_as_the_pool_does(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in LOOPBACK_ONLY}  # 'local' sets it itself
    outs = {}
    for name, flags in (("cluster", ["--cluster", "local"]), ("pool", ["--workers", "2"])):
        out = tmp_path / name
        done = subprocess.run([sys.executable, "-m", "agmcore", "reproduce", "adame-lambda", "--seeds", "1",
                               "--no-store", "--out", str(out), *flags], capture_output=True, text=True, env=env,
                              timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        outs[name] = {f: (out / "cells" / f).read_bytes() for f in os.listdir(out / "cells")}
        assert "[#" in done.stderr  # the progress bar over cells
    assert outs["cluster"] == outs["pool"]


LISTENING_OF_THIS_PROCESS_TREE = r"""
import os, re, subprocess
from agmcore.experiments.cluster import connected

def descendants(root):
    parent = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            parent[int(pid)] = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
        except OSError:
            pass
    tree, grew = {root}, True
    while grew:
        more = {p for p, q in parent.items() if q in tree} - tree
        tree, grew = tree | more, bool(more)
    return tree

with connected("local") as on:
    tree = descendants(os.getpid())
    lines = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout.splitlines()
    ours = [l for l in lines if {int(p) for p in re.findall(r"pid=(\d+)", l)} & tree]
    print(len(ours), [l.split()[3] for l in ours if "127.0.0.1" not in l.split()[3]])
"""


@pytest.mark.slow  # starts a Ray cluster
def test_a_local_cluster_listens_on_loopback_only():
    env = {k: v for k, v in os.environ.items() if k not in LOOPBACK_ONLY}
    done = subprocess.run([sys.executable, "-c", LISTENING_OF_THIS_PROCESS_TREE], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    count, elsewhere = done.stdout.strip().split(" ", 1)
    assert int(count) >= 3 and elsewhere == "[]", done.stdout  # GCS, raylet, and more: all on 127.0.0.1


@pytest.mark.slow  # starts CLI and worker processes
def test_without_a_cluster_ray_is_not_imported(tmp_path):
    """`agmcore run`, and a sweep over worker processes, leave Ray out of the process."""
    out = tmp_path / "run.json"
    code = ("import sys; from agmcore.command import cli; from agmcore.experiments.sweeps import collect; "
            "from tests.test_cluster import _cells; "
            f"assert cli.main(['run', '--dim', '20', '--samples', '8', '--sparsity', '2', '--steps', '50', "
            f"'--out', {str(out)!r}, '--quiet']) == 0; "
            "assert len(collect(_cells(2, steps=100), None, 'cpu', workers=2)) == 2; "
            "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_a_scale_an_experiment_lacks_and_an_empty_address_are_refused(capsys, tmp_path):
    assert cli.main(["reproduce", "matrix-factorization", "--scale", "d2000", "--out", "/tmp/x"]) == 2
    assert "has no scale 'd2000'" in capsys.readouterr().err
    for command in (["reproduce", "sample-complexity", "--out", str(tmp_path / "out")], ["sweep"],
                    ["ship", "--experiment", "sample-complexity", "--out", str(tmp_path / "assets")]):
        assert cli.main([*command, "--cluster", " "]) == 2, command  # before any cell runs or stdin is read
        assert "argument --cluster: needs an address" in capsys.readouterr().err
    assert not os.listdir(tmp_path)


def test_the_cell_progress_line():
    assert cell_line(5, 20, 10.0, 5) == "[5/20] [#####...............] 10 s, 0:30 left"
    assert cell_line(20, 20, 12.0, 0) == "[20/20] [####################] 12 s"


@pytest.mark.slow  # starts a two-node Ray cluster and an agmcore sweep process
def test_the_apps_background_sweep_runs_on_the_cluster_it_is_given(two_nodes, tmp_path):
    import time

    from agmcore.service.background_sweeps import BackgroundSweeps
    cluster, _ = two_nodes
    cells = _cells(4, steps=600)
    sweeps = BackgroundSweeps(str(tmp_path / "store"))
    key = sweeps.start(cells, cluster=cluster.address)
    deadline = time.monotonic() + 240
    while sweeps.sweep(key).returncode is None and time.monotonic() < deadline:
        time.sleep(0.2)
    sweep = sweeps.sweep(key)
    assert sweep.returncode == 0 and sweep.error is None and sweep.cluster == cluster.address
    assert sweep.done == sweep.total == len(cells)
    store = ResultStore(str(tmp_path / "store"))
    assert _dumps(store.get_run(c.key) for c in cells) == _dumps(collect(cells, None, "cpu"))


@pytest.mark.parametrize("address, says", [("127.0.0.1:1", "no Ray cluster answers at 127.0.0.1:1"),
                                           ("nonsense", "a cluster address is host:port")])
def test_an_address_where_no_cluster_answers_is_reported_at_once(address, says, tmp_path, capsys):
    """Ray itself retries an unreachable head for minutes; the sweep says so in a line, and stores nothing."""
    out = tmp_path / "out"
    assert cli.main(["reproduce", "sample-complexity", "--seeds", "1", "--cluster", address,
                     "--store", str(tmp_path / "store"), "--out", str(out)]) == 1
    assert says in capsys.readouterr().err
    assert not os.listdir(out / "cells")
