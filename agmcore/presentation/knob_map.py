"""A map of two Playground knobs: the race at each pair of their slider's values, each cell
coloured by a chosen outcome (docs/benchmarks.md, "Explore by slider").

The seed paper asks how sensitive Adam's bias is to the 2-scheme (β2 tied to η by
1 − β2 = C·η², C = 10 here: family.two_scheme_beta2); the η × 1 − β2 map answers it with that line
drawn. Outcomes are read at Φ(θ̄) (docs/denoising.md): whether the adaptive run recovered w*
(test loss below the sample-complexity experiment's RECOVERED), its test loss ÷ SGD's, and
whether its own measure is still moving. One seed per cell: a map shows where the regimes lie,
not how often a claim holds (the Experiments page does that over seeds). Pure functions.
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Sequence, Tuple

from agmcore.analysis.verdict import MOVING_TOLERANCE, denoised_last, still_moving
from agmcore.engine.config import ConfigError, RunConfig
from agmcore.experiments.sample_complexity import RECOVERED
from agmcore.optimizers.family import BASELINE, REGISTRY, TWO_SCHEME_C
from agmcore.presentation.knob_sweep import axis_of, one_minus_of, sweep_values, window
from agmcore.presentation.playground import DEFAULTS, OPTIMIZER_KEYS, build_race, slider_text

SIDE = 10  # values per knob: a 10 × 10 map
OUTCOMES = {"recovered": f"recovered w* (test loss < {RECOVERED:g})", "ratio": "test loss ÷ SGD's (log₁₀)",
            "moving": "still moving"}
MEANING = {  # what a cell's colour says (map_figure's scales); a blank cell is not computed
    "recovered": f"Green: the adaptive optimizer's test loss at Φ(θ̄) is below {RECOVERED:g} (it recovered w*); "
                 "vermillion: it did not. Blank: not computed. The outlined cell is the current setting.",
    "ratio": "Blue: the adaptive optimizer's test loss at Φ(θ̄) is below SGD's (log₁₀ of the ratio, 0 white); red: "
             "above. Blank: not computed. The outlined cell is the current setting.",
    "moving": f"Purple: the adaptive optimizer's own measure still fell by more than {MOVING_TOLERANCE * 100:g} % over the "
              "last tenth of the run (more steps would move it); grey: settled. Blank: not computed.",
}


def map_values(key: str, current) -> list:
    """The SIDE values of the sweep of `key` (knob_sweep.sweep_values) nearest the current one."""
    return window(sweep_values(key, current), current, SIDE)


def map_races(settings: Dict[str, Any], x: str, y: str, around: Optional[Tuple[Any, Any]] = None
              ) -> Tuple[List[Tuple[Any, Any, List[RunConfig]]], int]:
    """((x value, y value, the race there) for each pair that can run, how many pairs cannot);
    the values are the SIDE of each knob's nearest `around` (the map's anchor: the values it was
    opened at, so a click on a cell moves the knobs, not the map; default the current ones)."""
    s = {**DEFAULTS, **settings}
    ax, ay = around if around is not None else (s[x], s[y])
    cells, cannot = [], 0
    for vy in map_values(y, ay):
        for vx in map_values(x, ax):
            try:
                cells.append((vx, vy, build_race({**settings, x: vx, y: vy})))
            except (ConfigError, ValueError):
                cannot += 1
    return cells, cannot


def _adaptive(runs: Sequence[Dict]) -> Optional[Dict]:
    """The race's first run of a preconditioned optimizer (Adam, AdamE, …), else its first."""
    return next((r for r in runs if REGISTRY[r["config"]["optimizer"]["name"]].preconditioned), runs[0] if runs else None)


def _baseline(runs: Sequence[Dict]) -> Optional[Dict]:
    return next((r for r in runs if r["config"]["optimizer"]["name"] == BASELINE), None)


def outcome(runs: Optional[Sequence[Dict]], kind: str) -> Optional[float]:
    """A cell's colour value: 1/0 recovered or not, log₁₀ of the test-loss ratio, 1/0 still
    moving; None where the race is not stored or the value cannot be read."""
    if not runs:
        return None
    run = _adaptive(runs)
    loss = denoised_last(run, "test_loss")
    if kind == "recovered":
        return None if loss is None else float(loss < RECOVERED)
    if kind == "moving":
        return float(still_moving(run))
    rival = _baseline(runs)
    base = None if rival is None else denoised_last(rival, "test_loss")
    if loss is None or base is None or loss <= 0 or base <= 0:
        return None
    return math.log10(loss / base)


def coordinate(key: str, value) -> float:
    """Where a value sits on its map axis: 1 − β for β1 and β2, the value itself otherwise."""
    return one_minus_of(value) if axis_of(key)[1] else value


def axis_title(key: str, label: str) -> str:
    return f"1 − {label}" if axis_of(key)[1] else label


def two_scheme_line(x: str, y: str, xs: Sequence[float]) -> Optional[Tuple[List[float], List[float]]]:
    """The 2-scheme 1 − β2 = C·η² over the map's η values, when the map is one optimizer's η × β2."""
    if x not in OPTIMIZER_KEYS or y not in OPTIMIZER_KEYS:
        return None
    (ox, fx), (oy, fy) = OPTIMIZER_KEYS[x], OPTIMIZER_KEYS[y]
    if ox != oy or (fx, fy) != ("η", "β2"):
        return None
    return list(xs), [TWO_SCHEME_C * v * v for v in xs]


def cell_text(vx, vy, value: Optional[float], kind: str) -> str:
    shown = "not computed" if value is None else (
        f"{10 ** value:.3g}× SGD's" if kind == "ratio" else ("yes" if value else "no"))
    return f"{slider_text(vx)}, {slider_text(vy)}: {shown}"


def map_figure(x: str, y: str, labels: Tuple[str, str], cells: Sequence[Tuple[Any, Any, Optional[Sequence[Dict]]]],
               kind: str, current: Tuple[Any, Any], teacher: bool = False):
    """The map: one cell per pair of values (x across, y up, equal cells, ticks at the values),
    coloured by `outcome`; the current pair outlined; the 2-scheme line where it applies; a
    marker at each cell's centre to click (its customdata: the cell's index in `cells`)."""
    import numpy as np
    import plotly.graph_objects as go

    xs = sorted({vx for vx, _, _ in cells}, key=lambda v: coordinate(x, v))
    ys = sorted({vy for _, vy, _ in cells}, key=lambda v: coordinate(y, v))
    z = [[None] * len(xs) for _ in ys]
    text = [[""] * len(xs) for _ in ys]
    for vx, vy, runs in cells:
        value = outcome(runs, kind)
        z[ys.index(vy)][xs.index(vx)] = value
        text[ys.index(vy)][xs.index(vx)] = cell_text(vx, vy, value, kind)
    scale = {"recovered": [[0, "#D55E00"], [1, "#009E73"]], "moving": [[0, "#F0F0F0"], [1, "#CC79A7"]],
             "ratio": "RdBu_r"}[kind]  # a negative log ratio (below SGD) blue
    limits = dict(zmin=0, zmax=1) if kind != "ratio" else dict(zmid=0)
    # the heatmap takes no hover or click: the markers above it do, so a click selects a marker
    fig = go.Figure(go.Heatmap(z=z, hoverinfo="skip", colorscale=scale, showscale=kind == "ratio",
                               colorbar=dict(title="log₁₀ ratio"), xgap=2, ygap=2, **limits))
    index = {(vx, vy): i for i, (vx, vy, _) in enumerate(cells)}
    centres = [(xs.index(vx), ys.index(vy), i) for (vx, vy), i in index.items()]
    fig.add_trace(go.Scatter(x=[c[0] for c in centres], y=[c[1] for c in centres], customdata=[c[2] for c in centres],
                             text=[text[c[1]][c[0]] for c in centres], hoverinfo="text", mode="markers",
                             marker=dict(size=28 if teacher else 22, opacity=0.01, color="#000000"),
                             showlegend=False, name="cells"))
    if current[0] in xs and current[1] in ys:
        cx, cy = xs.index(current[0]), ys.index(current[1])
        fig.add_shape(type="rect", x0=cx - 0.5, x1=cx + 0.5, y0=cy - 0.5, y1=cy + 0.5,
                      line=dict(color="#000000", width=3))
    line = two_scheme_line(x, y, xs)
    if line is not None and len(ys) > 1:
        logs = np.log10([coordinate(y, v) for v in ys])
        along = [(i, float(np.interp(np.log10(v), logs, range(len(ys))))) for i, v in enumerate(line[1])
                 if logs[0] <= np.log10(v) <= logs[-1]]
        fig.add_trace(go.Scatter(x=[a[0] for a in along], y=[a[1] for a in along], mode="lines",
                                 line=dict(color="#000000", dash="dot", width=3 if teacher else 2),
                                 name=f"2-scheme: 1 − β2 = {TWO_SCHEME_C:g}·η²", hoverinfo="name"))
    fig.update_xaxes(tickmode="array", tickvals=list(range(len(xs))), ticktext=[slider_text(v) for v in xs],
                     title_text=axis_title(x, labels[0]), range=[-0.5, len(xs) - 0.5])
    fig.update_yaxes(tickmode="array", tickvals=list(range(len(ys))),
                     ticktext=[slider_text(coordinate(y, v)) for v in ys], title_text=axis_title(y, labels[1]),
                     range=[-0.5, len(ys) - 0.5])
    fig.update_layout(height=620 if teacher else 480, margin=dict(l=70, r=20, t=60, b=60),
                      title=dict(text=f"{OUTCOMES[kind]} at Φ(θ̄), one seed a cell · click a cell to open its race",
                                 font=dict(size=22 if teacher else 15)),
                      font=dict(size=18 if teacher else 12), legend=dict(orientation="h", y=-0.18))
    return fig
