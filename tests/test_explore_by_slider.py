"""Explore by slider: the sliders' scales, when a change runs by itself, the race-time model, and
the previous setting drawn beside the new one (figures, the change named, the measures compared)."""
import math
import re

import pytest

from agmcore.analysis.comparison import measure_changes
from agmcore.analysis.verdict import denoised_last
from agmcore.engine import speed
from agmcore.engine.results import to_document
from agmcore.engine.runner import run_all
from agmcore.presentation import auto_run, figures
from agmcore.presentation.playground import (BOUNDS, DEFAULTS, SCALES, build_race, key_of, setting_changes,
                                             slider_text, slider_values)
from agmcore.service import worker
from agmcore.storage.store import race_key

SMALL = {"pg_steps": 3000, "pg_dim": 40, "pg_samples": 10}


@pytest.fixture(scope="module")
def before_and_after():
    """The same small race at Adam's β2 = 0.9 and at 0.95."""
    before = [to_document(r) for r in run_all(build_race(SMALL))]
    after = [to_document(r) for r in run_all(build_race({**SMALL, "pg_adam_beta2": 0.95}))]
    return before, after


# ------------------------------------------------------------------ the sliders' scales
@pytest.mark.parametrize("key", sorted(SCALES))
def test_every_scale_is_sorted_within_its_bounds_and_holds_its_default(key):
    values = SCALES[key]
    low, high = BOUNDS[key]
    assert values == sorted(set(values)) and low <= values[0] and values[-1] <= high
    assert DEFAULTS[key] in values
    assert 5 <= len(values) <= 70  # a slider, not a number box
    assert all(float(slider_text(v)) == v for v in values)  # written exactly, in the URL too


@pytest.mark.parametrize("key, one_minus", [("pg_adam_lr", False), ("pg_init", False), ("pg_steps", False),
                                            ("pg_dim", False), ("pg_adam_beta2", True)])
def test_log_scaled_knobs_step_by_about_the_same_factor(key, one_minus):
    """η, α, steps, d and 1 − β2 are explored by their magnitude: 1, 2, 5 per decade."""
    values = [1 - v if one_minus else v for v in SCALES[key]]
    ratios = [max(a, b) / min(a, b) for a, b in zip(values, values[1:])]
    assert 2.0 <= max(ratios) <= 2.5 + 1e-9 and min(ratios) >= 2.0 - 1e-9


def test_small_counts_are_every_whole_number():
    """Near a recovery threshold one more sample matters: n and κ go up by one where they are small."""
    assert SCALES["pg_samples"][:50] == list(range(1, 51))
    assert SCALES["pg_sparsity"][:20] == list(range(1, 21))


def test_a_value_off_the_scale_is_added_to_its_slider():
    assert 0.0123 not in SCALES["pg_adam_lr"]
    values = slider_values("pg_adam_lr", 0.0123)
    assert 0.0123 in values and values == sorted(values)
    assert slider_values("pg_adam_lr", 0.1) == SCALES["pg_adam_lr"]
    assert slider_text(0.0123) == "0.0123" and slider_text(1e-05) == "1e-05" and slider_text(100_000) == "100000"


# ------------------------------------------------------------------ what changed
def test_a_change_is_named_with_its_two_values():
    assert setting_changes({}, {"pg_adam_beta2": 0.95}) == ["Adam β2 0.9 → 0.95"]
    assert setting_changes({"pg_samples": 15}, {"pg_samples": 20, "pg_sgd_lr": 0.05}) == \
        ["training samples n 15 → 20", "SGD η 0.1 → 0.05"]
    assert setting_changes({}, {}) == []


def test_a_change_the_race_does_not_use_is_not_named():
    """An optimizer that does not race, or the other task's knob, changes nothing on screen."""
    assert setting_changes({}, {key_of("rmsprop", "lr"): 0.5}) == []
    assert setting_changes({}, {"pg_rank": 4}) == []  # a matrix-factorization knob, on the diagonal network
    assert setting_changes({}, {"pg_task": "matrix-factorization", "pg_rank": 4}) == \
        ["task diag-net → matrix-factorization", "rank r 2 → 4"]


def test_the_measures_compared_are_each_optimizers_own_at_the_denoised_iterate(before_and_after):
    before, after = before_and_after
    adam, sgd = measure_changes(before, after)
    assert adam.startswith("Adam: tr(Diag(H)^½) ") and ", test loss " in adam
    assert sgd.startswith("SGD: tr(H) ") and ", test loss " in sgd
    numbers = [float(v) for v in re.findall(r"(-?[\d.]+(?:e-?\d+)?) → (-?[\d.]+(?:e-?\d+)?)", adam)[0]]
    assert numbers == pytest.approx([denoised_last(before[0], "trace_sqrt_diag_H"),
                                     denoised_last(after[0], "trace_sqrt_diag_H")], rel=5e-3)
    assert measure_changes([], after) == [] and measure_changes(before, []) == []


# ------------------------------------------------------------------ the previous setting in the figures
def test_each_comparing_panel_draws_the_previous_setting_dotted_in_its_optimizers_colour(before_and_after):
    before, after = before_and_after
    plain = figures.race_figures(after, legend=False)
    beside = figures.race_figures(after, legend=False, previous=before)
    colours = dict(zip(("adam", "sgd"), figures.run_colors(after)))
    for name in ("sharpness", "bias", "loss"):
        earlier = [t for t in beside[name].data if t.name.startswith(figures.PREVIOUS)]
        panels = {"sharpness": 2, "bias": 2, "loss": 1}[name]
        assert len(earlier) == 2 * panels  # each previous run, once a panel
        assert all(t.line.dash == "dot" and t.opacity < 1 and not t.showlegend for t in earlier)
        assert {t.line.color for t in earlier if "adam" in t.name} == {colours["adam"]}
        assert len(beside[name].data) == len(plain[name].data) + len(earlier)  # the new race's curves all there
    for name in ("verdict", "truth"):
        assert sum(t.name.startswith(figures.PREVIOUS) for t in beside[name].data) == 2
    for name in ("weights_0", "weights_1"):
        assert beside[name].to_dict() == plain[name].to_dict()


def test_a_previous_race_of_another_task_is_not_drawn(before_and_after):
    _, after = before_and_after
    other = [to_document(r) for r in run_all(build_race({"pg_task": "matrix-factorization", "pg_steps": 200,
                                                          "pg_dim": 6, "pg_samples": 20}))]
    beside = figures.race_figures(after, legend=False, previous=other)
    assert not any(t.name and t.name.startswith(figures.PREVIOUS) for f in beside.values() for t in f.data)


def test_one_figure_by_name_is_the_figure_of_the_whole_set(before_and_after):
    """race_figure (what the page draws chart by chart) against race_figures (exports, result page)."""
    before, after = before_and_after
    whole = figures.race_figures(after, x="slow", teacher=True, previous=before)
    assert list(whole) == figures.race_figure_names(after)
    for name, fig in whole.items():
        assert figures.race_figure(name, after, x="slow", teacher=True, previous=before).to_dict() == fig.to_dict()


# ------------------------------------------------------------------ when a change runs by itself
def test_the_default_race_runs_by_itself_and_a_large_one_waits_for_run():
    assert auto_run.runs_by_itself(build_race({}))
    assert not auto_run.runs_by_itself(build_race({"pg_dim": 1000}))  # 2.8 s measured (bench_speed_model)
    assert not auto_run.runs_by_itself(build_race({"pg_task": "matrix-factorization"}))  # the torch path


def test_a_race_starts_by_itself_only_after_a_change_and_never_twice():
    quick, key = build_race({"pg_adam_beta2": 0.95}), race_key(build_race({"pg_adam_beta2": 0.95}))
    seen = race_key(build_race({}))
    assert auto_run.starts_by_itself(seen, key, stored=False, configs=quick)
    assert not auto_run.starts_by_itself(None, key, stored=False, configs=quick)  # a page just opened
    assert not auto_run.starts_by_itself(key, key, stored=False, configs=quick)  # a rerun, no change
    assert not auto_run.starts_by_itself(seen, key, stored=True, configs=quick)  # opens from the store
    slow = build_race({"pg_steps": 10_000_000})
    assert not auto_run.starts_by_itself(seen, race_key(slow), stored=False, configs=slow)


def test_the_race_time_model_grows_with_every_size():
    base = speed.estimated_seconds(build_race({}))
    for change in ({"pg_steps": 200_000}, {"pg_dim": 200}, {"pg_samples": 30}, {"pg_proj": True},
                   {"pg_opts": ["adam", "sgd", "rmsprop"]}):
        assert speed.estimated_seconds(build_race(change)) > base, change
    assert speed.estimated_seconds(build_race({"pg_steps": 200_000})) == pytest.approx(2 * base - speed.START, rel=0.05)
    assert speed.estimated_seconds(build_race({"pg_opts": ["adam", "shampoo"]})) is None
    assert speed.estimated_seconds([]) is None
    assert math.isfinite(base) and 0.1 < base < auto_run.AUTO_RUN_SECONDS


# ------------------------------------------------------------------ the worker's messages
def test_the_worker_sends_the_first_step_the_end_and_then_every_tenth_of_a_second():
    assert not worker.due(0.0, None, 0, False)  # step 0: nothing to draw yet
    assert worker.due(0.001, None, 250, False)  # the first logged step, at once
    assert not worker.due(0.05, 0.001, 500, False)
    assert worker.due(0.001 + worker.SEND_EVERY, 0.001, 750, False)
    assert worker.due(0.06, 0.05, 100_000, True)  # the end, whenever it comes
