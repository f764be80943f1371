"""Every Home preset's caption states how often each claim held over seeds (presets.MEASURED);
these re-run five seeds per preset and check the counts within binomial tolerance (slow)."""
import pytest

from agmcore.analysis.race_claims import fractions_over_seeds, wilson_interval
from agmcore.engine.results import to_document
from agmcore.engine.runner import run_all
from agmcore.presentation.playground import build_race
from agmcore.presentation.presets import MEASURED, PRESETS
from tests.binomial import acceptance, assert_as_often_as_recorded

SEEDS = range(5)


def test_acceptance_region():
    assert acceptance(5, 0.84, 1.0) == (2, 5)
    assert acceptance(5, 0.0, 0.1) == (0, 3)  # P(k ≤ 2 | 0.1) = 0.991 < 0.995


def test_wilson_interval_known_values():
    assert wilson_interval(14, 20) == pytest.approx((0.4810, 0.8545), abs=1e-3)
    assert wilson_interval(20, 20) == pytest.approx((0.8389, 1.0), abs=1e-3)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(PRESETS))
def test_preset_claims_hold_as_often_as_its_caption_says(name):
    def race(seed):
        return [to_document(r) for r in run_all(build_race({**PRESETS[name], "pg_seed": seed}))]

    held = fractions_over_seeds(race, SEEDS)
    assert set(held) == set(MEASURED[name])
    for claim, values in held.items():
        assert_as_often_as_recorded(sum(values), len(values), MEASURED[name][claim], claim)


def test_the_default_race_is_the_first_preset():
    """So the caption's fractions (and the slow test above) cover what a fresh Playground shows."""
    assert build_race({}) == build_race(PRESETS["Adam vs SGD on sparse regression"])
