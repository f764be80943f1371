"""Figures as pure functions of results (live jobs, stored runs and exports share them).

A "run view" is a dict with "config" (RunConfig.to_dict()), "history", "final" and "arrays"
(or the task arrays at top level, as in a stored result document). Traces are decimated to
at most MAX_POINTS points and sent as float32 arrays.
"""
from __future__ import annotations

from typing import Any, Dict, List, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .tasks.diag_net import profile_bin_size

MAX_POINTS = 2000
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
X_AXES = {"step": "step t", "slow": "slow time η²·t"}


def label(config: Dict[str, Any], with_seed: bool = True) -> str:
    """A short legend label: optimizer and its hyperparameters (and the seed, unless 0)."""
    o = config["optimizer"]
    text = f"{o['name']} η={o['lr']:g}"
    if o["name"] != "sgd":
        text += f" β2={o['beta2']:g}"
    elif o["beta1"]:
        text += f" μ={o['beta1']:g}"
    if o["name"] == "adame":
        text += f" λ={o['lam']:g}"
    if with_seed and config.get("seed"):
        text += f" seed {config['seed']}"
    return text


def arrays_of(run: Dict[str, Any]) -> Dict[str, Any]:
    return run.get("arrays") or {k: run[k] for k in ("w", "w_star", "W", "W_star", "params") if k in run}


def _decimate(n: int) -> np.ndarray:
    if n <= MAX_POINTS:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, MAX_POINTS).astype(int))


def _x(run: Dict[str, Any], x: str, idx: np.ndarray) -> np.ndarray:
    steps = np.asarray(run["history"].get("step", []), dtype=np.float64)[idx]
    if x == "slow":
        return (steps * run["config"]["optimizer"]["lr"] ** 2).astype(np.float32)
    return steps.astype(np.float32)


def _series(run, name, idx, positive=False):
    values = np.array([np.nan if v is None else v for v in run["history"][name]], dtype=np.float64)[idx]
    if positive:  # log axes cannot show values ≤ 0
        values = np.where(values > 0, values, np.nan)
    return values.astype(np.float32)


def _lines(fig, runs, names, x, row=None, col=None, dashes=("solid",), positive=False, legend=True):
    for i, run in enumerate(runs):
        history = run.get("history") or {}
        for name, dash in zip(names, dashes * len(names)):
            if not history.get(name):
                continue
            idx = _decimate(len(history[name]))
            kwargs = dict(row=row, col=col) if row else {}
            fig.add_trace(go.Scatter(x=_x(run, x, idx), y=_series(run, name, idx, positive), mode="lines",
                                     name=label(run["config"]), legendgroup=str(i),
                                     showlegend=legend and name == names[0],
                                     line=dict(color=COLORS[i % len(COLORS)], dash=dash),
                                     hovertemplate=f"{name}: %{{y:.4g}}<extra>{label(run['config'])}</extra>"),
                          **kwargs)


def _frame(fig, title, x, height=340):
    fig.update_layout(title=title, height=height, margin=dict(l=50, r=20, t=60, b=40),
                      legend=dict(orientation="h", y=-0.25), template="plotly_white")
    fig.update_xaxes(title_text=X_AXES[x])
    return fig


def loss_figure(runs: Sequence[Dict], x: str = "step") -> go.Figure:
    """Clean train loss (dashed) and test loss (solid), log scale."""
    fig = go.Figure()
    _lines(fig, runs, ["test_loss", "train_loss"], x, dashes=("solid", "dash"), positive=True)
    fig.update_yaxes(type="log", title_text="loss")
    return _frame(fig, "Test loss (solid) and clean train loss (dashed)", x)


def sharpness_figure(runs: Sequence[Dict], x: str = "step", projected: bool = False) -> go.Figure:
    """tr(H) (SGD's measure) beside tr(Diag(H)^½) (Adam's), per optimizer, and (at θ) each
    optimizer's own measure tr(S·H)."""
    suffix = "_proj" if projected else ""
    own = not projected and any("implied_sharpness" in (r.get("history") or {}) for r in runs)
    titles = ("tr(H): SGD's measure", "tr(Diag(H)^½): Adam's measure") + (("tr(S·H): each one's own",) if own else ())
    fig = make_subplots(rows=1, cols=len(titles), subplot_titles=titles)
    _lines(fig, runs, [f"trace_H{suffix}"], x, row=1, col=1, positive=True)
    _lines(fig, runs, [f"trace_sqrt_diag_H{suffix}"], x, row=1, col=2, positive=True, legend=False)
    if own:  # tr(S·H) with S the optimizer's own stationary preconditioner (sharpness.implied_sharpness)
        _lines(fig, runs, ["implied_sharpness"], x, row=1, col=3, positive=True, legend=False)
    fig.update_yaxes(type="log")
    where = " at the projection onto the manifold" if projected else ""
    return _frame(fig, f"Sharpness{where}", x)


def norms_figure(runs: Sequence[Dict], x: str = "step") -> go.Figure:
    """Diagonal network: ‖w‖₁ and Σ|w|^½. Matrix factorization: nuclear norm and effective rank."""
    diag = runs[0]["config"]["task"]["name"] == "diag-net"
    names = ("l1", "l_half") if diag else ("nuclear_norm", "effective_rank")
    titles = ("‖w‖₁ (SGD's bias)", "Σ|w_j|^½ (Adam's bias)") if diag else ("nuclear norm ‖W‖_*", "effective rank")
    fig = make_subplots(rows=1, cols=2, subplot_titles=titles)
    _lines(fig, runs, [names[0]], x, row=1, col=1)
    _lines(fig, runs, [names[1]], x, row=1, col=2, legend=False)
    return _frame(fig, "Implicit bias", x)


def weights_heatmap(run: Dict[str, Any], x: str = "step") -> go.Figure:
    """|w_j| over time (binned max for d > 100), true support marked; MF: singular values."""
    history, config = run["history"], run["config"]
    if config["task"]["name"] != "diag-net":
        return singular_values_figure(run, x)
    profile = history.get("weight_profile") or []
    idx = _decimate(len(profile))
    z = np.asarray([profile[i] for i in idx], dtype=np.float32).T if len(profile) else np.zeros((1, 1), np.float32)
    size = profile_bin_size(config["task"]["dim"])
    w_star = arrays_of(run).get("w_star") or []
    support = sorted({j // size for j, v in enumerate(w_star) if v})
    fig = go.Figure(go.Heatmap(x=_x(run, x, idx), z=z, colorscale="Viridis", colorbar=dict(title="|w|"),
                               hovertemplate="bin %{y}<br>|w| %{z:.3g}<extra></extra>"))
    if support:
        fig.add_trace(go.Scatter(x=np.zeros(len(support), np.float32) + (float(_x(run, x, idx)[0]) if len(idx) else 0),
                                 y=np.asarray(support, np.float32), mode="markers", name="true support",
                                 marker=dict(symbol="triangle-right", size=10, color="#d62728")))
    unit = "coordinate" if size == 1 else f"bin of {size} coordinates (max |w|)"
    fig.update_yaxes(title_text=unit)
    return _frame(fig, f"Weights over time: {label(config)}", x, height=360)


def singular_values_figure(run: Dict[str, Any], x: str = "step") -> go.Figure:
    values = run["history"].get("singular_values") or []
    idx = _decimate(len(values))
    fig = go.Figure()
    if values:
        sv = np.asarray([values[i] for i in idx], dtype=np.float32)
        for k in range(sv.shape[1]):
            fig.add_trace(go.Scatter(x=_x(run, x, idx), y=np.where(sv[:, k] > 0, sv[:, k], np.nan), mode="lines",
                                     name=f"σ{k + 1}"))
    fig.update_yaxes(type="log", title_text="singular value of W")
    return _frame(fig, f"Singular values over time: {label(run['config'])}", x, height=360)


def weights_vs_truth(runs: Sequence[Dict]) -> go.Figure:
    """Current w against w* (diagonal network) or singular values of W against W*'s."""
    fig = go.Figure()
    diag = runs[0]["config"]["task"]["name"] == "diag-net"
    for i, run in enumerate(runs):
        arrays = arrays_of(run)
        if diag and arrays.get("w"):
            w = np.asarray([np.nan if v is None else v for v in arrays["w"]], np.float32)
            fig.add_trace(go.Scatter(y=w, mode="markers", name=label(run["config"]), marker=dict(size=6),
                                     marker_color=COLORS[i % len(COLORS)]))
        elif not diag and arrays.get("W"):
            sv = np.linalg.svd(np.asarray(arrays["W"], np.float64), compute_uv=False).astype(np.float32)
            fig.add_trace(go.Scatter(y=sv, mode="lines+markers", name=label(run["config"]),
                                     line=dict(color=COLORS[i % len(COLORS)])))
    truth = arrays_of(runs[0]).get("w_star" if diag else "W_star")
    if truth:
        y = np.asarray(truth, np.float32) if diag else np.linalg.svd(np.asarray(truth), compute_uv=False).astype(np.float32)
        fig.add_trace(go.Scatter(y=y, mode="markers" if diag else "lines", name="truth",
                                 marker=dict(symbol="x", size=9, color="black"), line=dict(color="black", dash="dot")))
    fig.update_xaxes(title_text="coordinate j" if diag else "index k")
    fig.update_yaxes(title_text="w_j" if diag else "σ_k")
    title = "Current w against w*" if diag else "Singular values of W against W*"
    fig.update_layout(title=title, height=340, margin=dict(l=50, r=20, t=60, b=40), template="plotly_white",
                      legend=dict(orientation="h", y=-0.25))
    return fig


def race_figures(runs: Sequence[Dict], x: str = "step", projected: bool = False) -> Dict[str, go.Figure]:
    """Every figure of a race, by name (the live view, the result page and exports)."""
    figures = {"loss": loss_figure(runs, x), "sharpness": sharpness_figure(runs, x),
               "bias": norms_figure(runs, x), "truth": weights_vs_truth(runs)}
    if projected and any("trace_H_proj" in r.get("history", {}) for r in runs):
        figures["sharpness_projected"] = sharpness_figure(runs, x, projected=True)
    for i, run in enumerate(runs):
        figures[f"weights_{i}"] = weights_heatmap(run, x)
    return figures


def history_csv(runs: Sequence[Dict]) -> str:
    """The histories of a race as CSV, one row per (run, logged step); vectors are left out."""
    names: List[str] = []
    for run in runs:
        for k, v in run["history"].items():
            if k != "step" and k not in names and v and not isinstance(v[0], list):
                names.append(k)
    lines = ["run,optimizer,lr,beta2,seed,key,step," + ",".join(names)]
    for i, run in enumerate(runs):
        o, h = run["config"]["optimizer"], run["history"]
        for j, step in enumerate(h.get("step", [])):
            cells = [h[k][j] if k in h and j < len(h[k]) and h[k][j] is not None else "" for k in names]
            lines.append(",".join(map(str, [i, o["name"], o["lr"], o["beta2"], run["config"]["seed"],
                                            run.get("key", ""), step, *cells])))
    return "\n".join(lines) + "\n"
