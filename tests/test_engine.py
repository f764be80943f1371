"""The batched run engine: agreement with a plain autograd loop, batching, statuses."""
import threading

import numpy as np
import pytest
import torch

from agmcore.engine.baseline import plain_diag_net_run
from agmcore.engine.config import ConfigError, DiagNetTask, MatrixFactorizationTask, OptimizerConfig, RunConfig
from agmcore.engine.runner import run_all, run_batch
from agmcore.problems.diag_net import initial_params

TASK = DiagNetTask(dim=40, samples=12, sparsity=3)


def _cfg(name="adam", steps=200, log_every=50, seed=0, task=TASK, **opt):
    return RunConfig(task=task, optimizer=OptimizerConfig(name=name, **opt), steps=steps, log_every=log_every, seed=seed)


def _final_params(record):
    return {k: torch.tensor(v, dtype=torch.float64) for k, v in record.arrays["params"].items()}


@pytest.mark.parametrize("config", [
    _cfg("sgd", steps=2000, log_every=500, lr=0.05),
    _cfg("sgd", steps=1000, log_every=500, lr=0.02, beta1=0.9),
    _cfg("adam", steps=200, lr=0.05, beta2=0.99),
    _cfg("rmsprop", steps=200, lr=0.001, beta2=0.9),
])
def test_engine_matches_plain_autograd_loop(config):
    """Same data, init and label noise; the engine's closed-form gradients and AGM update
    against autograd and torch.optim. (Adam under label noise amplifies round-off
    exponentially, so its horizon is a few hundred steps.)"""
    plain = plain_diag_net_run(config)
    record = run_all([config], device="cpu")[0]
    assert record.status == "finished" and record.steps_done == config.steps
    ours = _final_params(record)
    for k in ("u", "v"):
        torch.testing.assert_close(ours[k], plain[k], rtol=1e-9, atol=1e-11)
    assert (ours["u"] - initial_params(TASK, config.seed)["u"]).abs().max() > 1e-3  # it trained


def test_batch_equals_runs_alone():
    configs = [_cfg(lr=0.05, beta2=0.99), _cfg(lr=0.02, beta2=0.9, seed=3), _cfg(lr=0.05, beta2=0.99, seed=7),
               _cfg("sgd", lr=0.05), _cfg("adame", lr=0.05, lam=0.25)]
    together = run_all(configs, device="cpu")
    for config, rec in zip(configs, together):
        alone = run_all([config], device="cpu")[0]
        for k in ("u", "v"):
            torch.testing.assert_close(_final_params(rec)[k], _final_params(alone)[k], rtol=1e-9, atol=1e-11)
        assert rec.history["step"] == alone.history["step"]


def test_history_cadence_and_schema():
    rec = run_all([_cfg(steps=230, log_every=50)])[0]
    assert rec.history["step"] == [0, 50, 100, 150, 200, 230]
    for name in ("train_loss", "test_loss", "trace_H", "trace_sqrt_diag_H", "l1", "l_half"):
        assert len(rec.history[name]) == 6
        assert rec.final[name] == rec.history[name][-1]
    assert 0 <= rec.final["support_precision"] <= 1 and 0 <= rec.final["support_recall"] <= 1
    assert len(rec.arrays["w"]) == 40 and len(rec.arrays["w_star"]) == 40


def test_divergence_stops_one_run_only():
    configs = [_cfg("sgd", lr=50.0, steps=300), _cfg("adam", lr=0.05, steps=300)]
    bad, good = run_all(configs)
    assert bad.status == "diverged" and bad.steps_done < 300
    assert len(bad.history["step"]) < len(good.history["step"])
    assert good.status == "finished" and good.steps_done == 300


def test_cancel_ends_runs_as_cancelled():
    cancel = threading.Event()
    configs = [_cfg(steps=100_000, log_every=100), _cfg("sgd", lr=0.01, steps=100_000, log_every=100)]
    seen = 0
    for snap in run_batch(configs, cancel=cancel):
        seen += 1
        if seen == 3:
            cancel.set()
    assert snap.done
    assert all(r.status == "cancelled" for r in snap.records)
    assert all(0 < r.steps_done < 100_000 for r in snap.records)


def test_reproducible_for_a_seed():
    a = run_all([_cfg(steps=300)])[0]
    b = run_all([_cfg(steps=300)])[0]
    assert a.history == b.history


def test_different_budgets_in_one_batch():
    short, long = run_all([_cfg(steps=120, log_every=50), _cfg(steps=260, log_every=50)])
    assert short.status == long.status == "finished"
    assert short.history["step"][-1] == 120 and long.history["step"][-1] == 260
    alone = run_all([_cfg(steps=120, log_every=50)])[0]
    assert short.history["step"] == alone.history["step"]
    assert short.history["test_loss"] == pytest.approx(alone.history["test_loss"], rel=1e-9)


def test_manifold_metrics():
    config = RunConfig(task=TASK, optimizer=OptimizerConfig(lr=0.05), steps=500, log_every=250, manifold_metrics=True)
    rec = run_all([config])[0]
    assert len(rec.history["trace_H_proj"]) == 3
    assert rec.final["train_loss_proj"] < rec.final["train_loss"]


def test_snapshots_show_progress():
    snaps = [(s.step, s.done) for s in run_batch([_cfg(steps=200, log_every=50)])]
    assert snaps[0] == (0, False) and snaps[-1] == (200, True)
    assert [s for s, _ in snaps] == sorted(s for s, _ in snaps)


def test_matrix_factorization_runs_and_float32():
    task = MatrixFactorizationTask(size=8, rank=1, depth=2, samples=30)
    configs = [RunConfig(task=task, optimizer=OptimizerConfig(name=n, lr=0.05), steps=200, log_every=100,
                         dtype=dt) for n in ("sgd", "adam", "shampoo", "adafactor") for dt in ("float64", "float32")]
    for rec in run_all(configs):
        assert rec.status == "finished"
        assert set(rec.history) >= {"test_loss", "trace_H", "effective_rank", "nuclear_norm", "singular_values"}
        assert rec.final["train_loss"] < rec.history["train_loss"][0]


def test_batch_errors():
    with pytest.raises(ConfigError, match="share log_every"):
        list(run_batch([_cfg(log_every=10), _cfg(log_every=20)]))
    with pytest.raises(ConfigError, match="no runs"):
        list(run_batch([]))


def test_tail_average_is_the_mean_of_the_last_iterates():
    """θ̄ over the last ⌊0.25·20⌋ = 5 steps equals the mean of θ_16 … θ_20 from runs that stop there."""
    import torch

    from agmcore.engine.config import DiagNetTask, OptimizerConfig, RunConfig
    from agmcore.engine.results import to_document
    from agmcore.engine.runner import run_all

    task = DiagNetTask(dim=10, samples=6, sparsity=2)
    sgd = OptimizerConfig(name="sgd", lr=0.05)
    averaged = RunConfig(task=task, optimizer=sgd, steps=20, log_every=20, seed=3, tail_average=0.25)
    ends = [RunConfig(task=task, optimizer=sgd, steps=t, log_every=1, seed=3) for t in range(16, 21)]
    doc = to_document(run_all([averaged])[0])
    finals = [to_document(r)["params"] for r in run_all(ends)]
    for name in ("u", "v"):
        expected = torch.tensor([f[name] for f in finals]).mean(0)
        assert torch.allclose(torch.tensor(doc["params_avg"][name]), expected, atol=1e-13)
        assert not torch.allclose(torch.tensor(doc["params"][name]), expected, atol=1e-6)
    assert doc["final"]["trace_H_avg"] != doc["final"]["trace_H"]
    assert "tail_average" not in RunConfig(task=task, optimizer=sgd).to_dict()  # old keys unchanged


def test_log_spaced_logging_takes_metrics_on_its_schedule_only():
    from agmcore.engine.config import log_schedule

    schedule = log_schedule(5_000_000, 400)
    assert schedule[0] == 1 and schedule[-1] == 5_000_000 and list(schedule) == sorted(set(schedule))
    ratios = np.diff(np.log(schedule[100:]))  # past the start, where rounding repeats steps, evenly spaced in log t
    assert np.allclose(ratios, np.log(5_000_000) / 399, rtol=0.05)
    assert 300 <= len(schedule) <= 400
    config = RunConfig(task=DiagNetTask(dim=10, samples=5, sparsity=1), steps=5000, log_points=40)
    record = run_all([config], device="cpu")[0]
    assert record.history["step"] == [0, *log_schedule(5000, 40)]
    assert all(config.logs_at(t) for t in record.history["step"]) and not config.logs_at(2 * 2311 + 1)


def test_linear_logging_keeps_its_key_and_its_steps():
    config = RunConfig(task=DiagNetTask(dim=10, samples=5, sparsity=1), steps=450, log_every=100)
    assert "log_points" not in config.to_dict()  # configurations from before the field keep their keys
    assert RunConfig.from_dict(config.to_dict()) == config
    assert run_all([config], device="cpu")[0].history["step"] == [0, 100, 200, 300, 400, 450]
    assert [config.next_log_after(t) for t in (0, 99, 100, 420)] == [100, 100, 200, 450]
    logged = RunConfig.from_dict({**config.to_dict(), "log_points": 20})
    assert logged.log_points == 20 and logged.key != config.key
    # the cadence is then unused: schedules that are equal share one key
    assert RunConfig.from_dict({**config.to_dict(), "log_every": 7, "log_points": 20}).key == logged.key
