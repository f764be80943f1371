"""The denoised measures: every measure at Φ(θ̄), θ̄ the ω-polynomial average of the iterates
(observation.DENOISING_OMEGA, docs/denoising.md), rebuilt here from the logged iterates."""
import numpy as np
import pytest
import torch

from agmcore.engine.config import DiagNetTask, MatrixFactorizationTask, OptimizerConfig, RunConfig
from agmcore.engine.observation import DENOISING_OMEGA, denoising_weight
from agmcore.engine.runner import problem_for, run_batch

STEPS = 60


def _iterates_and_records(config, reference):
    """Every iterate θ_0 … θ_STEPS (logged at every step) and the finished records."""
    iterates = []
    for snapshot in run_batch([config], device="cpu", reference=reference):
        if snapshot.step == len(iterates):  # the last snapshot repeats the last step
            iterates.append({k: torch.tensor(v, dtype=torch.float64)[None] for k, v in
                             snapshot.arrays()[0]["params"].items()})
    return iterates, snapshot.records


def _running_average(iterates):
    """θ̄_t = θ̄_{t−1} + (ω+1)/(t+ω)·(θ_t − θ̄_{t−1}), θ̄_0 = θ_0, by the formula."""
    averages = [iterates[0]]
    for t, theta in enumerate(iterates[1:], start=1):
        weight = denoising_weight(t)
        averages.append({k: averages[-1][k] + weight * (theta[k] - averages[-1][k]) for k in theta})
    return averages


def test_the_weight_is_the_polynomial_average():
    """(ω+1)/(t+ω) makes θ̄_t a mean of the θ_s with weights growing like s^ω: on scalars, the
    unrolled weights sum to 1, grow with s, and put 1 − (3/4)^(ω+1) ≈ 93 % on the last quarter."""
    values = np.random.default_rng(0).normal(size=200)
    average = values[0]
    for t in range(1, len(values)):
        average += denoising_weight(t) * (values[t] - average)
    weights = np.ones(len(values))
    for t in range(1, len(values)):  # unrolled: each earlier weight shrinks by 1 − w_t
        weights[:t] *= 1 - denoising_weight(t)
        weights[t] = denoising_weight(t)
    assert weights.sum() == pytest.approx(1.0) and average == pytest.approx(weights @ values)
    assert np.all(np.diff(weights[1:]) > 0)
    assert weights[150:].sum() == pytest.approx(1 - 0.75 ** (DENOISING_OMEGA + 1), abs=0.02)


@pytest.mark.parametrize("reference", [False, True], ids=["compiled", "torch"])
@pytest.mark.parametrize("name, lr", [("adam", 0.05), ("sgd", 0.1)])
def test_diag_net_denoised_measures_are_at_phi_of_the_average(reference, name, lr):
    task = DiagNetTask(dim=30, samples=10, sparsity=2)
    config = RunConfig(task=task, optimizer=OptimizerConfig(name=name, lr=lr, beta2=0.99), steps=STEPS, log_every=1)
    iterates, (record,) = _iterates_and_records(config, reference)
    assert len(iterates) == STEPS + 1
    problem = problem_for(task, [0], [task.label_noise], torch.float64, torch.device("cpu"))
    for t, average in enumerate(_running_average(iterates)):
        if t % 10:
            continue
        measures = problem.metrics(problem.gradient_flow_limit(average))
        for k in ("test_loss", "trace_H", "trace_sqrt_diag_H", "l1", "l_half"):
            assert record.history[f"{k}_denoised"][t] == pytest.approx(measures[k].item(), rel=1e-9), (k, t)
        assert record.history["train_loss_denoised"][t] < 1e-20  # on the manifold
    assert record.final["trace_sqrt_diag_H_denoised"] == record.history["trace_sqrt_diag_H_denoised"][-1]
    own = "trace_H" if name == "sgd" else "trace_sqrt_diag_H"  # tr(S·H) of its own preconditioner
    assert record.final["implied_sharpness_denoised"] == pytest.approx(record.final[f"{own}_denoised"], rel=1e-12)
    w_bar = np.asarray(record.arrays["w_denoised"])
    phi = problem.gradient_flow_limit(_running_average(iterates)[-1])
    assert w_bar == pytest.approx((phi["u"] ** 2 - phi["v"] ** 2)[0].numpy(), rel=1e-9, abs=1e-15)


def test_matrix_factorization_reads_the_average_itself():
    """No exact Φ for a factorization: its denoised measures are at θ̄ (projection.denoising_point)."""
    task = MatrixFactorizationTask(size=5, rank=1, samples=15, depth=2)
    config = RunConfig(task=task, optimizer=OptimizerConfig(name="adam", lr=0.02), steps=STEPS, log_every=1)
    iterates, (record,) = _iterates_and_records(config, reference=True)
    problem = problem_for(task, [0], [task.label_noise], torch.float64, torch.device("cpu"))
    average = _running_average(iterates)[-1]
    measures = problem.metrics(average)
    for k in ("test_loss", "train_loss", "nuclear_norm", "effective_rank"):
        assert record.final[f"{k}_denoised"] == pytest.approx(measures[k].item(), rel=1e-10), k
    assert record.final["test_loss_denoised"] != pytest.approx(record.final["test_loss"], rel=1e-6)
