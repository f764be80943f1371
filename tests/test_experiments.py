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
                     "--store", str(tmp_path / "store")])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["cells"] == 8 and summary["computed"] == 8 and isinstance(summary["claim_holds"], bool)
    assert len(os.listdir(out / "cells")) == 8
    assert any(f.startswith("sample-complexity.") for f in os.listdir(out))
    assert set(summary["recovery_n"]) == {"adam η=0.1 β2=0.95", "sgd η=0.1"}
    code = cli.main(["reproduce", "sample-complexity", "--seeds", "3", "--out", str(out), "--device", "cpu",
                     "--store", str(tmp_path / "store")])
    assert json.loads((out / "summary.json").read_text())["computed"] == 4  # only the new seed's cells


def test_reproduce_bad_input(capsys):
    assert cli.main(["reproduce", "sample-complexity", "--seeds", "0", "--out", "/tmp/x"]) == 2
    assert "--seeds must be at least 1" in capsys.readouterr().err


def test_adame_lambda_summary_on_tiny_cells(monkeypatch):
    monkeypatch.setitem(experiments.ADAME, "classroom", dict(dim=30, sparsity=2, samples=(8, 16), steps=200,
                                                             log_every=100))
    configs = experiments.adame_lambda_cells("classroom", 1)
    assert len(configs) == len(experiments.ADAME_LAMBDAS) * 2
    summary = experiments.adame_lambda_summary(configs, collect(configs, None, "cpu"))
    assert set(summary["recovery_n_by_lambda"]) == {str(lam) for lam in experiments.ADAME_LAMBDAS}
    assert isinstance(summary["claim_holds"], bool)
    norms = summary["quasi_norm"]["adame η=0.1 β2=0.95 λ=0.5"]
    assert set(norms) == {8, 16} and all(v > 0 for vs in norms.values() for v in vs)
