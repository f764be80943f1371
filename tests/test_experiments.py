"""Sweeps reuse stored cells; `reproduce` writes cells, a summary and a figure."""
import dataclasses
import json
import os

import pytest

from agmcore import experiments
from agmcore.command import cli
from agmcore.engine.config import DiagNetTask, OptimizerConfig, RunConfig
from agmcore.experiments import sample_complexity as sc
from agmcore.experiments.sweeps import collect
from agmcore.presentation.experiment_figures import experiment_figure
from agmcore.storage.store import ResultStore


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


def test_recovery_readings_over_seeds():
    """Three seeds; RECOVERED = 0.1: seed 0 recovers from n = 10, seed 1 from 20 (it fails again
    at 15 after passing at 10), seed 2 never."""
    per_n = {20: [0.01, 0.02, 0.5], 10: [0.05, 0.01, 0.9], 15: [0.02, 0.3, 0.7], 5: [0.6, 0.5, 0.4]}
    assert sc.per_seed_recovery_n(per_n) == [10, 20, None]
    assert sc.recovery_n(per_n) is None
    assert sc.recovery_n({n: v[:2] for n, v in per_n.items()}) == 20
    assert sc.median_drop_n(per_n) == 20  # medians 0.5, 0.05, 0.3, 0.02 at n = 5, 10, 15, 20
    assert sc.recovery_rate(per_n) == {5: 0.0, 10: pytest.approx(2 / 3), 15: pytest.approx(1 / 3),
                                       20: pytest.approx(2 / 3)}


def test_final_test_loss_prefers_the_mean_iterate():
    history = {"test_loss": [9.0] * 10 + [0.5] * 10}
    assert sc.final_test_loss({"final": {"test_loss_avg": 0.01}, "history": history}) == 0.01
    assert sc.final_test_loss({"final": {}, "history": history}) == 0.5


def _assert_sample_complexity_claim_read_from_its_numbers(summary):
    """The verdict is the claim read off the summary's own table, not a constant."""
    adam, sgd = summary["median_drop_n"]["adam"], summary["median_drop_n"]["sgd"]  # keyed by measure name
    adam_rate, sgd_rate = summary["recovery_rate"]["adam"], summary["recovery_rate"]["sgd"]
    assert summary["claim_parts"] == {
        "adam_median_drops_at_smaller_n": adam is not None and (sgd is None or adam < sgd),
        "adam_recovers_as_often_at_every_n": all(adam_rate[n] >= sgd_rate[n] for n in adam_rate)}
    assert summary["claim_holds"] == all(summary["claim_parts"].values())


@pytest.mark.slow  # 17 s: three reproduce calls, one with two worker processes
def test_reproduce_cli_writes_cells_summary_and_figure(tmp_path, monkeypatch):
    monkeypatch.setitem(experiments.SAMPLE_COMPLEXITY, "classroom",
                        dict(dim=40, sparsity=2, samples=(8, 16), steps=400, log_every=100))
    out = tmp_path / "out"
    code = cli.main(["reproduce", "sample-complexity", "--seeds", "2", "--out", str(out), "--device", "cpu",
                     "--store", str(tmp_path / "store"), "--workers", "1"])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["cells"] == 8 and summary["computed"] == 8
    _assert_sample_complexity_claim_read_from_its_numbers(summary)
    assert len(os.listdir(out / "cells")) == 8
    assert any(f.startswith("sample-complexity.") for f in os.listdir(out))
    assert set(summary["recovery_n"]) == {"adam", "sgd"}
    assert set(summary["oracle_recovery_n"]) == set(experiments.sample_complexity.ORACLES)
    for per_n in summary["oracle_test_loss"].values():
        assert set(per_n) == {"8", "16"} and all(len(v) == 2 and min(v) >= 0 for v in per_n.values())
    code = cli.main(["reproduce", "sample-complexity", "--seeds", "3", "--out", str(out), "--device", "cpu",
                     "--store", str(tmp_path / "store"), "--workers", "2"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["computed"] == 4 and summary["workers"] == 2  # only the new seed's cells, in two processes
    assert len(os.listdir(out / "cells")) == 12
    monkeypatch.setitem(experiments.EXPERIMENTS, "sample-complexity",
                        dataclasses.replace(experiments.EXPERIMENTS["sample-complexity"], seeds=3))
    code = cli.main(["reproduce", "sample-complexity", "--out", str(out), "--device", "cpu",
                     "--store", str(tmp_path / "store")])  # no --seeds: the experiment's own default
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seeds"] == 3 and summary["computed"] == 0  # the parallel cells were stored


def test_reproduce_bad_input(capsys, tmp_path):
    out = str(tmp_path / "out")
    assert cli.main(["reproduce", "sample-complexity", "--seeds", "0", "--out", out]) == 2
    assert "argument --seeds: must be at least 1 (got 0)" in capsys.readouterr().err
    for command in (["reproduce", "sample-complexity", "--out", out], ["sweep"],
                    ["ship", "--experiment", "sample-complexity", "--out", str(tmp_path / "assets")]):
        assert cli.main([*command, "--workers", "0"]) == 2, command  # before any cell runs or stdin is read
        assert "argument --workers: must be at least 1 (got 0)" in capsys.readouterr().err
        assert cli.main([*command, "--workers", "two"]) == 2, command
        assert "argument --workers: must be a whole number (got 'two')" in capsys.readouterr().err
    assert not os.listdir(tmp_path)


@pytest.mark.slow  # two pool processes
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
    assert set(summary["median_drop_n_by_lambda"]) == set(summary["recovery_n_by_lambda"])
    assert set(summary["claim_parts"]) == {f"λ={lam} drops at a smaller n than λ=0.001" for lam in (0.25, 0.5, 0.75, 0.9)}
    assert summary["claim_holds"] == all(summary["claim_parts"].values())
    assert {c.optimizer.beta2 for c in configs if c.optimizer.lam == 0.5} == {0.9}  # the 2-scheme, rounded
    assert {c.optimizer.beta2 for c in configs if c.optimizer.lam == 0.9} == {0.991}
    title = experiment_figure("adame-lambda", configs, collect(configs, None, "cpu")).layout.title.text
    assert all(f"adame λ={lam:g} " in title for lam in experiments.ADAME_LAMBDAS)  # each λ its own half-recovery n
    norms = summary["quasi_norm"]["adame λ=0.5"]
    assert set(norms) == {8, 16} and all(v > 0 for vs in norms.values() for v in vs)


def test_matrix_factorization_and_race_summaries_on_tiny_cells(monkeypatch):
    """The summaries on tiny cells (depth 2 with log-spaced logging, as the classroom's long runs)."""
    monkeypatch.setitem(experiments.MATRIX_FACTORIZATION, "classroom", dict(size=6, rank=1, settings=(
        dict(depth=2, samples=14, steps=3000, log_points=30, optimizers=experiments.MF_COMPILED),
        dict(depth=3, samples=20, steps=200, log_every=100, optimizers=experiments.MF_OPTIMIZERS))))
    monkeypatch.setitem(experiments.SHARPNESS_RACE, "classroom",
                        dict(dim=20, samples=6, sparsity=2, steps=200, log_every=100))
    for name in ("matrix-factorization", "sharpness-race"):
        experiment = experiments.EXPERIMENTS[name]
        configs = experiment.build("classroom", 2)
        docs = collect(configs, None, "cpu")
        summary = experiment.summarize(configs, docs)
        assert summary["claim_holds"] == all(summary["claim_parts"].values()) and summary["claim_parts"]
        # each part is a fraction over seeds, and holds when it held on most of them
        fractions = summary["claim_fractions"]
        assert summary["claim_parts"] == {k: 2 * fractions[k]["held"] > fractions[k]["seeds"] for k in summary["claim_parts"]}
        measured_only = {"oracles"} if name == "sharpness-race" else set()  # shown, not claimed
        assert fractions.keys() - summary["claim_parts"].keys() == measured_only
        if name == "sharpness-race":  # counted on the seeds where the oracles differ
            separating = [c for c in summary["checks"] if c["oracles_differ"]]
            assert summary["claim_fractions"]["sgd_measures"]["seeds"] == len(separating)
            assert summary["claim_fractions"]["sgd_measures"]["held"] == sum(
                c["sgd_lower_trace_H"] and c["sgd_lower_l1"] for c in separating)
        else:
            for depth in ("depth 2", "depth 3"):
                worse = summary["by_depth"][depth]["adam_test_error_above_sgd"]
                assert summary["claim_fractions"][f"{depth}: adam_worse"]["held"] == sum(worse.values())
        for part in summary.get("by_depth", {"one": summary}).values():
            assert set(part["own_measure_checks"]) == {0, 1}
            assert all(isinstance(v, bool) for checks in part["own_measure_checks"].values() for v in checks.values())
        figure = experiment_figure(name, configs, docs)
        assert len(figure.data) >= len(configs)
    mf = experiments.matrix_factorization_summary(*_mf_cells())
    assert set(mf["by_depth"]) == {"depth 2", "depth 3"}
    for depth, optimizers in (("depth 2", experiments.MF_COMPILED), ("depth 3", experiments.MF_OPTIMIZERS)):
        part = mf["by_depth"][depth]
        assert set(part["medians"]) == {o.name for o in optimizers}
        assert all(len(v["test_loss"]) == 1 for v in part["finals"].values())
    assert set(mf["claim_parts"]) == {f"depth {d}: {k}" for d in (2, 3) for k in
                                      ("adam_worse", "agms_lower_on_own_measure", "sgd_lower_trace_H_than_adam")}


def _mf_cells():
    configs = experiments.matrix_factorization_cells("classroom", 1)
    return configs, collect(configs, None, "cpu")


def test_sweep_falls_back_to_this_process_when_workers_fail(monkeypatch):
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    from agmcore.experiments import sweeps

    class BrokenPool:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def shutdown(self, wait=True, cancel_futures=False):
            pass

        def submit(self, *args):
            future = Future()
            future.set_exception(BrokenProcessPool("could not start"))
            return future

    monkeypatch.setattr(sweeps, "ProcessPoolExecutor", BrokenPool)
    cells = [_cell(10), _cell(15, name="sgd")]
    with pytest.warns(UserWarning, match="running the remaining 2 chunks here"):
        docs = collect(cells, None, "cpu", workers=2)
    assert [d["key"] for d in docs] == [c.key for c in cells] and all(d["status"] == "finished" for d in docs)


def test_every_experiment_builds_its_paper_scale_cells():
    """The paper-scale cells validate (sizes, memory estimate); the sample-complexity and AdamE
    ones leave the CPU-bound oracles out, the race keeps them (it picks separating seeds by them)."""
    for name, experiment in experiments.EXPERIMENTS.items():
        cells = experiment.build("paper", 1)
        assert cells, name
        if name in ("sample-complexity", "adame-lambda"):
            assert not any(c.oracle_metrics for c in cells) and {c.task.dim for c in cells} == {10_000}
        if name == "sharpness-race":
            assert all(c.oracle_metrics for c in cells)


def test_sample_complexity_without_oracles_summarises_and_draws(monkeypatch):
    monkeypatch.setitem(experiments.SAMPLE_COMPLEXITY, "classroom",
                        dict(dim=30, sparsity=2, samples=(8, 16), steps=200, log_every=100, oracles=False))
    configs = experiments.sample_complexity_cells("classroom", 2)
    docs = collect(configs, None, "cpu")
    summary = experiments.sample_complexity_summary(configs, docs)
    assert "oracle_test_loss" not in summary
    _assert_sample_complexity_claim_read_from_its_numbers(summary)
    assert len(experiment_figure("sample-complexity", configs, docs).data) == 2 * 3  # per optimizer: median, each seed, rate


def test_half_recovery_n_needs_half_the_seeds_from_there_on():
    half_recovery_n = sc.half_recovery_n
    assert half_recovery_n({10: [1, 1, 1, 1], 12: [0, 0, 1, 1], 15: [0, 0, 0, 1]}) == 12
    assert half_recovery_n({10: [0, 0, 1, 1], 12: [0, 1, 1, 1], 15: [0, 0, 0, 1]}) == 15  # dips below at 12
    assert half_recovery_n({10: [1, 1], 12: [1, 1]}) is None


def test_bootstrap_interval_of_half_recovery_and_its_ratio():
    bootstrap_half_recovery = sc.bootstrap_half_recovery
    same = {"adam": {10: [0.0] * 6, 20: [0.0] * 6}, "sgd": {10: [1.0] * 6, 20: [0.0] * 6}}
    out = bootstrap_half_recovery(same)  # every seed alike: every draw is the same
    assert out["per_optimizer"]["adam"] == {"n": 10, "low": 10.0, "high": 10.0}
    assert out["per_optimizer"]["sgd"] == {"n": 20, "low": 20.0, "high": 20.0}
    assert out["ratio"] == {"value": 0.5, "low": 0.5, "high": 0.5}
    mixed = {"adam": {10: [0, 0, 0, 1, 1, 1], 20: [0] * 6}, "sgd": {10: [1] * 6, 20: [0, 0, 0, 1, 1, 1]}}
    out = bootstrap_half_recovery(mixed, draws=500)
    assert out["per_optimizer"]["adam"]["n"] == 10 and out["per_optimizer"]["sgd"]["n"] == 20
    assert out["per_optimizer"]["adam"]["low"] == 10.0 and out["per_optimizer"]["adam"]["high"] == 20.0
    assert out["per_optimizer"]["sgd"]["high"] is None  # some draws never reach half: beyond the grid
    assert out == bootstrap_half_recovery(mixed, draws=500)  # seeded: the same interval every time


def test_recovery_table_reads_both_readings_per_optimizer():
    recovery_table = sc.recovery_table
    configs = [RunConfig(task=DiagNetTask(dim=10, samples=n, sparsity=1), optimizer=OptimizerConfig(name=name),
                         steps=100, seed=seed) for name in ("adam", "sgd") for n in (4, 8) for seed in range(3)]
    docs = []
    for c in configs:
        at_mean = 0.01 if (c.optimizer.name == "adam" or c.task.samples == 8) else 0.5
        authors = 0.2 if c.seed == 0 else at_mean  # seed 0's tail mean misses in every cell
        docs.append({"final": {"test_loss_avg": at_mean}, "history": {"test_loss": [1.0] * 9 + [authors]}})
    table = recovery_table(configs, docs)["readings"]
    assert table["θ̄"]["fraction"]["adam"]["4"]["held"] == 3 and table["θ̄"]["fraction"]["sgd"]["4"]["held"] == 0
    assert table["authors'"]["fraction"]["adam"]["4"]["held"] == 2
    assert table["θ̄"]["half_recovery_n"]["per_optimizer"]["sgd"]["n"] == 8
    assert table["θ̄"]["fraction"]["sgd"]["8"]["low"] > 0.4  # 3/3: Wilson interval [0.44, 1]


def _history_doc(losses, final):
    steps = list(range(0, 100 * len(losses), 100))
    return {"history": {"step": steps, "test_loss": losses}, "final": {"test_loss_avg": final}}


def test_a_cell_has_settled_when_it_recovered_or_stopped_falling():
    assert sc.settled(_history_doc([5, 1, 0.5, 0.2, 0.05, 0.01], 0.01))  # recovered, though still falling
    assert sc.settled(_history_doc([5, 2, 1.0, 1.0, 0.98, 0.97, 0.96, 0.95, 0.95, 0.95, 0.95], 0.95))  # stuck above
    assert not sc.settled(_history_doc([5, 4, 3.5, 3, 2.5, 2, 1.6, 1.2, 0.9, 0.6, 0.4], 0.4))  # still falling


def test_the_cluster_runs_a_chunk_a_cpu_or_a_gpu():
    from agmcore.experiments.cluster import Cluster, on_gpu
    cpus, gpus = Cluster(None, 8, 0), Cluster(None, 8, 2)
    assert (cpus.slots("auto"), gpus.slots("auto"), gpus.slots("cpu")) == (8, 2, 8)
    assert not on_gpu(cpus, "auto") and on_gpu(gpus, "auto") and on_gpu(cpus, "cuda") and not on_gpu(gpus, "cpu")


def test_cuda_cells_on_a_cluster_without_a_gpu_are_refused_before_any_task():
    from agmcore.experiments.cluster import Cluster, ClusterError, computed_on_cluster
    with pytest.raises(ClusterError, match="has no GPU"):
        next(computed_on_cluster(Cluster(None, 4, 0), [_cell(10)], [[0]], "cuda"))
