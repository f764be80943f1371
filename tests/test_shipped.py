"""Shipped results (agmcore/service/shipped.py): what `agmcore ship` writes reads back as it was, goes
into a fresh store marked shipped with its key numbers, is ignored when it is not this science's,
and the package's agmcore/assets/ are those of the code beside them."""
import gzip
import json
import os
import re

import pytest


from agmcore import experiments
from agmcore.analysis.verdict import THUMBNAIL_POINTS, denoised_last, verdict
from agmcore.engine.config import DiagNetTask, OptimizerConfig, RunConfig
from agmcore.engine.results import to_document
from agmcore.engine.runner import run_all
from agmcore.experiments.sweeps import collect
from agmcore.presentation.experiment_figures import experiment_figure
from agmcore.presentation.playground import build_race
from agmcore.presentation.presets import PRESETS
from agmcore.service import shipped
from agmcore.storage.store import ResultStore, race_key
from ui.sparkline import HEIGHT, WIDTH, sparkline_svg


@pytest.fixture(scope="module")
def race():
    configs = [RunConfig(task=DiagNetTask(dim=12, samples=6), optimizer=OptimizerConfig(name=n, lr=0.05),
                         steps=2000, log_every=20, seed=3) for n in ("adam", "sgd")]
    return configs, [to_document(r) for r in run_all(configs)]


def test_a_written_race_reads_back_whole_and_installs_marked_shipped(tmp_path, race):
    configs, docs = race
    key = shipped.write_race(str(tmp_path), docs)
    assert key == race_key(configs)
    assert shipped.read_race(str(tmp_path / "races" / f"{key}.json.gz")) == docs
    store = ResultStore(str(tmp_path / "store"))
    assert shipped.install_races(store, str(tmp_path)) == {"installed": 1, "present": 0, "unusable": 0}
    assert store.get_race(key) == docs
    [entry] = store.gallery()
    assert entry["shipped"] is True
    assert entry["test_loss"] == [denoised_last(d, "test_loss") for d in docs]
    assert entry["verdict"] == verdict(docs).sentences and entry["verdict"]
    assert [len(c) for c in entry["curves"]] == [THUMBNAIL_POINTS] * 2  # 101 logged points, thinned
    assert [c[-1] for c in entry["curves"]] == entry["test_loss"]  # the thumbnail ends where the run did
    assert shipped.install_races(store, str(tmp_path)) == {"installed": 0, "present": 1, "unusable": 0}


def test_a_race_computed_here_is_not_marked_shipped(tmp_path, race):
    store = ResultStore(str(tmp_path / "store"))
    store.put_race(*race)
    assert store.gallery()[0]["shipped"] is False


def _write(path, payload: bytes):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(payload)


@pytest.mark.parametrize("why", ["renamed", "other schema", "not gzip", "not a list"])
def test_a_shipped_race_that_is_not_this_science_is_ignored(tmp_path, race, why):
    configs, docs = race
    folder = str(tmp_path / "assets")
    path = os.path.join(folder, "races", f"{race_key(configs)}.json.gz")
    if why == "renamed":
        path = os.path.join(folder, "races", f"{'0' * 64}.json.gz")
        _write(path, gzip.compress(json.dumps(docs).encode()))
    elif why == "other schema":
        _write(path, gzip.compress(json.dumps([{**d, "schema": 3} for d in docs]).encode()))
    elif why == "not gzip":
        _write(path, b"{not gzip")
    else:
        _write(path, gzip.compress(b'{"runs": []}'))
    store = ResultStore(str(tmp_path / "store"))
    assert shipped.install_races(store, folder) == {"installed": 0, "present": 0, "unusable": 1}
    assert store.gallery() == []


def test_a_shipped_experiment_is_shown_only_for_its_own_cells(tmp_path):
    configs = experiments.EXPERIMENTS["sharpness-race"].build("classroom", 2)
    shipped.write_experiment(str(tmp_path), "sharpness-race", 2, configs, {"claim_holds": True, "n": {8: 1}},
                             '{"data": [], "layout": {}}')
    keys = [c.key for c in configs]
    record = shipped.shipped_experiment("sharpness-race", keys, str(tmp_path))
    assert record["summary"] == {"claim_holds": True, "n": {"8": 1}} and record["seeds"] == 2
    assert shipped.shipped_experiment("sharpness-race", keys[:-1], str(tmp_path)) is None
    assert shipped.shipped_experiment("adame-lambda", keys, str(tmp_path)) is None


def test_a_record_at_another_scale_is_its_own_file(tmp_path):
    configs = experiments.EXPERIMENTS["sample-complexity"].build("d2000", 1)
    path = shipped.write_experiment(str(tmp_path), "sample-complexity", 1, configs, {"claim_holds": False},
                                    '{"data": [], "layout": {}}', scale="d2000")
    assert path.endswith(os.path.join("experiments", "sample-complexity.d2000.json"))
    keys = [c.key for c in configs]
    assert shipped.shipped_experiment("sample-complexity", keys, str(tmp_path), scale="d2000")["scale"] == "d2000"
    assert shipped.shipped_experiment("sample-complexity", keys, str(tmp_path)) is None  # not the classroom record


@pytest.mark.slow  # runs agmcore ship's experiments
def test_ship_writes_races_and_experiments_and_drops_races_no_longer_shipped(tmp_path, race, monkeypatch):
    configs, docs = race
    folder = str(tmp_path / "assets")
    _write(os.path.join(folder, "races", f"{'1' * 64}.json.gz"), b"old")
    tiny = dict(dim=12, samples=6, sparsity=2, steps=200, log_every=100)
    monkeypatch.setitem(experiments.SHARPNESS_RACE, "classroom", tiny)
    experiment = experiments.EXPERIMENTS["sharpness-race"]
    written = shipped.ship(folder, [configs], [experiment], collect_cells=lambda cs: [to_document(r) for r in run_all(cs)],
                           run_race=lambda cs: docs,
                           draw=lambda name, cs, ds: experiment_figure(name, cs, ds).to_json())
    assert written == {"races": [race_key(configs)], "experiments": ["sharpness-race"]}
    assert os.listdir(os.path.join(folder, "races")) == [f"{race_key(configs)}.json.gz"]
    cells = [c.key for c in experiment.build("classroom", experiment.seeds)]
    record = shipped.shipped_experiment("sharpness-race", cells, folder)
    assert record["summary"]["claim_parts"].keys() == {"sgd_measures", "adam_measures"}
    assert record["summary"]["claim_fractions"].keys() == {"sgd_measures", "adam_measures", "oracles"}
    assert record["figure"]["data"]


@pytest.mark.shipped
def test_the_repository_ships_the_results_of_this_code():
    """agmcore/assets/ holds each Home preset's race and each experiment at its default seeds, with the
    keys this code gives them: a change to the science fails here until `agmcore ship` is run."""
    for name, settings in PRESETS.items():
        path = os.path.join(shipped.ASSETS, "races", f"{race_key(build_race(settings))}.json.gz")
        assert os.path.exists(path), f"{name}: run `agmcore ship`"
    for name, experiment in experiments.EXPERIMENTS.items():
        for scale in experiment.shipped_scales:
            cells = [c.key for c in experiment.build(scale, experiment.seeds)]
            assert shipped.shipped_experiment(name, cells, scale=scale) is not None, \
                f"{name} at {scale} scale: run `agmcore ship --experiment {name} --scale {scale}`"
    assert len(os.listdir(os.path.join(shipped.ASSETS, "races"))) == len(PRESETS)


def test_a_sparkline_draws_one_line_per_run_inside_its_box():
    svg = sparkline_svg([[1.0, 0.1, 0.01], [1.0, None, 0.5]], ["#E69F00", "#0072B2"], "test loss")
    assert svg.count("<polyline") == 2 and 'stroke="#0072B2"' in svg
    points = [tuple(map(float, p.split(","))) for p in re.findall(r"[\d.]+,[\d.]+", svg)]
    assert len(points) == 5  # the None is skipped
    assert all(0 <= x <= WIDTH and 0 <= y <= HEIGHT for x, y in points)
    assert min(y for _, y in points) < max(y for _, y in points)  # 1.0 at the top, 0.01 at the bottom
    assert sparkline_svg([[None], []], ["#000", "#111"]) == ""


def test_a_shipped_experiment_records_what_it_ran(tmp_path):
    """A reader of assets/ knows the horizon without the code: cells, seeds, steps, logging, tasks."""
    configs = [RunConfig(task=DiagNetTask(dim=12, samples=s), optimizer=OptimizerConfig(name=n, lr=0.05), steps=3000,
                         log_every=30, seed=seed) for s in (6, 8) for n in ("adam", "sgd") for seed in (0, 1)]
    shipped.write_experiment(str(tmp_path), "sharpness-race", 2, configs, {"claim_holds": True}, "{}")
    record = shipped.shipped_experiment("sharpness-race", [c.key for c in configs], str(tmp_path))
    ran = record["ran"]
    assert ran["cells"] == 8 and ran["seeds"] == [0, 1] and ran["steps"] == [3000]
    assert ran["logging"] == ["every 30 steps"]
    assert [t["samples"] for t in ran["tasks"]] == [6, 8] and {o["name"] for o in ran["optimizers"]} == {"adam", "sgd"}
    logged = [RunConfig(task=DiagNetTask(), steps=10**6, log_points=400)]
    assert shipped.what_ran(logged)["logging"] == ["400 log-spaced points"]


def test_shipping_one_experiment_at_one_scale_leaves_the_races_alone(tmp_path, monkeypatch):
    folder = str(tmp_path / "assets")
    _write(os.path.join(folder, "races", f"{'1' * 64}.json.gz"), b"a shipped race")
    monkeypatch.setitem(experiments.SAMPLE_COMPLEXITY, "d2000",
                        dict(dim=12, sparsity=2, samples=(6, 8), steps={"adam": 200, "sgd": 400}, oracles=("sgd",)))
    experiment = experiments.EXPERIMENTS["sample-complexity"]
    written = shipped.ship(folder, [], [experiment], collect_cells=lambda cs: collect(cs, None, "cpu"),
                           run_race=lambda cs: pytest.fail("no race is run"), draw=lambda name, cs, ds: "{}",
                           scale="d2000")
    assert written == {"races": [], "experiments": ["sample-complexity.d2000"]}
    assert os.listdir(os.path.join(folder, "races")) == [f"{'1' * 64}.json.gz"]
    cells = experiment.build("d2000", experiment.seeds)
    assert {(c.optimizer.name, c.steps, c.oracle_metrics) for c in cells} == {("adam", 200, False), ("sgd", 400, True)}
    record = shipped.shipped_experiment("sample-complexity", [c.key for c in cells], folder, scale="d2000")
    assert record["ran"]["steps"] == [200, 400] and record["summary"]["settled"].keys() == {"adam", "sgd"}
