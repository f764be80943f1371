"""Figures are pure functions of results; exports and the Playground's URL settings."""
import pytest

from agmcore.engine.config import ConfigError, MatrixFactorizationTask, OptimizerConfig, RunConfig
from agmcore.engine.results import to_document
from agmcore.engine.runner import run_all
from agmcore.presentation import figures
from agmcore.presentation.exports import figure_bytes, figure_format
from agmcore.presentation.playground import DEFAULTS, build_race, query_string, settings_of, url_params


@pytest.fixture(scope="module")
def diag_docs():
    configs = build_race({"pg_steps": 6000, "pg_dim": 250, "pg_samples": 15, "pg_proj": True})
    return [to_document(r) for r in run_all(configs)]


def test_race_figures(diag_docs):
    figs = figures.race_figures(diag_docs, x="slow", projected=True)
    assert set(figs) == {"loss", "sharpness", "sharpness_projected", "bias", "verdict", "truth", "weights_0",
                         "weights_1"}
    loss = figs["loss"]
    assert len(loss.data) == 4  # at Φ(θ̄) and at the last iterate, per optimizer
    lr = diag_docs[0]["config"]["optimizer"]["lr"]
    assert loss.data[0].x[-1] == pytest.approx(6000 * lr**2, rel=1e-6)  # slow time η²·t
    titles = [a.text for a in figs["sharpness"].layout.annotations if a.text.startswith("<b>")]
    assert titles[0].startswith("<b>tr(H)</b> · SGD drives it down<br>lower at the end: ")
    assert titles[1].startswith("<b>tr(Diag(H)^½)</b> · Adam drives it down<br>lower at the end: ")
    heat = figs["weights_0"]
    assert heat.data[0].z.shape == (84, 401)  # 250 coordinates in ⌈250/3⌉ bins of 3, every logged step
    support = [j // 3 for j, v in enumerate(diag_docs[0]["w_star"]) if v]
    assert sorted(heat.data[1].y.tolist()) == sorted(set(support))
    assert heat.layout.title.text.startswith("Weights at Φ(θ̄) over time")


def test_figures_decimate_long_histories(diag_docs):
    doc = dict(diag_docs[0], history={k: v * 10 for k, v in diag_docs[0]["history"].items()})
    assert len(figures.loss_figure([doc]).data[0].y) <= figures.MAX_POINTS


def test_matrix_factorization_figures():
    task = MatrixFactorizationTask(size=6, rank=1, samples=20)
    docs = [to_document(r) for r in run_all([RunConfig(task=task, optimizer=OptimizerConfig(name="sgd", lr=0.1),
                                                       steps=200, log_every=50)])]
    figs = figures.race_figures(docs)
    assert figs["bias"].layout.annotations[1].text.startswith("<b>effective rank</b>")
    assert len(figs["truth"].data) == 2 and len(figs["weights_0"].data) == 5
    assert "at θ̄" in figs["loss"].data[0].hovertemplate  # no exact Φ for a factorization


def test_history_csv(diag_docs):
    rows = figures.history_csv(diag_docs).strip().splitlines()
    assert rows[0].startswith("run,optimizer,lr,beta2,seed,key,step,train_loss")
    assert len(rows) == 1 + 2 * 401
    assert "weight_profile" not in rows[0]


@pytest.mark.slow  # kaleido starts Chromium
def test_figure_export(diag_docs):
    data = figure_bytes(figures.loss_figure(diag_docs))
    if figure_format()[0] == "png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert b"<html" in data[:200].lower()


def test_playground_settings_round_trip():
    configs = build_race({"pg_opts": ["adame", "shampoo", "sgd"], "pg_adame_lam": 0.75, "pg_shampoo_2scheme": True,
                          "pg_task": "matrix-factorization", "pg_dim": 8, "pg_samples": 30})
    assert configs[1].optimizer.beta2 == pytest.approx(1 - 10 * 0.05**2)
    assert build_race(settings_of(configs)) == configs
    params = url_params(settings_of(configs))
    assert params["pg_opts"] == ["adame", "shampoo", "sgd"] and "pg_seed" not in params
    assert "pg_opts=adame&pg_opts=shampoo" in query_string(settings_of(configs))


@pytest.mark.parametrize("settings, message", [
    ({"pg_opts": []}, "at least one optimizer"),
    ({"pg_sparsity": 500}, "sparsity"),
    ({"pg_task": "mlp"}, "unknown task"),
    ({"pg_sgd_lr": 0.0}, "lr must be > 0"),
])
def test_playground_bad_settings(settings, message):
    with pytest.raises(ConfigError, match=message):
        build_race({**DEFAULTS, **settings})
