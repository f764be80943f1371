"""Scientific outcomes at classroom scale over three seeds (slow: a few minutes each).

What the experiments showed, asserted so that a change that breaks it fails; docs/ holds the
numbers and the settings that were tried.
"""
import pytest

from agmcore import experiments
from agmcore.sweeps import collect

pytestmark = pytest.mark.slow


def _run(name, seeds=3):
    experiment = experiments.EXPERIMENTS[name]
    configs = experiment.build("classroom", seeds)
    return configs, collect(configs, None, "cpu")


def test_sample_complexity_adam_recovers_with_fewer_samples():
    configs, docs = _run("sample-complexity")
    summary = experiments.sample_complexity_summary(configs, docs)
    adam, sgd = summary["recovery_n"]["adam η=0.1 β2=0.95"], summary["recovery_n"]["sgd η=0.1"]
    assert adam is not None and sgd is not None
    assert adam < sgd
    assert summary["claim_holds"]


def test_sharpness_race_sgd_orderings():
    """SGD ends with the lower tr(H) and ‖w‖₁ at the projection on every seed (the Adam half of
    the claim did not hold at this setting: docs/sharpness-race.md)."""
    configs, docs = _run("sharpness-race")
    summary = experiments.sharpness_race_summary(configs, docs)
    assert len(summary["checks"]) == 3
    for check in summary["checks"]:
        assert check["sgd_lower_trace_H"] and check["sgd_lower_l1"]
