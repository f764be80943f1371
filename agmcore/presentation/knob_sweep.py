"""Sweep one Playground knob: the race at each of its slider's values, and the strip that plots
each optimizer's final measures against the knob (docs/benchmarks.md, "Explore by slider").

A sweep is named by the knob's settings key; its races are the current settings with that knob
set to each value `sweep_values` takes from the slider (playground.SCALES), each a stored race,
so dragging the slider over them opens each one from the store. Measures are read at Φ(θ̄), the
latest logged (docs/denoising.md: the last iterate hides Adam's bias). Pure functions.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from agmcore.analysis.verdict import denoised_last, display_name, measures_of
from agmcore.engine.config import ConfigError, RunConfig, distinct
from agmcore.engine.speed import estimated_seconds
from agmcore.presentation.playground import DEFAULTS, build_race, slider_text, slider_values

MOST_VALUES = 15  # a slider with more values is swept over WINDOW of them, around the current one
WINDOW = 13
LIMIT_SECONDS = 300.0  # predicted compute (all workers) above which a sweep is refused: fewer steps, smaller d
ONE_MINUS = ("beta1", "beta2")  # fields plotted as 1 − value, on a log axis
LOG_KNOBS = ("lr", "pg_dim", "pg_init", "pg_steps")  # plotted on a log axis as they are


def sweep_values(key: str, current) -> list:
    """The values a sweep of `key` takes: its slider's (at most MOST_VALUES), else the WINDOW of
    them nearest the current value's place."""
    values = slider_values(key, current)
    return values if len(values) <= MOST_VALUES else window(values, current, WINDOW)


def window(values: list, current, size: int) -> list:
    """The `size` consecutive values nearest `current`'s place in `values` (all, if fewer)."""
    at = values.index(current)
    start = min(max(0, at - size // 2), len(values) - size)
    return values[max(0, start):max(0, start) + size]


def sweep_races(settings: Dict[str, Any], key: str) -> Tuple[List[Tuple[Any, List[RunConfig]]], List[Any]]:
    """((value, the race at that value) for each value of the sweep of `key` from these settings
    that can run, the values that cannot: d = 2 with κ = 5, say)."""
    current = {**DEFAULTS, **settings}[key]
    races, cannot = [], []
    for value in sweep_values(key, current):
        try:
            races.append((value, build_race({**settings, key: value})))
        except (ConfigError, ValueError):
            cannot.append(value)
    return races, cannot


def distinct_runs(races: Sequence[Sequence[RunConfig]]) -> List[RunConfig]:
    """Each run the races hold, once (the other optimizers' runs repeat across a sweep of one's knob)."""
    return distinct(c for race in races for c in race)


def predicted_seconds(races: Sequence[Sequence[RunConfig]], workers: int) -> Optional[float]:
    """The sweep's predicted wall time on `workers` processes (engine.speed), None off the compiled path."""
    each = [estimated_seconds([c]) for c in distinct_runs(races)]
    return None if any(s is None for s in each) else sum(each) / max(1, workers)


def axis_of(key: str) -> Tuple[str, bool]:
    """(the axis type, whether x is 1 − value) of a swept knob: β's as 1 − β on a log axis, the
    knobs explored by magnitude on a log axis, the rest linear."""
    field = key.rsplit("_", 1)[-1]
    if field in ONE_MINUS:
        return "log", True
    return ("log" if field in LOG_KNOBS or key in LOG_KNOBS else "linear"), False


def one_minus_of(value: float) -> float:
    """1 − value, rounded to the digits the slider's values have (1 − 0.9 is 0.1, not 0.09999…)."""
    return float(f"{1 - value:.10g}")


def strip_points(key: str, swept: Sequence[Tuple[Any, Optional[Sequence[Dict]]]]) -> Dict[str, Dict[str, list]]:
    """{measure title: {optimizer: [(x, value at Φ(θ̄))]}} over the stored races of a sweep
    (`swept`: (value, documents or None)); the measures are test loss and the task's verdict ones."""
    _, one_minus = axis_of(key)
    out: Dict[str, Dict[str, list]] = {}
    for value, runs in swept:
        if not runs:
            continue
        titles = {"test_loss": "test loss", **{m: t for m, (t, _) in measures_of(runs).items()}}
        for run in runs:
            for measure, title in titles.items():
                y = denoised_last(run, measure)
                if y is not None:
                    x = one_minus_of(value) if one_minus else value
                    out.setdefault(title, {}).setdefault(display_name(run["config"]), []).append((x, y))
    return out


def strip_base(key: str, label: str, swept: Sequence[Tuple[Any, Optional[Sequence[Dict]]]],
               colors: Dict[str, str], teacher: bool = False) -> Dict[str, Any]:
    """The strip without its mark, as a Plotly figure dict: one small panel per measure, each
    optimizer's final value against the knob (built once per sweep state; `marked` adds the mark)."""
    points = strip_points(key, swept)
    kind, one_minus = axis_of(key)
    title = f"1 − {label}" if one_minus else label
    titles = list(points) or ["no race of this sweep is stored yet"]
    fig = make_subplots(rows=1, cols=len(titles), subplot_titles=titles, horizontal_spacing=0.05)
    shown = set()
    for col, measure in enumerate(titles, start=1):
        for name, xy in points.get(measure, {}).items():
            xy = sorted(xy)
            fig.add_trace(go.Scatter(x=[p[0] for p in xy], y=[p[1] for p in xy], mode="lines+markers", name=name,
                                     legendgroup=name, showlegend=name not in shown,
                                     line=dict(color=colors.get(name), width=3 if teacher else 2)),
                          row=1, col=col)
            shown.add(name)
        fig.update_xaxes(type=kind, title_text=title, exponentformat="power", row=1, col=col)
        fig.update_yaxes(type="log" if _spans_decade(points.get(measure, {})) else "linear", row=1, col=col)
    fig.update_layout(height=360 if teacher else 280, margin=dict(l=40, r=10, t=70, b=50),
                      title=dict(font=dict(size=22 if teacher else 15)),
                      font=dict(size=18 if teacher else 12), legend=dict(orientation="h", y=-0.3))
    out = fig.to_dict()
    out["layout"]["meta"] = {"label": label, "panels": len(titles)}
    return out


def marked(base: Dict[str, Any], key: str, current) -> Dict[str, Any]:
    """The strip with the current value marked in every panel (a dashed vertical line) and named
    in its title; a new dict, `base` untouched (cheap: no Plotly validation, done at every move)."""
    _, one_minus = axis_of(key)
    x = one_minus_of(current) if one_minus else current
    meta = base["layout"]["meta"]
    shapes = [{"type": "line", "xref": "x" if i == 1 else f"x{i}", "yref": ("y" if i == 1 else f"y{i}") + " domain",
               "x0": x, "x1": x, "y0": 0, "y1": 1, "line": {"color": "#000000", "dash": "dash", "width": 1}}
              for i in range(1, meta["panels"] + 1)]
    title = {**base["layout"]["title"],
             "text": f"Final measures at Φ(θ̄) against {meta['label']} (dashed: {slider_text(current)})"}
    return {**base, "layout": {**base["layout"], "shapes": shapes, "title": title}}


def strip_figure(key: str, label: str, swept: Sequence[Tuple[Any, Optional[Sequence[Dict]]]], current,
                 colors: Dict[str, str], teacher: bool = False) -> go.Figure:
    """strip_base marked at `current`, as a Figure."""
    return go.Figure(marked(strip_base(key, label, swept, colors, teacher), key, current))


def _spans_decade(series: Dict[str, list]) -> bool:
    values = [y for xy in series.values() for _, y in xy if y is not None]
    return bool(values) and min(values) > 0 and max(values) >= 10 * min(values)

