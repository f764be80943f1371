"""Scientific outcomes at classroom scale (slow: one to two minutes each).

What the experiments showed, asserted so that a change that breaks it fails: sample complexity
over its default ten seeds, the others over seeds 0–2. docs/ holds the numbers, the settings that
were tried, and the parts of the paper's claims that did not hold — the race's Adam parts and the
AdamE ordering do not hold on every seed beyond 0–2 (docs/sharpness-race.md, docs/adame-lambda.md).
"""
import pytest

from agmcore import experiments
from agmcore.experiments.sample_complexity import ORACLES
from agmcore.sweeps import collect

pytestmark = pytest.mark.slow


def _run(name, seeds=None):
    experiment = experiments.EXPERIMENTS[name]
    configs = experiment.build("classroom", seeds or experiment.seeds)
    docs = collect(configs, None, "cpu", workers=2)  # the same documents as one process, sooner
    return experiment.summarize(configs, docs)


def test_sample_complexity_adam_recovers_with_fewer_samples_on_ten_seeds():
    """Over seeds 0–9 (the experiment's default): Adam's median drops at a smaller n than SGD's,
    as many seeds or more recover with Adam at every n, more seeds recover earlier with Adam than
    with SGD (a sign count: one seed's ordering is one draw of a process that amplifies round-off),
    and no fewer seeds recover within the grid. SGD fails wherever the min-ℓ1 interpolator fails
    (its bias), and Adam recovers some of those cells (docs/sample-complexity.md)."""
    summary = _run("sample-complexity")
    adam, sgd = "adam η=0.1 β2=0.9", "sgd η=0.1"
    assert summary["claim_parts"] == {"adam_median_drops_at_smaller_n": True, "adam_recovers_as_often_at_every_n": True}
    assert summary["median_drop_n"][adam] < summary["median_drop_n"][sgd]
    per_seed = list(zip(summary["recovery_n_per_seed"][adam], summary["recovery_n_per_seed"][sgd]))
    never = float("inf")
    adam_earlier = sum((a or never) < (g or never) for a, g in per_seed)
    sgd_earlier = sum((g or never) < (a or never) for a, g in per_seed)
    assert adam_earlier > sgd_earlier
    assert sum(a is not None for a, _ in per_seed) >= sum(g is not None for _, g in per_seed)
    l1_oracle = summary["oracle_test_loss"][next(k for k in ORACLES if "ℓ1" in k)]
    rescued = 0
    for n, per_seed in l1_oracle.items():
        for seed, oracle in enumerate(per_seed):
            if oracle > 0.3:
                assert summary["test_loss"][sgd][n]["seeds"][seed] > experiments.RECOVERED
                rescued += summary["test_loss"][adam][n]["seeds"][seed] < experiments.RECOVERED
    assert rescued >= 3


def test_sharpness_race_each_optimizer_lower_on_its_own_measure():
    """On the seeds where the two oracles differ, at Φ(θ̄) (the exact flow limit of the
    tail-averaged iterate): SGD ends with the lower tr(H) and ‖w‖₁ and nearer the min-ℓ1
    interpolator; Adam with the lower tr(Diag(H)^½) and Σ|w|^½ and nearer the min-ℓ^½ one;
    RMSProp lower than SGD on its own measure (docs/sharpness-race.md)."""
    summary = _run("sharpness-race", 3)
    assert summary["measured_at"] == "Φ(θ̄)"
    separating = [c for c in summary["checks"] if c["oracles_differ"]]
    assert len(separating) >= 2
    assert summary["claim_parts"] == {"sgd_measures": True, "adam_measures": True, "oracles": True}
    for check in separating:
        assert summary["own_measure_checks"][check["seed"]]["rmsprop lower on rmsprop's measure"]


def test_adame_lambda_from_a_quarter_up_recovers_with_fewer_samples_than_lambda_near_zero():
    """Over seeds 0–9 (the default): the medians of λ = 0.25, 0.5 and 0.75 drop at a smaller n than
    λ = 0.001's (which drops where SGD's does). λ = 0.9 did not (docs/adame-lambda.md)."""
    summary = _run("adame-lambda")
    parts = summary["claim_parts"]
    for lam in (0.25, 0.5, 0.75):
        assert parts[f"λ={lam} drops at a smaller n than λ=0.001"]
    drop = summary["median_drop_n_by_lambda"]
    assert drop["0.5"] < drop["0.001"]


def test_matrix_factorization_own_measures_and_adam_worse_at_depth_three():
    """Every diagonal AGM ends lower than SGD on its own tr(S·H) on every seed at depths 2 and 3.
    At depth 3 Adam's held-out error ends above SGD's on every seed (the paper's claim); at depth 2
    it ended below (docs/matrix-factorization.md). SGD lower than Adam on tr(H) held at depth 2
    only (at depth 3 Adam ended lower on tr(H) too)."""
    summary = _run("matrix-factorization", 3)
    parts = summary["claim_parts"]
    assert parts["depth 2: agms_lower_on_own_measure"] and parts["depth 3: agms_lower_on_own_measure"]
    assert parts["depth 3: adam_worse"]
    assert not any(summary["by_depth"]["depth 2"]["adam_test_error_above_sgd"].values())
    assert parts["depth 2: sgd_lower_trace_H_than_adam"]
