"""tr(S·H) for each optimizer's stationary preconditioner, against dense computations."""
import pytest
import torch

from agmcore.problems.sharpness import implied_sharpness, trace_of_power


@pytest.fixture
def diag():
    g = torch.Generator().manual_seed(0)
    return {"W": torch.rand(2, 6, 4, generator=g), "b": torch.rand(2, 10, generator=g) - 0.2}


def test_named_measures(diag):
    torch.testing.assert_close(implied_sharpness("sgd", diag), trace_of_power(diag, 1.0))
    torch.testing.assert_close(implied_sharpness("adam", diag), trace_of_power(diag, 0.5))
    torch.testing.assert_close(implied_sharpness("adame", diag, lam=0.25), trace_of_power(diag, 0.75))


def test_adalayer_and_adam_mini(diag):
    clamp = {k: v.clamp_min(0).reshape(2, -1) for k, v in diag.items()}
    layer = sum(h.shape[1] * h.mean(1).sqrt() for h in clamp.values())
    torch.testing.assert_close(implied_sharpness("adalayer", diag), layer)
    blocks = torch.zeros(2, dtype=torch.float64)
    for h in clamp.values():
        for start in range(0, h.shape[1], 4):
            b = h[:, start:start + 4]
            blocks += b.shape[1] * b.mean(1).sqrt()
    torch.testing.assert_close(implied_sharpness("adam-mini", diag, block_size=4), blocks)


def test_adafactor(diag):
    h = diag["W"].clamp_min(0)
    rows, cols = h.sum(2), h.sum(1)
    v = rows.unsqueeze(2) * cols.unsqueeze(1) / rows.sum(1).view(-1, 1, 1)
    expected = (h / v.sqrt()).reshape(2, -1).sum(1) + diag["b"].clamp_min(0).sqrt().sum(1)  # vectors: Adam
    torch.testing.assert_close(implied_sharpness("adafactor", diag), expected)


def test_shampoo_is_refused(diag):
    with pytest.raises(ValueError, match="full Hessian"):
        implied_sharpness("shampoo", diag)


def test_engine_records_each_optimizers_own_measure():
    from agmcore.engine.config import DiagNetTask, OptimizerConfig, RunConfig
    from agmcore.engine.runner import run_all

    task = DiagNetTask(dim=20, samples=8)
    configs = [RunConfig(task=task, optimizer=OptimizerConfig(name=n, lr=0.05, **extra), steps=200, log_every=100)
               for n, extra in (("sgd", {}), ("adam", {}), ("adame", {"lam": 0.25}), ("adame", {"lam": 0.75}),
                                ("adalayer", {}), ("shampoo", {}))]
    sgd, adam, adame_a, adame_b, adalayer, shampoo = run_all(configs)
    # SGD's is Σ max(H_jj, 0): tr H itself once no diagonal entry is negative, never below it
    assert all(i >= t - 1e-12 for i, t in zip(sgd.history["implied_sharpness"], sgd.history["trace_H"]))
    assert adam.history["implied_sharpness"] == pytest.approx(adam.history["trace_sqrt_diag_H"], rel=1e-12)
    assert adame_a.history["implied_sharpness"] != pytest.approx(adame_b.history["implied_sharpness"])
    assert len(adalayer.history["implied_sharpness"]) == 3
    assert "implied_sharpness" not in shampoo.history
