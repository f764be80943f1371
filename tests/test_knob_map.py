"""A map of two knobs: its cells (the settings with both knobs moved), the outcome a cell is
coloured by (read at Φ(θ̄)), the 2-scheme line, and a cell's marker naming the cell it opens."""
import math

import pytest

from agmcore.analysis.verdict import denoised_last, still_moving
from agmcore.engine.results import to_document
from agmcore.engine.runner import run_all
from agmcore.experiments.sample_complexity import RECOVERED
from agmcore.presentation import knob_map
from agmcore.presentation.playground import build_race
from agmcore.storage.store import race_key

SMALL = {"pg_steps": 2000, "pg_dim": 30, "pg_samples": 8}


def test_a_map_is_ten_by_ten_around_the_current_values_with_both_knobs_moved():
    cells, cannot = knob_map.map_races(SMALL, "pg_adam_lr", "pg_adam_beta2")
    assert cannot == 0 and len(cells) == knob_map.SIDE ** 2
    xs, ys = sorted({c[0] for c in cells}), sorted({c[1] for c in cells})
    assert 0.1 in xs and 0.9 in ys and len(xs) == len(ys) == knob_map.SIDE
    for vx, vy, race in cells:
        [adam] = [c for c in race if c.optimizer.name == "adam"]
        assert (adam.optimizer.lr, adam.optimizer.beta2) == (vx, vy)
    here = [race for vx, vy, race in cells if (vx, vy) == (0.1, 0.9)]
    assert [race_key(r) for r in here] == [race_key(build_race(SMALL))]


def test_pairs_that_cannot_run_are_counted_not_raised():
    cells, cannot = knob_map.map_races({"pg_sparsity": 20}, "pg_dim", "pg_samples")
    assert cannot > 0 and all(vx >= 20 for vx, _, _ in cells)  # d ≥ κ


@pytest.fixture(scope="module")
def race():
    return [to_document(r) for r in run_all(build_race(SMALL))]


def test_each_outcome_is_read_at_the_projection_of_the_adaptive_run(race):
    adam, sgd = race
    loss = denoised_last(adam, "test_loss")
    assert knob_map.outcome(race, "recovered") == float(loss < RECOVERED)
    assert knob_map.outcome(race, "ratio") == pytest.approx(math.log10(loss / denoised_last(sgd, "test_loss")))
    assert knob_map.outcome(race, "moving") == float(still_moving(adam))
    assert knob_map.outcome(None, "ratio") is None


def test_the_map_outlines_the_current_cell_draws_the_two_scheme_and_names_each_cell(race):
    cells, _ = knob_map.map_races(SMALL, "pg_adam_lr", "pg_adam_beta2")
    found = [(vx, vy, race if (vx, vy) == (0.1, 0.9) else None) for vx, vy, _ in cells]
    fig = knob_map.map_figure("pg_adam_lr", "pg_adam_beta2", ("adam η", "adam β2"), found, "recovered", (0.1, 0.9))
    heat, markers, line = fig.data
    xs, ys = sorted({c[0] for c in cells}), sorted({1 - c[1] for c in cells})
    cx, cy = xs.index(0.1), [round(v, 10) for v in ys].index(0.1)
    assert heat.z[cy][cx] == knob_map.outcome(race, "recovered")
    assert sum(v is not None for row in heat.z for v in row) == 1
    [outline] = fig.layout.shapes
    assert (outline.x0 + 0.5, outline.y0 + 0.5) == (cx, cy)
    for i, (mx, my) in enumerate(zip(markers.x, markers.y)):
        vx, vy, _ = cells[markers.customdata[i]]
        assert (xs[mx], round(ys[my], 10)) == (vx, round(1 - vy, 10))
    # 1 − β2 = 10·η² passes through η = 0.1, β2 = 0.9: the current cell's centre
    assert (cx, pytest.approx(cy)) in list(zip(line.x, line.y))
    assert knob_map.two_scheme_line("pg_adam_lr", "pg_sgd_lr", [0.1]) is None
