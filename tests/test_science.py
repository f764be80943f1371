"""Scientific outcomes at classroom scale over three seeds (slow: one to three minutes each).

What the experiments showed on seeds 0–2, asserted so that a change that breaks it fails; docs/
holds the numbers, the settings that were tried, and the parts of the paper's claims that did
not hold — including seeds 3–5, where Adam misses cells its own oracle recovers, so the
sample-complexity and race outcomes below do not hold over six seeds (docs/sample-complexity.md).
"""
import pytest

from agmcore import experiments
from agmcore.experiments.sample_complexity import ORACLES
from agmcore.sweeps import collect

pytestmark = pytest.mark.slow


def _run(name, seeds=3):
    experiment = experiments.EXPERIMENTS[name]
    configs = experiment.build("classroom", seeds)
    docs = collect(configs, None, "cpu", workers=2)  # the same documents as one process, sooner
    return experiment.summarize(configs, docs)


def test_sample_complexity_adam_recovers_with_fewer_samples_and_sgd_tracks_its_oracle():
    summary = _run("sample-complexity")
    adam, sgd = summary["recovery_n"]["adam η=0.03 β2=0.991"], summary["recovery_n"]["sgd η=0.1"]
    assert adam is not None and sgd is not None and adam < sgd
    assert summary["claim_holds"]
    l1_oracle = summary["oracle_test_loss"][next(k for k in ORACLES if "ℓ1" in k)]
    sgd_loss = summary["test_loss"]["sgd η=0.1"]
    for n, per_seed in l1_oracle.items():  # SGD has finished: it recovers exactly where min-ℓ1 does
        for seed, oracle in enumerate(per_seed):
            if oracle < 0.01:
                assert sgd_loss[n]["seeds"][seed] < experiments.RECOVERED
            if oracle > 0.3:
                assert sgd_loss[n]["seeds"][seed] > experiments.RECOVERED


def test_sharpness_race_each_optimizer_lower_on_its_own_measure():
    """On the seeds where the two oracles differ, at Φ(θ̄) (the exact flow limit of the
    tail-averaged iterate): SGD ends with the lower tr(H) and ‖w‖₁ and nearer the min-ℓ1
    interpolator; Adam with the lower tr(Diag(H)^½) and Σ|w|^½ and nearer the min-ℓ^½ one;
    RMSProp lower than SGD on its own measure (docs/sharpness-race.md)."""
    summary = _run("sharpness-race")
    assert summary["measured_at"] == "Φ(θ̄)"
    separating = [c for c in summary["checks"] if c["oracles_differ"]]
    assert len(separating) >= 2
    assert summary["claim_parts"] == {"sgd_measures": True, "adam_measures": True, "oracles": True}
    for check in separating:
        assert summary["own_measure_checks"][check["seed"]]["rmsprop lower on rmsprop's measure"]


def test_adame_small_lambda_needs_more_samples_than_adam():
    summary = _run("adame-lambda")
    rec = summary["recovery_n_by_lambda"]
    assert rec["0.5"] is not None and rec["0.001"] is not None and rec["0.5"] < rec["0.001"]


def test_matrix_factorization_own_measures_and_adam_worse_at_depth_three():
    """Every diagonal AGM ends lower than SGD on its own tr(S·H) on every seed at depths 2 and 3.
    At depth 3 Adam's held-out error ends above SGD's on every seed (the paper's claim); at depth 2
    it ended below (docs/matrix-factorization.md). SGD lower than Adam on tr(H) held at depth 2
    only (at depth 3 Adam ended lower on tr(H) too)."""
    summary = _run("matrix-factorization")
    parts = summary["claim_parts"]
    assert parts["depth 2: agms_lower_on_own_measure"] and parts["depth 3: agms_lower_on_own_measure"]
    assert parts["depth 3: adam_worse"]
    assert not any(summary["by_depth"]["depth 2"]["adam_test_error_above_sgd"].values())
    assert parts["depth 2: sgd_lower_trace_H_than_adam"]
