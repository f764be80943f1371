"""Every optimizer's measure at a stored end point equals what the run itself recorded."""
import pytest

from agmcore.analysis.endpoints import measures_at_end, own_measure_wins, race_table
from agmcore.engine.config import DiagNetTask, MatrixFactorizationTask, OptimizerConfig, RunConfig
from agmcore.experiments.sweeps import collect
from agmcore.optimizers.naming import measure_name

OPTIMIZERS = (OptimizerConfig(name="sgd", lr=0.05), OptimizerConfig(name="adam", lr=0.01, bias_correction=False),
              OptimizerConfig(name="adam-mini", lr=0.01, block_size=4), OptimizerConfig(name="adalayer", lr=0.01),
              OptimizerConfig(name="adame", lam=0.25, lr=0.01))


def _cells(task, manifold=False):
    return [RunConfig(task=task, optimizer=o, steps=150, log_every=50, seed=seed, manifold_metrics=manifold)
            for o in OPTIMIZERS for seed in (0, 1)]


@pytest.mark.parametrize("task", [DiagNetTask(dim=12, samples=6, sparsity=2),
                                  MatrixFactorizationTask(size=5, rank=1, depth=2, samples=12)])
def test_own_measure_at_own_end_point_matches_the_run(task):
    configs = _cells(task)
    docs = collect(configs, None, "cpu")
    table = race_table(configs, docs)
    for c, d in zip(configs, docs):
        row = table[c.key]
        assert set(row) == {measure_name(o) for o in OPTIMIZERS}
        assert row[measure_name(c.optimizer)] == pytest.approx(d["final"]["implied_sharpness"], rel=1e-9)
        if isinstance(task, MatrixFactorizationTask):  # diag H ≥ 0 there: clamping changes nothing
            assert row["sgd"] == pytest.approx(d["final"]["trace_H"], rel=1e-9)
        else:  # off the manifold some diag entries are negative and tr(S·H) clamps them at 0
            assert row["sgd"] >= d["final"]["trace_H"] - 1e-12
        assert row["adam"] == pytest.approx(d["final"]["trace_sqrt_diag_H"], rel=1e-9)


def test_projected_measures_match_the_runs_manifold_metrics():
    configs = _cells(DiagNetTask(dim=12, samples=6, sparsity=2), manifold=True)[:2]
    docs = collect(configs, None, "cpu")
    for c, d in zip(configs, docs):
        row = measures_at_end(c, d, OPTIMIZERS, projected=True)
        # Φ is solved per run (diagonal network: exact), so one run alone lands where it did in its batch
        assert row["sgd"] == pytest.approx(d["final"]["trace_H_proj"], rel=1e-9)
        assert row["adam"] == pytest.approx(d["final"]["trace_sqrt_diag_H_proj"], rel=1e-9)
        # the projection did move θ: onto the minimizers, where the clean training loss vanishes
        assert d["final"]["train_loss_proj"] < 1e-20 < 1e-6 < d["final"]["train_loss"]


def test_own_measure_wins_compares_against_the_rival():
    configs = _cells(DiagNetTask(dim=12, samples=6, sparsity=2))
    docs = collect(configs, None, "cpu")
    table = race_table(configs, docs)
    wins = own_measure_wins(configs, table)
    by = {(measure_name(c.optimizer), c.seed): table[c.key] for c in configs}
    assert set(wins) == {0, 1}
    for seed, checks in wins.items():
        assert checks["adam lower on adam's measure"] == (by["adam", seed]["adam"] < by["sgd", seed]["adam"])
        assert checks["sgd lower on sgd's measure than adalayer"] == (
            by["sgd", seed]["sgd"] < by["adalayer", seed]["sgd"])
