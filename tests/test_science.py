"""Scientific outcomes at classroom scale (slow: one to three minutes each).

What the experiments showed, asserted as aggregates over seeds so that a change that breaks it
fails and round-off on another machine does not: medians, fractions within binomial tolerance of
the recorded ones (each experiment's MEASURED), half-recovery n with bootstrap intervals — never
one seed's ordering (one seed is one draw of a process that amplifies round-off). docs/ holds the
numbers, the settings that were tried, and the parts of the paper's claims that did not hold.
"""
import numpy as np
import pytest

from agmcore import experiments
from agmcore.engine.config import MatrixFactorizationTask, OptimizerConfig, RunConfig
from agmcore.experiments.common import holds_on_most
from agmcore.experiments.matrix_factorization import MEASURED as MEASURED_MF
from agmcore.experiments.sample_complexity import MEASURED as MEASURED_SC
from agmcore.experiments.sharpness_race import MEASURED as MEASURED_RACE
from agmcore.experiments.sweeps import collect
from tests.binomial import assert_as_often_as_recorded

pytestmark = pytest.mark.slow


def _run(name, seeds=None):
    experiment = experiments.EXPERIMENTS[name]
    configs = experiment.build("classroom", seeds or experiment.seeds)
    docs = collect(configs, None, "cpu", workers=2)  # the same documents as one process, sooner
    return experiment.summarize(configs, docs)


def test_sample_complexity_adam_half_recovers_with_fewer_samples_on_ten_seeds():
    """Over seeds 0–9 (the default), aggregates only: Adam's median drops at a smaller n and at
    every n as many seeds or more recover with Adam; under both readings (θ̄ and the authors')
    half the seeds recover at a smaller n with Adam, and the bootstrap interval of the ratio lies
    below 1; more seeds recover earlier with Adam than with SGD (a sign count); where the min-ℓ1
    interpolator fails, SGD fails and Adam recovers as often as recorded (docs/sample-complexity.md)."""
    summary = _run("sample-complexity")
    assert summary["claim_parts"] == {"adam_median_drops_at_smaller_n": True, "adam_recovers_as_often_at_every_n": True}
    for reading, table in summary["recovery"]["readings"].items():
        half = table["half_recovery_n"]
        assert half["per_optimizer"]["adam"]["n"] < half["per_optimizer"]["sgd"]["n"], reading
        assert half["ratio"]["high"] < 1, reading
    adam, sgd = summary["recovery_n_per_seed"]["adam"], summary["recovery_n_per_seed"]["sgd"]
    never = float("inf")
    assert sum((a or never) < (g or never) for a, g in zip(adam, sgd)) > sum((g or never) < (a or never) for a, g in zip(adam, sgd))
    for check, fraction in summary["where_min_l1_fails"].items():
        assert_as_often_as_recorded(fraction["held"], fraction["seeds"], MEASURED_SC[check], check)
    assert holds_on_most(summary["where_min_l1_fails"]["sgd_fails"])


def test_sharpness_race_each_optimizer_lower_on_its_own_measure_on_most_seeds():
    """Over seeds 0–29 (the default), on the seeds where the two oracles differ, at Φ(θ̄): how often
    SGD ends with the lower tr(H) and ‖w‖₁, Adam with the lower tr(Diag(H)^½) and Σ|w|^½, and each
    AGM lower than SGD on its own measure — each within binomial tolerance of the recorded fraction
    (sharpness_race.MEASURED) and each on most seeds. How often each ends nearer its own oracle is
    checked against its recorded fraction only: about half the seeds at this scale, so whether that
    is "most" is the machine's round-off (docs/sharpness-race.md), and it is not claimed."""
    summary = _run("sharpness-race")
    assert summary["measured_at"] == "Φ(θ̄)"
    fractions = {**summary["claim_fractions"], **summary["own_measure_fractions"]}
    assert set(fractions) == set(MEASURED_RACE)
    for part, fraction in fractions.items():
        assert_as_often_as_recorded(fraction["held"], fraction["seeds"], MEASURED_RACE[part], part)
        if part != "oracles":
            assert holds_on_most(fraction), part
    assert set(summary["claim_parts"]) == {"sgd_measures", "adam_measures"} and summary["claim_holds"]


def test_adame_lambda_a_half_and_three_quarters_recover_with_fewer_samples_than_lambda_near_zero():
    """Over seeds 0–9 (the default), medians: λ = ½ and λ = 0.75 drop at a smaller n than λ = 0.001
    (λ → 0: SGD's bias); λ = 0.25 and 0.9, unfinished at their small η, did not
    (docs/adame-lambda.md)."""
    summary = _run("adame-lambda")
    parts = summary["claim_parts"]
    for lam in (0.5, 0.75):
        assert parts[f"λ={lam} drops at a smaller n than λ=0.001"]


def test_matrix_factorization_own_measures_and_adam_worse_at_both_depths():
    """Over seeds 0–2 (the default), each part as often as recorded (matrix_factorization.MEASURED),
    within binomial tolerance: every diagonal AGM lower than SGD on its own tr(S·H) at both depths;
    Adam's held-out error above SGD's (the paper's claim) at depth 3 and, over the poster's horizon
    (5·10⁶ steps, n = 60), at depth 2; SGD lower than Adam on tr(H) at depth 2 only
    (docs/matrix-factorization.md)."""
    summary = _run("matrix-factorization")
    assert set(summary["claim_fractions"]) == set(MEASURED_MF)
    for part, fraction in summary["claim_fractions"].items():
        assert_as_often_as_recorded(fraction["held"], fraction["seeds"], MEASURED_MF[part], part)
    parts = summary["claim_parts"]
    assert parts["depth 3: adam_worse"] and parts["depth 2: adam_worse"]
    assert parts["depth 2: agms_lower_on_own_measure"] and parts["depth 3: agms_lower_on_own_measure"]


def _inner_group_norms(doc):
    """g_k = ‖row_k W₁‖ + ‖col_k W₂‖ over the inner dimension k of W = W₂W₁."""
    w1, w2 = np.asarray(doc["params"]["W1"]), np.asarray(doc["params"]["W2"])
    return np.linalg.norm(w1, axis=1) + np.linalg.norm(w2, axis=0)


def test_matrix_factorization_adams_measure_is_a_group_norm_and_adam_ends_group_sparse():
    """docs/matrix-factorization.md's reading, checked directly on depth-2 Gaussian sensing over
    seeds 0–2: at every end point tr(Diag(H)^½) equals Σ_k g_k (g_k = ‖row_k W₁‖ + ‖col_k W₂‖,
    a group norm over the inner dimension) within 5 %; and Adam's end points are group-sparse —
    the median number of inner groups above a tenth of the largest is lower with Adam than with
    SGD (measured: Adam 2–5 of 20, SGD 20 of 20)."""
    task = MatrixFactorizationTask(size=20, rank=2, depth=2, samples=120, measurement="gaussian")
    optimizers = (OptimizerConfig(name="adam", lr=0.01, beta2=0.999, bias_correction=False, eps=1e-6),
                  OptimizerConfig(name="sgd", lr=0.1))
    configs = [RunConfig(task=task, optimizer=o, steps=20_000, log_every=2_000, seed=s) for o in optimizers for s in range(3)]
    docs = collect(configs, None, "cpu", workers=2)
    active = {"adam": [], "sgd": []}
    for c, d in zip(configs, docs):
        groups = _inner_group_norms(d)
        assert d["final"]["trace_sqrt_diag_H"] == pytest.approx(groups.sum(), rel=0.05)
        active[c.optimizer.name].append(int((groups > 0.1 * groups.max()).sum()))
    assert np.median(active["adam"]) < np.median(active["sgd"])
