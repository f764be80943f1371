"""Figures as pure functions of results (live jobs, stored runs and exports share them).

Every function takes result documents (results.py: stored, exported, or a race in progress as
the job manager builds it). Traces are decimated to at most MAX_POINTS points and sent as
float32 arrays.

Read from across a room (docs/figures.md): each measure is drawn at the denoised iterate Φ(θ̄)
(bold) over the last iterate (faint); one colour per optimizer everywhere, from the Okabe–Ito
palette; the value axis is set by the slow phase (the steps after the first tenth) and is
logarithmic, with labelled magnitudes, only where those values span a decade or more; every
panel names who drives its measure down and who is lower at the end.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, List, Sequence

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from agmcore import DENOISED
from agmcore.analysis.verdict import ahead_at_end, display_name, measures_of, verdict
from agmcore.optimizers.family import REGISTRY
from agmcore.optimizers.naming import legend_label
from agmcore.problems.descriptors import descriptor_of

# Every figure's template, as plotly's default: a figure then starts from it (0.4 ms) instead of
# validating plotly's own default and then this one (11 ms a figure; ~70 ms of a race's frame).
TEMPLATE = "plotly_white"
pio.templates.default = TEMPLATE
MAX_POINTS = 1000  # points a trace sends to the browser at most (a live view is redrawn every 2 s)
# one colour per optimizer, from its descriptor (optimizers/family.py)
OPTIMIZER_COLORS = {name: member.color for name, member in REGISTRY.items()}
COLORS = tuple(OPTIMIZER_COLORS.values())
# the markers' colours (the truth, its support, the oracle interpolators): black and greys, which no
# optimizer uses (tests/test_descriptors.py)
TRUTH_COLOR = "#000000"
SUPPORT_COLOR = "#FFFFFF"  # white with a black outline: seen on every Viridis shade
ORACLE_COLORS = ("#555555", "#999999")
MARKER_COLORS = (TRUTH_COLOR, SUPPORT_COLOR) + ORACLE_COLORS
X_AXES = {"step": "step t", "log": "step t (log)", "slow": "slow time η²·t"}  # the x-axes a figure offers
PREVIOUS = "previous setting: "  # the name of a trace of the previous setting's race (drawn dotted)
SLOW_PHASE_FROM = 0.1  # the value axis is fitted to the steps after this fraction of the run
MIN_LINEAR_SPAN = 0.1  # a linear value axis spans at least this fraction of its largest value
MAX_COORDINATES = 200  # "w against w*" bins larger d into at most this many bins


@dataclass(frozen=True)
class Style:
    font: int
    tick: int
    title: int
    line: float
    height: int
    top: int  # margin above the panels: the figure's title and two-line panel titles


NORMAL = Style(font=14, tick=13, title=17, line=2.5, height=380, top=105)
TEACHER = Style(font=20, tick=18, title=24, line=4.0, height=520, top=140)  # a projector (?teacher=1)


def style_for(teacher: bool) -> Style:
    return TEACHER if teacher else NORMAL


def label(config: Dict[str, Any], with_seed: bool = True) -> str:
    """A run's legend label (naming.legend_label), with its seed unless `with_seed` is False."""
    return legend_label(config["optimizer"], config.get("seed") if with_seed else None)


def palette_for(names: Sequence[str]) -> List[str]:
    """One colour per entry of a list of optimizer names: the optimizer's own colour, or (for a
    second entry of the same optimizer, e.g. AdamE at another λ) a palette colour no entry uses."""
    taken = {OPTIMIZER_COLORS.get(n) for n in names}
    spare = [c for c in COLORS if c not in taken]
    seen, out = set(), []
    for name in names:
        color = OPTIMIZER_COLORS.get(name, COLORS[0])
        if name in seen:
            color = spare.pop(0) if spare else color
        seen.add(name)
        out.append(color)
    return out


def run_colors(runs: Sequence[Dict]) -> List[str]:
    """One colour per run of a race (palette_for its optimizers)."""
    return palette_for([r["config"]["optimizer"]["name"] for r in runs])


def previous_colors(previous: Sequence[Dict], runs: Sequence[Dict]) -> List[str]:
    """The colour of each run of the previous setting: that of the current run of its optimizer,
    else its optimizer's own (palette_for)."""
    current = dict(zip((r["config"]["optimizer"]["name"] for r in reversed(runs)), reversed(run_colors(runs))))
    own = run_colors(previous)
    return [current.get(r["config"]["optimizer"]["name"], c) for r, c in zip(previous, own)]


def arrays_of(run: Dict[str, Any]) -> Dict[str, Any]:
    """A document's task arrays (empty before a race in progress has sent them)."""
    return {k: run[k] for k in ("w", "w_denoised", "w_star", "W", "W_denoised", "W_star", "params") if k in run}


# ------------------------------------------------------------------ axes
SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def magnitude(value: float) -> str:
    """A tick label that carries its magnitude: 0.02, 50, 20000, 2×10⁻⁵, 10⁶."""
    if 1e-3 <= value < 1e5:
        return f"{value:.6g}"
    mantissa, exponent = f"{value:.0e}".split("e")
    power = "10" + str(int(exponent)).translate(SUPERSCRIPTS)
    return power if mantissa == "1" else f"{mantissa}×{power}"


def log_ticks(low: float, high: float) -> List[float]:
    """Decades in [low, high]; with 2 and 5 between them where the range spans ≤ 2.5 decades."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    steps = (1, 2, 5) if math.log10(high / low) <= 2.5 else (1,)
    ticks = [m * 10.0**e for e in range(first, last + 1) for m in steps]
    return [t for t in ticks if low <= t * (1 + 1e-9) and t <= high * (1 + 1e-9)]


def value_axis(slow: np.ndarray, everything: np.ndarray, log_allowed: bool = True) -> Dict[str, Any]:
    """y-axis settings fitted to the slow-phase values `slow`: type, range, ticks; plus
    'clipped', the largest value of `everything` above the range (None if nothing is)."""
    slow = slow[np.isfinite(slow)]
    if not len(slow):
        return {"clipped": None}
    low, high = float(slow.min()), float(slow.max())
    if log_allowed and low > 0 and high / low >= 10:
        span = math.log10(high / low)
        pad = 0.06 * span
        bottom, top = math.log10(low) - pad, math.log10(high) + pad
        ticks = log_ticks(10**bottom, 10**top)
        axis = {"type": "log", "range": [bottom, top], "tickvals": ticks, "ticktext": [magnitude(t) for t in ticks]}
        upper = 10**top
    else:  # at least MIN_LINEAR_SPAN of the largest value, so round-off-sized gaps do not fill the panel
        middle, half = (high + low) / 2, max(high - low, MIN_LINEAR_SPAN * max(abs(high), abs(low))) / 2
        low, high = min(low, middle - half), max(high, middle + half)
        pad = 0.08 * (high - low) or 1.0
        bottom, upper = low - pad, high + pad
        if low >= 0 and bottom < 0:
            bottom = 0.0 if low - 0 < 4 * pad else bottom
        axis = {"type": "linear", "range": [bottom, upper], "tickformat": "~g"}
    rest = everything[np.isfinite(everything)]
    above = rest[rest > upper]
    axis["clipped"] = float(above.max()) if len(above) else None
    return axis


# ------------------------------------------------------------------ traces
def _decimate(n: int) -> np.ndarray:
    if n <= MAX_POINTS:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, MAX_POINTS).astype(int))


def _steps(run: Dict[str, Any]) -> np.ndarray:
    return np.asarray(run["history"].get("step", []), dtype=np.float64)


def _x(run: Dict[str, Any], x: str, idx: np.ndarray) -> np.ndarray:
    steps = _steps(run)[idx]
    if x == "slow":
        return (steps * run["config"]["optimizer"]["lr"] ** 2).astype(np.float32)
    if x == "log":  # a log axis cannot show step 0
        return np.where(steps > 0, steps, np.nan).astype(np.float32)
    return steps.astype(np.float32)


def _values(run: Dict[str, Any], name: str) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in (run.get("history") or {}).get(name) or []],
                    dtype=np.float64)


def _slow_phase(run: Dict[str, Any], values: np.ndarray) -> np.ndarray:
    steps = _steps(run)[: len(values)]
    if not len(steps):
        return values
    return values[steps >= SLOW_PHASE_FROM * steps[-1]]


def _primary(run: Dict[str, Any], measure: str) -> str:
    """The history name drawn bold: the measure at Φ(θ̄) when recorded, else at θ_t."""
    return measure + DENOISED if (run.get("history") or {}).get(measure + DENOISED) else measure


def _previous_curves(fig, previous, runs, measure, title, x, style, row, col, positive, slow, everything):
    """Each run of the previous setting at Φ(θ̄), dotted and faint, under the current curves."""
    for run, color in zip(previous, previous_colors(previous, runs)):
        primary = _primary(run, measure)
        values = _values(run, primary)
        if not len(values):
            continue
        if positive:
            values = np.where(values > 0, values, np.nan)
        everything.append(values)
        slow.append(_slow_phase(run, values))
        idx = _decimate(len(values))
        fig.add_trace(go.Scatter(
            x=_x(run, x, idx), y=values[idx].astype(np.float32), mode="lines",
            name=PREVIOUS + label(run["config"]), legendgroup="previous", showlegend=False, opacity=0.45,
            line=dict(color=color, width=max(1.5, style.line * 0.6), dash="dot"),
            hovertemplate=(f"{PREVIOUS}{display_name(run['config'])}<br>{X_AXES[x]} %{{x:,.6~g}}<br>"
                           f"{title}: %{{y:.4g}}<extra></extra>")), row=row, col=col)


def _measure_panel(fig, runs, colors, measure, title, x, style, row, col, legend, positive=True,
                   previous=()) -> Dict[str, Any]:
    """Each run's measure at Φ(θ̄) (bold) over its last-iterate curve (faint), over the previous
    setting's (dotted); returns the axis."""
    slow, everything = [], []
    _previous_curves(fig, previous, runs, measure, title, x, style, row, col, positive, slow, everything)
    for i, run in enumerate(runs):
        primary = _primary(run, measure)
        names = [primary] + ([measure] if primary != measure else [])
        for name in names:
            values = _values(run, name)
            if not len(values):
                continue
            if positive:
                values = np.where(values > 0, values, np.nan)
            if name == primary:  # the faint curves may leave the panel; a bold one's transient is marked
                everything.append(values)
                slow.append(_slow_phase(run, values))
            idx = _decimate(len(values))
            faint = name != primary
            denoised = descriptor_of(run["config"]["task"]).denoised_at
            where = "last iterate θ_t" if faint else (denoised if name.endswith(DENOISED) else "θ_t")
            fig.add_trace(go.Scatter(
                x=_x(run, x, idx), y=values[idx].astype(np.float32), mode="lines",
                name=label(run["config"]) + (" (last iterate)" if faint else ""), legendgroup=str(i),
                showlegend=legend and not faint,
                opacity=0.3 if faint else 1.0, line=dict(color=colors[i], width=1.0 if faint else style.line),
                hovertemplate=(f"{display_name(run['config'])} at {where}<br>{X_AXES[x]} %{{x:,.6~g}}<br>"
                               f"{title}: %{{y:.4g}}<extra></extra>")), row=row, col=col)
    axis = value_axis(np.concatenate(slow) if slow else np.array([]),
                      np.concatenate(everything) if everything else np.array([]), log_allowed=positive)
    clipped = axis.pop("clipped")
    fig.update_yaxes(row=row, col=col, **axis)
    if clipped is not None:
        fig.add_annotation(text=f"▲ earlier values up to {clipped:.3g} (off the scale)", xref="x domain",
                           yref="y domain", x=0.99, y=0.99, xanchor="right", yanchor="top", showarrow=False,
                           bgcolor="rgba(255,255,255,0.85)", font=dict(size=style.tick - 2, color="#444444"),
                           row=row, col=col)
    return axis


def _panel_title(runs, measure, title, driver) -> str:
    """'<b>tr(H)</b> · SGD drives it down' and, on a second line, who is lower at the end."""
    head = f"<b>{title}</b>" + (f" · {driver} drives it down" if driver else "")
    ahead = ahead_at_end(runs, measure)
    return head + (f"<br>{ahead}" if ahead else "")


def _frame(fig, title, x, style, legend=True):
    fig.update_layout(title=dict(text=title, font=dict(size=style.title), y=0.98, yanchor="top"),
                      height=style.height,
                      margin=dict(l=70, r=20, t=style.top, b=60),
                      font=dict(size=style.font), showlegend=legend,
                      legend=dict(orientation="h", y=-0.3, font=dict(size=style.font)),
                      hoverlabel=dict(font_size=style.font))
    fig.update_xaxes(title_text=X_AXES[x], title_font=dict(size=style.font), tickfont=dict(size=style.tick),
                     type="log" if x == "log" else "linear")
    fig.update_yaxes(tickfont=dict(size=style.tick), title_font=dict(size=style.font))
    return fig


def measures_figure(runs: Sequence[Dict], measures: Sequence[str], title: str, x: str = "step",
                    teacher: bool = False, legend: bool = True, previous: Sequence[Dict] = ()) -> go.Figure:
    """One panel per measure, each titled with who drives it down and who is lower at the end;
    `previous`: the race of the previous setting, drawn dotted under it."""
    style = style_for(teacher)
    known = measures_of(runs)
    titles = [_panel_title(runs, m, *known.get(m, (m, None))) for m in measures]
    fig = make_subplots(rows=1, cols=len(measures), subplot_titles=titles, horizontal_spacing=0.09)
    colors = run_colors(runs)
    for k, measure in enumerate(measures):
        _measure_panel(fig, runs, colors, measure, known.get(measure, (measure,))[0], x, style, 1, k + 1,
                       legend and k == 0, positive=measure != "effective_rank", previous=previous)
    for annotation in fig.layout.annotations[: len(measures)]:
        annotation.font = dict(size=style.font)
    return _frame(fig, title, x, style, legend)


def loss_figure(runs: Sequence[Dict], x: str = "step", teacher: bool = False, legend: bool = True,
                previous: Sequence[Dict] = ()) -> go.Figure:
    """Test loss at Φ(θ̄) (bold) and at the last iterate (faint)."""
    title = descriptor_of(runs[0]["config"]["task"]).loss_title
    return measures_figure(runs, ["test_loss"], title, x, teacher, legend, previous)


def sharpness_figure(runs: Sequence[Dict], x: str = "step", projected: bool = False, teacher: bool = False,
                     legend: bool = True, previous: Sequence[Dict] = ()) -> go.Figure:
    """tr(H) (SGD's measure) beside tr(Diag(H)^½) (Adam's). `projected`: at Φ(θ_t) instead."""
    if not projected:
        return measures_figure(runs, ["trace_H", "trace_sqrt_diag_H"], "Sharpness at the denoised iterate",
                               x, teacher, legend, previous)
    style = style_for(teacher)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("tr(H) at Φ(θ_t)", "tr(Diag(H)^½) at Φ(θ_t)"))
    colors = run_colors(runs)
    for k, measure in enumerate(("trace_H", "trace_sqrt_diag_H")):
        for i, run in enumerate(runs):
            values = _values(run, f"{measure}_proj")
            idx = _decimate(len(values))
            fig.add_trace(go.Scatter(x=_x(run, x, idx), y=values[idx].astype(np.float32), mode="lines",
                                     name=label(run["config"]), showlegend=legend and k == 0,
                                     line=dict(color=colors[i], width=style.line)), row=1, col=k + 1)
        slow = [_slow_phase(r, _values(r, f"{measure}_proj")) for r in runs]
        axis = value_axis(np.concatenate(slow), np.concatenate([_values(r, f"{measure}_proj") for r in runs]))
        axis.pop("clipped")
        fig.update_yaxes(row=1, col=k + 1, **axis)
    return _frame(fig, "Sharpness at the projection of the last iterate", x, style, legend)


def norms_figure(runs: Sequence[Dict], x: str = "step", teacher: bool = False, legend: bool = True,
                 previous: Sequence[Dict] = ()) -> go.Figure:
    """Diagonal network: ‖w‖₁ and Σ|w|^½. Matrix factorization: nuclear norm and effective rank."""
    names = list(descriptor_of(runs[0]["config"]["task"]).bias_measures)
    return measures_figure(runs, names, "Implicit bias at the denoised iterate", x, teacher, legend, previous)


def verdict_figure(runs: Sequence[Dict], teacher: bool = False, legend: bool = True,
                   previous: Sequence[Dict] = ()) -> go.Figure:
    """Each run's value at Φ(θ̄) over the baseline's (SGD's), per measure, as dots beside a line
    at 1 (a log axis where the ratios span a decade); a run still moving is an open dot; the
    previous setting's ratios are faint open diamonds."""
    style = style_for(teacher)
    result = verdict(runs)
    known = measures_of(runs)
    colors = run_colors(runs)
    fig = go.Figure()
    titles = [known[m][0] for m in result.ratios]
    earlier = verdict(previous) if previous else None
    shown_earlier = []
    for i, (run, color) in enumerate(zip(previous, previous_colors(previous, runs))):
        ratios = [earlier.ratios.get(m, [None] * len(previous))[i] for m in result.ratios]
        shown_earlier += [r for r in ratios if r]
        fig.add_trace(go.Scatter(x=titles, y=[np.nan if r is None else r for r in ratios], mode="markers",
                                 name=PREVIOUS + display_name(run["config"]), showlegend=False, opacity=0.5,
                                 marker=dict(color="white", size=8 + style.font // 2, symbol="diamond",
                                             line=dict(color=color, width=2)),
                                 hovertemplate=f"{PREVIOUS}{display_name(run['config'])}: %{{y:.3g}}<extra></extra>"))
    for i, run in enumerate(runs):
        ratios = [result.ratios[m][i] for m in result.ratios]
        moving = result.moving[i]
        fig.add_trace(go.Scatter(x=titles, y=[np.nan if r is None else r for r in ratios], mode="markers",
                                 name=display_name(run["config"]) + (" (still moving)" if moving else ""),
                                 marker=dict(color="white" if moving else colors[i], size=10 + style.font // 2,
                                             symbol="circle", line=dict(color=colors[i], width=3)),
                                 hovertemplate=f"{display_name(run['config'])}: %{{y:.3g}} × "
                                               f"{display_name(runs[result.baseline]['config'])}'s %{{x}}"
                                               "<extra></extra>"))
    fig.add_hline(y=1.0, line=dict(color="#333333", width=2, dash="dash"))
    positive = [r for values in result.ratios.values() for r in values if r] + shown_earlier
    if positive and max(positive) / min(positive) >= 10:
        ticks = log_ticks(min(positive) / 1.3, max(positive) * 1.3)
        fig.update_yaxes(type="log", tickvals=ticks, ticktext=[magnitude(t) for t in ticks])
    base = display_name(runs[result.baseline]["config"])
    fig.update_yaxes(title_text=f"value ÷ {base}'s (below 1: lower)")
    fig.update_layout(scattermode="group")
    _frame(fig, f"Verdict: each measure ÷ {base}'s", "step", style, legend)
    fig.update_xaxes(title_text="")
    return fig


def weights_heatmap(run: Dict[str, Any], x: str = "step", teacher: bool = False) -> go.Figure:
    """|w_j| at Φ(θ̄) over time (binned max for d > 100), true support marked; MF: singular values."""
    history, config = run["history"], run["config"]
    style = style_for(teacher)
    if descriptor_of(config["task"]).profile == "singular values":
        return singular_values_figure(run, x, teacher)
    profile = history.get("weight_profile" + DENOISED) or history.get("weight_profile") or []
    idx = _decimate(len(profile))
    z = np.asarray([profile[i] for i in idx], dtype=np.float32).T if len(profile) else np.zeros((1, 1), np.float32)
    size = -(-config["task"]["dim"] // z.shape[0])
    w_star = arrays_of(run).get("w_star") or []
    support = sorted({j // size for j, v in enumerate(w_star) if v})
    xs = _x(run, x, idx)
    fig = go.Figure(go.Heatmap(x=xs, z=z, colorscale="Viridis", colorbar=dict(title="|w|"),
                               hovertemplate=f"{X_AXES[x]} %{{x:,.6~g}}<br>bin %{{y}}<br>|w| %{{z:.3g}}<extra></extra>"))
    if support:
        fig.add_trace(go.Scatter(x=np.full(len(support), float(xs[0]) if len(xs) else 0.0, np.float32),
                                 y=np.asarray(support, np.float32), mode="markers", name="true support",
                                 marker=dict(symbol="triangle-right", size=8 + style.font // 2, color=SUPPORT_COLOR,
                                             line=dict(color=TRUTH_COLOR, width=1.5)),
                                 hovertemplate="true support: bin %{y}<extra></extra>"))
    unit = "coordinate" if size == 1 else f"bin of {size} coordinates (max |w|)"
    fig.update_yaxes(title_text=unit)
    where = " at Φ(θ̄)" if history.get("weight_profile" + DENOISED) else ""
    return _frame(fig, f"Weights{where} over time: {display_name(config)}", x, style, legend=False)


def singular_values_figure(run: Dict[str, Any], x: str = "step", teacher: bool = False) -> go.Figure:
    style = style_for(teacher)
    history = run["history"]
    values = history.get("singular_values" + DENOISED) or history.get("singular_values") or []
    idx = _decimate(len(values))
    fig = go.Figure()
    if values:
        sv = np.asarray([values[i] for i in idx], dtype=np.float64)
        for k in range(sv.shape[1]):
            fig.add_trace(go.Scatter(x=_x(run, x, idx), y=np.where(sv[:, k] > 0, sv[:, k], np.nan).astype(np.float32),
                                     mode="lines", name=f"σ{k + 1}", line=dict(width=style.line)))
        positive = sv[sv > 0]
        if len(positive):
            ticks = log_ticks(positive.min(), positive.max())
            fig.update_yaxes(type="log", tickvals=ticks, ticktext=[magnitude(t) for t in ticks])
    fig.update_yaxes(title_text="singular value of W at θ̄")
    return _frame(fig, f"Singular values over time: {display_name(run['config'])}", x, style)


def _binned(values: np.ndarray, size: int) -> np.ndarray:
    """The signed value of largest magnitude in each bin of `size` consecutive entries."""
    pad = (-len(values)) % size
    blocks = np.concatenate([values, np.zeros(pad)]).reshape(-1, size)
    return blocks[np.arange(len(blocks)), np.abs(blocks).argmax(1)]


def weights_vs_truth(runs: Sequence[Dict], teacher: bool = False, legend: bool = True,
                     previous: Sequence[Dict] = ()) -> go.Figure:
    """w at Φ(θ̄) against w* (diagonal network; binned above MAX_COORDINATES coordinates, each bin
    showing its largest |w|), or singular values of W against W*'s; `previous` (the previous
    setting's race) faint under them, where its task has the same shape."""
    style = style_for(teacher)
    fig = go.Figure()
    diag = descriptor_of(runs[0]["config"]["task"]).profile == "weights"
    colors = run_colors(runs)
    dim = runs[0]["config"]["task"].get("dim", 0)
    size = max(1, -(-dim // MAX_COORDINATES)) if diag else 1
    coordinates = np.arange(0, dim, size, dtype=np.float32) if diag else None
    same_shape = [r for r in previous if r["config"]["task"] == runs[0]["config"]["task"]
                  or (diag and r["config"]["task"].get("dim") == dim)]
    for run, color in zip(same_shape, previous_colors(same_shape, runs)):
        arrays = arrays_of(run)
        if diag and (arrays.get("w" + DENOISED) or arrays.get("w")):
            w = np.asarray([np.nan if v is None else v for v in arrays.get("w" + DENOISED) or arrays["w"]], np.float64)
            fig.add_trace(go.Scatter(x=coordinates, y=_binned(np.nan_to_num(w), size).astype(np.float32),
                                     mode="markers", name=PREVIOUS + display_name(run["config"]), showlegend=False,
                                     marker=dict(size=4 + style.font // 3, color="white", opacity=0.6, symbol="circle",
                                                 line=dict(color=color, width=1.5)),
                                     hovertemplate=f"{PREVIOUS}{display_name(run['config'])}: w_%{{x}} = %{{y:.3g}}"
                                                   "<extra></extra>"))
    for i, run in enumerate(runs):
        arrays = arrays_of(run)
        if diag and (arrays.get("w" + DENOISED) or arrays.get("w")):
            w = np.asarray([np.nan if v is None else v for v in arrays.get("w" + DENOISED) or arrays["w"]], np.float64)
            fig.add_trace(go.Scatter(x=coordinates, y=_binned(np.nan_to_num(w), size).astype(np.float32),
                                     mode="markers", name=display_name(run["config"]),
                                     marker=dict(size=5 + style.font // 3, color=colors[i], opacity=0.85),
                                     hovertemplate=f"{display_name(run['config'])}: w_%{{x}} = %{{y:.3g}}<extra></extra>"))
        elif not diag and (arrays.get("W" + DENOISED) or arrays.get("W")):
            sv = np.linalg.svd(np.asarray(arrays.get("W" + DENOISED) or arrays["W"], np.float64), compute_uv=False)
            fig.add_trace(go.Scatter(y=sv.astype(np.float32), mode="lines+markers", name=display_name(run["config"]),
                                     line=dict(color=colors[i], width=style.line)))
    truth = arrays_of(runs[0]).get("w_star" if diag else "W_star")
    if truth:
        if diag:
            y = _binned(np.asarray(truth, np.float64), size)
            support = y != 0
            fig.add_trace(go.Scatter(x=coordinates[support], y=y[support].astype(np.float32), mode="markers",
                                     name="truth w* (its support)",
                                     marker=dict(symbol="x-thin-open", size=10 + style.font // 2, color=TRUTH_COLOR,
                                                 line=dict(width=2.5))))
        else:
            sv = np.linalg.svd(np.asarray(truth, np.float64), compute_uv=False).astype(np.float32)
            fig.add_trace(go.Scatter(y=sv, mode="lines", name="truth", line=dict(color=TRUTH_COLOR, dash="dot")))
    unit = ("coordinate j" if size == 1 else f"coordinate j (bins of {size}: the largest |w| in each)") if diag \
        else "index k"
    fig.update_yaxes(title_text="w_j at Φ(θ̄)" if diag else "σ_k")
    title = "w at the denoised iterate against the truth w*" if diag else "Singular values of W against W*"
    _frame(fig, title, "step", style, legend)
    fig.update_xaxes(title_text=unit)
    return fig


def race_figure_names(runs: Sequence[Dict], projected: bool = False) -> List[str]:
    """The names of a race's figures, in the order a page draws them."""
    names = ["sharpness", "bias", "loss", "verdict"]
    if projected and any("trace_H_proj" in r.get("history", {}) for r in runs):
        names.append("sharpness_projected")
    return names + ["truth"] + [f"weights_{i}" for i in range(len(runs))]


def race_figure(name: str, runs: Sequence[Dict], x: str = "step", teacher: bool = False, legend: bool = True,
                previous: Sequence[Dict] = ()) -> go.Figure:
    """One figure of a race by its name (race_figure_names). `previous`: the race of the setting
    before this one, drawn faintly in each panel that compares values (the Playground's before and
    after; only a race of the same task); the weight heatmaps show this race alone."""
    previous = previous if previous and previous[0]["config"]["task"]["name"] == runs[0]["config"]["task"]["name"] \
        else ()
    if name.startswith("weights_"):
        return weights_heatmap(runs[int(name.split("_")[1])], x, teacher)
    builders = {"loss": lambda: loss_figure(runs, x, teacher, legend, previous),
                "sharpness": lambda: sharpness_figure(runs, x, False, teacher, legend, previous),
                "sharpness_projected": lambda: sharpness_figure(runs, x, True, teacher, legend),
                "bias": lambda: norms_figure(runs, x, teacher, legend, previous),
                "verdict": lambda: verdict_figure(runs, teacher, legend, previous),
                "truth": lambda: weights_vs_truth(runs, teacher, legend, previous)}
    return builders[name]()


def race_figures(runs: Sequence[Dict], x: str = "step", projected: bool = False, teacher: bool = False,
                 legend: bool = True, previous: Sequence[Dict] = ()) -> Dict[str, go.Figure]:
    """Every figure of a race, by name (the result page and exports; race_figure). `legend` False
    leaves legends to the page (one legend for the whole group)."""
    return {name: race_figure(name, runs, x, teacher, legend, previous) for name in race_figure_names(runs, projected)}


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


def legend_items(runs: Sequence[Dict]) -> List[tuple]:
    """(colour, label) per run: the one legend a page draws above a group of figures."""
    return list(zip(run_colors(runs), [label(r["config"]) for r in runs]))
