"""The paper's experiments drawn: one figure per experiment, a pure function of its cells
(configurations and result documents), as `agmcore reproduce`, `agmcore ship` and the
Experiments page show it."""
from __future__ import annotations

import statistics
from typing import Callable, Dict, List, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from agmcore.analysis.race_claims import wilson_interval
from agmcore.engine.config import OptimizerConfig, RunConfig
from agmcore.experiments import matrix_factorization, sample_complexity, sharpness_race
from agmcore.optimizers.naming import measure_name
from agmcore.presentation.figures import ORACLE_COLORS, TRUTH_COLOR, label, palette_for


def slow_time(config: RunConfig, doc: Dict) -> np.ndarray:
    """η²·t for each logged step (different η line up on it)."""
    return np.asarray(doc["history"]["step"], float) * config.optimizer.lr**2


def after_start(config: RunConfig, doc: Dict, metric: str, time: str = "slow"):
    """(slow time, or the step with time="step", values) of a logged metric without step 0, which a
    log time axis cannot show (and whose values, at the tiny initialisation, would stretch a log
    value axis)."""
    x = slow_time(config, doc) if time == "slow" else np.asarray(doc["history"]["step"], float)
    values = doc["history"][metric]
    keep = x > 0
    return x[keep], [v for v, k in zip(values, keep) if k]


def color_of(optimizer: OptimizerConfig, roster: Sequence[OptimizerConfig]) -> str:
    """The optimizer's colour in an experiment's roster (figures.palette_for: its own colour
    everywhere, a spare one for a second AdamE λ; the first entry's for one not in the roster)."""
    names = [measure_name(o) for o in roster]
    name = measure_name(optimizer)
    return palette_for([o.name for o in roster])[names.index(name) if name in names else 0]


def _grid_n(n) -> str:
    """An n of the grid as text; None (beyond the grid) as "beyond"."""
    return "beyond" if n is None else f"{n:g}"


FLOOR = 1e-6  # a test loss of exactly 0 (an oracle equal to w*) is drawn here on the log axis


def sample_complexity_figure(configs, docs) -> go.Figure:
    """Top: final test loss against n, the median over seeds (line) and every seed (dots) per
    optimizer; dashed, the oracles' median; dotted, the recovery level. Bottom: the fraction of
    seeds recovered at each n."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.06)
    names, table = sample_complexity.legend_names(configs, docs), sample_complexity.by_optimizer_and_n(configs, docs)
    curves = [(names[key], per_n) for key, per_n in table.items()]
    oracles = list(sample_complexity.oracle_test_losses(configs, docs).items())
    colors = palette_for([key.split()[0] for key in names])  # a measure name starts with its optimizer's
    for i, (name, per_n) in enumerate(curves + oracles):
        ns = sorted(per_n)
        oracle = i >= len(curves)
        color = ORACLE_COLORS[(i - len(curves)) % 2] if oracle else colors[i]
        dash = "dash" if oracle else "solid"
        fig.add_trace(go.Scatter(x=ns, y=[max(statistics.median(per_n[n]), FLOOR) for n in ns], name=name,
                                 mode="lines+markers", legendgroup=name, line=dict(color=color, dash=dash)), row=1, col=1)
        rates = sample_complexity.recovery_rate(per_n)
        intervals = [wilson_interval(sum(sample_complexity.recovered(per_n[n])), len(per_n[n])) for n in ns]
        fig.add_trace(go.Scatter(x=ns, y=[rates[n] for n in ns], mode="lines+markers", legendgroup=name,
                                 name=f"{name}, fraction recovered", showlegend=False,
                                 error_y=None if oracle else dict(
                                     type="data", symmetric=False, array=[hi - rates[n] for n, (_, hi) in zip(ns, intervals)],
                                     arrayminus=[rates[n] - lo for n, (lo, _) in zip(ns, intervals)], thickness=1.5),
                                 line=dict(color=color, dash=dash)), row=2, col=1)
        if not oracle:
            fig.add_trace(go.Scatter(x=[n for n in ns for _ in per_n[n]], y=[max(v, FLOOR) for n in ns for v in per_n[n]],
                                     mode="markers", marker=dict(color=color, size=6, opacity=0.45), legendgroup=name,
                                     name=f"{name}, each seed", showlegend=False), row=1, col=1)
    fig.add_hline(y=sample_complexity.RECOVERED, line=dict(color="#aaaaaa", dash="dot"), annotation_text="recovered below",
                  annotation_position="bottom right", row=1, col=1)
    fig.update_yaxes(type="log", title_text=f"final test loss (0 drawn at {FLOOR:g})", row=1, col=1)
    fig.update_yaxes(title_text="seeds recovered", range=[-0.05, 1.05], tickformat=".0%", row=2, col=1)
    fig.update_xaxes(title_text="training samples n", row=2, col=1)
    half = sample_complexity.bootstrap_half_recovery(table)["per_optimizer"]  # at θ̄, the optimizers' rows only
    shown = "; ".join(f"{name} {_grid_n(v['n'])} [{_grid_n(v['low'])}, {_grid_n(v['high'])}]" for name, v in half.items())
    fig.update_layout(title="Final test loss against n (line: median over seeds; dots: each seed; bars: 95 % "
                            f"intervals)<br><sup>half the seeds recover from n = {shown} (90 % bootstrap)</sup>",
                      template="plotly_white", height=580)
    return fig


def sharpness_race_figure(configs, docs) -> go.Figure:
    titles = ("tr(H) at Φ(θ)", "tr(Diag(H)^½) at Φ(θ)", "distance to the min-ℓ1 interpolator",
              "distance to the min-ℓ^½ interpolator", "own measure tr(S·H) at θ", "test loss")
    fig = make_subplots(rows=3, cols=2, subplot_titles=titles, vertical_spacing=0.09)
    metrics = ("trace_H_proj", "trace_sqrt_diag_H_proj", "dist_l1_oracle", "dist_lhalf_oracle",
               "implied_sharpness", "test_loss")
    first = min(c.seed for c in configs)
    for c, d in zip(configs, docs):
        name, color = measure_name(c.optimizer), color_of(c.optimizer, sharpness_race.RACE_OPTIMIZERS)
        for j, metric in enumerate(metrics):
            if metric not in d["history"]:
                continue
            x, y = after_start(c, d, metric)
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines",
                                     line=dict(color=color, width=1), name=label(d["config"], with_seed=False),
                                     legendgroup=name, showlegend=j == 0 and c.seed == first),
                          row=j // 2 + 1, col=j % 2 + 1)
    fig.update_xaxes(type="log")
    fig.update_xaxes(title_text="slow time η²·t", row=3)
    fig.update_yaxes(type="log")
    fig.update_layout(title="Sharpness race (one line per seed)", template="plotly_white", height=1000)
    return fig


def matrix_factorization_figure(configs, docs) -> go.Figure:
    """Test error, effective rank, tr(H), tr(Diag(H)^½) against the step on a log axis, as the
    poster draws them (every seed; one line style per depth), and for SINGULAR_VALUES_OF (SGD and Adam) on the first seed the singular values of W over time
    and at the end against W*'s."""
    titles = ("test error (held-out entries)", "effective rank", "tr(H)", "tr(Diag(H)^½)",
              "singular values of W (SGD and Adam, first seed)", "final singular values (first seed) and W*'s")
    fig = make_subplots(rows=3, cols=2, subplot_titles=titles, vertical_spacing=0.09)
    first, depths = min(c.seed for c in configs), sorted({c.task.depth for c in configs})
    for c, d in zip(configs, docs):
        name = f"{label(d['config'], with_seed=False)}, depth {c.task.depth}"
        line = dict(color=color_of(c.optimizer, matrix_factorization.MF_OPTIMIZERS), width=1, dash=("solid", "dash", "dot")[depths.index(c.task.depth) % 3])
        for j, metric in enumerate(("test_loss", "effective_rank", "trace_H", "trace_sqrt_diag_H")):
            x, y = after_start(c, d, metric, time="step")
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines", line=line, name=name, legendgroup=name,
                                     showlegend=j == 0 and c.seed == first), row=j // 2 + 1, col=j % 2 + 1)
        if c.seed != first or c.optimizer.name not in matrix_factorization.SINGULAR_VALUES_OF:
            continue
        x, rows = after_start(c, d, "singular_values", time="step")
        values = np.asarray([[np.nan if v is None else v for v in row] for row in rows])
        for k in range(values.shape[1]):
            fig.add_trace(go.Scatter(x=x, y=values[:, k], mode="lines", line=line, name=name, legendgroup=name,
                                     showlegend=False), row=3, col=1)
        fig.add_trace(go.Scatter(x=np.arange(1, values.shape[1] + 1), y=values[-1], mode="lines+markers",
                                 line=line, name=name, legendgroup=name, showlegend=False), row=3, col=2)
    truth = np.linalg.svd(np.asarray(docs[0]["W_star"]), compute_uv=False)
    truth = truth[truth > 1e-8 * truth[0]]  # W*'s nonzero singular values (its rank)
    fig.add_trace(go.Scatter(x=np.arange(1, len(truth) + 1), y=truth, mode="markers",
                             name="W* (nonzero singular values)", marker=dict(color=TRUTH_COLOR, symbol="x", size=9)),
                  row=3, col=2)
    for row, col in ((1, 1), (1, 2), (2, 1), (2, 2), (3, 1)):
        fig.update_xaxes(type="log", row=row, col=col)
    fig.update_xaxes(title_text="step t (log)", row=3, col=1)
    fig.update_xaxes(title_text="index of the singular value", row=3, col=2)
    fig.update_yaxes(type="log")
    fig.update_layout(title="Matrix factorization under label noise (one line per seed)", template="plotly_white",
                      height=1000)
    return fig


# every experiment's figure, by its name (experiments.EXPERIMENTS)
EXPERIMENT_FIGURES: Dict[str, Callable[[List[RunConfig], List[Dict]], go.Figure]] = {
    "sample-complexity": sample_complexity_figure,
    "sharpness-race": sharpness_race_figure,
    "adame-lambda": sample_complexity_figure,
    "matrix-factorization": matrix_factorization_figure,
}


def experiment_figure(name: str, configs: List[RunConfig], docs: List[Dict]) -> go.Figure:
    """The figure of experiment `name` over its finished cells."""
    return EXPERIMENT_FIGURES[name](configs, docs)
