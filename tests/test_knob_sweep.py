"""Sweep a knob: the values a sweep takes, its races (each stored as a race, out of the gallery,
the same bits as the race run alone), chunks that use every worker, and the strip of final
measures against the knob."""
import json
import subprocess
import sys

import pytest

from agmcore.analysis.verdict import denoised_last
from agmcore.engine.results import dumps, to_document
from agmcore.engine.runner import run_all
from agmcore.experiments.sweeps import chunks, collect_races
from agmcore.presentation import knob_sweep
from agmcore.presentation.playground import DEFAULTS, SCALES, build_race, slider_values
from agmcore.storage.store import ResultStore, race_key

SMALL = {"pg_steps": 2000, "pg_dim": 30, "pg_samples": 8}


@pytest.mark.parametrize("key", sorted(SCALES))
def test_a_sweep_takes_nine_to_fifteen_of_its_sliders_values_around_the_current_one(key):
    for current in (DEFAULTS[key], SCALES[key][0], SCALES[key][-1]):
        values = knob_sweep.sweep_values(key, current)
        assert values == sorted(values) and set(values) <= set(slider_values(key, current))
        assert current in values
        assert min(9, len(slider_values(key, current))) <= len(values) <= knob_sweep.MOST_VALUES


def test_a_sweeps_races_are_the_settings_with_only_the_knob_moved():
    races, cannot = knob_sweep.sweep_races(SMALL, "pg_adam_beta2")
    assert cannot == []
    values = [v for v, _ in races]
    assert values == knob_sweep.sweep_values("pg_adam_beta2", DEFAULTS["pg_adam_beta2"])
    here = dict(races)[DEFAULTS["pg_adam_beta2"]]
    assert race_key(here) == race_key(build_race(SMALL))  # the current race is one of them: no recompute
    for value, race in races:
        assert [c.optimizer.beta2 for c in race if c.optimizer.name == "adam"] == [value]
    # SGD does not read β2: one SGD run serves every race
    assert len(knob_sweep.distinct_runs([r for _, r in races])) == len(races) + 1


def test_chunks_cover_every_cell_once_and_cut_one_big_group_for_every_worker():
    groups = [list(range(12)), [12]]
    for workers in (1, 2, 3, 8):
        cut = chunks(groups, workers)
        assert sorted(i for chunk in cut for i in chunk) == list(range(13))
        assert all(chunk == sorted(chunk) for chunk in cut)
        if workers > 1:
            assert len(cut) >= workers and [len(c) for c in cut] == sorted((len(c) for c in cut), reverse=True)
    assert chunks(groups, 1) == groups


def _swept(tmp_path, workers):
    races = [race for _, race in knob_sweep.sweep_races(SMALL, "pg_adam_beta2")[0][:4]]
    store = ResultStore(str(tmp_path / f"store-{workers}"))
    seen = []
    total = collect_races(races, store, "cpu", lambda i, doc, fresh: seen.append(fresh), workers=workers)
    return races, store, seen, total


@pytest.mark.parametrize("workers", [1, 2])
def test_a_sweep_stores_each_race_out_of_the_gallery_with_the_bits_of_the_race_alone(tmp_path, workers):
    races, store, seen, total = _swept(tmp_path, workers)
    assert total == len(seen) == len(races) + 1 and all(seen)  # the shared SGD run once
    assert store.gallery() == []
    for race in races:
        docs = store.usable_race(race_key(race))
        assert docs is not None
        alone = [to_document(r) for r in run_all(race, device="cpu")]
        assert [dumps(d) for d in docs] == [dumps(d) for d in alone]


def test_the_sweep_command_takes_races_a_line_and_stores_them(tmp_path):
    races = [race for _, race in knob_sweep.sweep_races(SMALL, "pg_sgd_lr")[0][:3]]
    lines = "\n".join(json.dumps([c.to_dict() for c in race]) for race in races)
    folder = str(tmp_path / "store")
    done = subprocess.run([sys.executable, "-m", "agmcore", "sweep", "--store", folder, "--workers", "2"],
                          input=lines, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    progress = [line for line in done.stderr.splitlines() if line.startswith("[")]
    assert len(progress) == len(knob_sweep.distinct_runs(races)) and progress[-1].startswith(f"[{len(progress)}/")
    store = ResultStore(folder)
    assert all(store.usable_race(race_key(race)) is not None for race in races)


def test_the_strip_plots_each_optimizers_final_measures_at_the_projection_against_the_knob(tmp_path):
    races, store, _, _ = _swept(tmp_path, 1)
    values = [v for v, _ in knob_sweep.sweep_races(SMALL, "pg_adam_beta2")[0][:4]]
    swept = [(v, store.usable_race(race_key(r))) for v, r in zip(values, races)] + [(0.99999, None)]
    points = knob_sweep.strip_points("pg_adam_beta2", swept)
    assert set(points) == {"test loss", "tr(H)", "tr(Diag(H)^½)", "‖w‖₁", "Σ|w|^½"}
    adam = points["test loss"]["Adam"]
    assert [x for x, _ in adam] == [knob_sweep.one_minus_of(v) for v in values]  # 1 − β2; the missing race left out
    first = swept[0][1][0]
    assert adam[0][1] == denoised_last(first, "test_loss")  # at Φ(θ̄), not the last iterate
    figure = knob_sweep.strip_figure("pg_adam_beta2", "adam β2", swept, values[1], {"Adam": "#E69F00"})
    assert len(figure.data) == 2 * 5 and figure.layout.xaxis.type == "log"
    assert [s.x0 for s in figure.layout.shapes] == [knob_sweep.one_minus_of(values[1])] * 5
    assert knob_sweep.one_minus_of(0.9) == 0.1


def test_a_sweep_of_an_expensive_knob_is_predicted_and_the_cheap_one_is_not_refused():
    cheap = [r for _, r in knob_sweep.sweep_races({}, "pg_adam_beta2")[0]]
    (dear, cannot) = knob_sweep.sweep_races({"pg_steps": 10**6}, "pg_dim")
    dear = [r for _, r in dear]
    assert cannot == [2]  # d = 2 cannot hold κ = 5 nonzeros: left out, not a failed sweep
    assert knob_sweep.predicted_seconds(cheap, 2) < knob_sweep.LIMIT_SECONDS < knob_sweep.predicted_seconds(dear, 2)
    mf = [r for _, r in knob_sweep.sweep_races({"pg_task": "matrix-factorization"}, "pg_sgd_lr")[0]]
    assert knob_sweep.predicted_seconds(mf, 2) is None  # the torch path: not predicted
