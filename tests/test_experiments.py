"""Sweeps reuse stored cells; `reproduce` writes cells, a summary and a figure."""
import json
import os

import pytest

from agmcore import cli, experiments
from agmcore.config import DiagNetTask, OptimizerConfig, RunConfig
from agmcore.store import ResultStore
from agmcore.sweeps import collect


def _cell(n, seed=0, name="adam"):
    return RunConfig(task=DiagNetTask(dim=30, samples=n, sparsity=2), optimizer=OptimizerConfig(name=name, lr=0.05),
                     steps=300, log_every=100, seed=seed)


def test_extending_a_sweep_reuses_its_cells(tmp_path):
    store = ResultStore(str(tmp_path / "store"))
    first = [_cell(10), _cell(10, seed=1), _cell(15, name="sgd")]
    fresh = []
    docs = collect(first, store, "cpu", lambda i, d, f: fresh.append(f))
    assert fresh == [True, True, True]
    extended = first + [_cell(20), _cell(10, seed=2)]
    fresh.clear()
    again = collect(extended, store, "cpu", lambda i, d, f: fresh.append(f))
    assert sorted(fresh) == [False, False, False, True, True]
    assert [d["key"] for d in again] == [c.key for c in extended]
    assert again[0]["history"] == docs[0]["history"]


def test_tail_mean():
    assert experiments.tail_mean([5, None, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.2) == pytest.approx(9.5)


def test_reproduce_cli_writes_cells_summary_and_figure(tmp_path, monkeypatch):
    monkeypatch.setitem(experiments.SAMPLE_COMPLEXITY, "classroom",
                        dict(dim=40, sparsity=2, samples=(8, 16), steps=400, log_every=100))
    out = tmp_path / "out"
    code = cli.main(["reproduce", "sample-complexity", "--seeds", "2", "--out", str(out), "--device", "cpu",
                     "--store", str(tmp_path / "store"), "--workers", "1"])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["cells"] == 8 and summary["computed"] == 8 and isinstance(summary["claim_holds"], bool)
    assert len(os.listdir(out / "cells")) == 8
    assert any(f.startswith("sample-complexity.") for f in os.listdir(out))
    assert set(summary["recovery_n"]) == {"adam η=0.03 β2=0.991", "sgd η=0.1"}
    assert set(summary["oracle_recovery_n"]) == set(experiments.sample_complexity.ORACLES)
    for per_n in summary["oracle_test_loss"].values():
        assert set(per_n) == {"8", "16"} and all(len(v) == 2 and min(v) >= 0 for v in per_n.values())
    code = cli.main(["reproduce", "sample-complexity", "--seeds", "3", "--out", str(out), "--device", "cpu",
                     "--store", str(tmp_path / "store"), "--workers", "2"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["computed"] == 4 and summary["workers"] == 2  # only the new seed's cells, in two processes
    assert len(os.listdir(out / "cells")) == 12
    code = cli.main(["reproduce", "sample-complexity", "--seeds", "3", "--out", str(out), "--device", "cpu",
                     "--store", str(tmp_path / "store")])
    assert json.loads((out / "summary.json").read_text())["computed"] == 0  # the parallel cells were stored


def test_reproduce_bad_input(capsys):
    assert cli.main(["reproduce", "sample-complexity", "--seeds", "0", "--out", "/tmp/x"]) == 2
    assert "--seeds must be at least 1" in capsys.readouterr().err
    assert cli.main(["reproduce", "sample-complexity", "--workers", "0", "--out", "/tmp/x"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err


def test_parallel_sweep_gives_the_same_documents():
    """Chunks run in two worker processes give byte-identical results to one process."""
    cells = [_cell(10), _cell(10, seed=1), _cell(15, name="sgd"), _cell(12, name="rmsprop")]
    one = collect(cells, None, "cpu")
    two = collect(cells, None, "cpu", workers=2)
    assert [json.dumps(d, sort_keys=True) for d in one] == [json.dumps(d, sort_keys=True) for d in two]


def test_adame_lambda_summary_on_tiny_cells(monkeypatch):
    monkeypatch.setitem(experiments.ADAME, "classroom", dict(dim=30, sparsity=2, samples=(8, 16), steps=200,
                                                             log_every=100))
    configs = experiments.adame_lambda_cells("classroom", 1)
    assert len(configs) == len(experiments.ADAME_LAMBDAS) * 2
    summary = experiments.adame_lambda_summary(configs, collect(configs, None, "cpu"))
    assert set(summary["recovery_n_by_lambda"]) == {str(lam) for lam in experiments.ADAME_LAMBDAS}
    assert isinstance(summary["claim_holds"], bool)
    norms = summary["quasi_norm"]["adame η=0.01 β2=0.991 λ=0.5"]
    assert set(norms) == {8, 16} and all(v > 0 for vs in norms.values() for v in vs)


def test_matrix_factorization_and_race_summaries_on_tiny_cells(monkeypatch):
    monkeypatch.setitem(experiments.MATRIX_FACTORIZATION, "classroom",
                        dict(size=6, rank=1, depths=(2, 3), samples=20, steps=200, log_every=100))
    monkeypatch.setitem(experiments.SHARPNESS_RACE, "classroom",
                        dict(dim=20, samples=6, sparsity=2, steps=200, log_every=100))
    for name in ("matrix-factorization", "sharpness-race"):
        experiment = experiments.EXPERIMENTS[name]
        configs = experiment.build("classroom", 2)
        docs = collect(configs, None, "cpu")
        summary = experiment.summarize(configs, docs)
        assert isinstance(summary["claim_holds"], bool)
        for part in summary.get("by_depth", {"one": summary}).values():
            assert set(part["own_measure_checks"]) == {0, 1}
            assert all(isinstance(v, bool) for checks in part["own_measure_checks"].values() for v in checks.values())
        figure = experiment.figure(configs, docs)
        assert len(figure.data) >= len(configs)
    mf = experiments.matrix_factorization_summary(*_mf_cells())
    assert set(mf["by_depth"]) == {"depth 2", "depth 3"}
    for part in mf["by_depth"].values():
        assert set(part["medians"]) == {o.name for o in experiments.MF_OPTIMIZERS}
        assert all(len(v["test_loss"]) == 1 for v in part["finals"].values())
    assert set(mf["claim_parts"]) == {f"depth {d}: {k}" for d in (2, 3) for k in
                                      ("adam_worse", "agms_lower_on_own_measure", "sgd_lower_trace_H_than_adam")}


def _mf_cells():
    configs = experiments.matrix_factorization_cells("classroom", 1)
    return configs, collect(configs, None, "cpu")


def test_sweep_falls_back_to_this_process_when_workers_fail(monkeypatch):
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    from agmcore import sweeps

    class BrokenPool:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def submit(self, *args):
            future = Future()
            future.set_exception(BrokenProcessPool("could not start"))
            return future

    monkeypatch.setattr(sweeps, "ProcessPoolExecutor", BrokenPool)
    cells = [_cell(10), _cell(15, name="sgd")]
    with pytest.warns(UserWarning, match="running the remaining 2 chunks here"):
        docs = collect(cells, None, "cpu", workers=2)
    assert [d["key"] for d in docs] == [c.key for c in cells] and all(d["status"] == "finished" for d in docs)
