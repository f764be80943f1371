"""Drawing a race (live or stored): its figures, its numbers and its downloads."""
from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import plotly.graph_objects as go
import streamlit as st

from agmcore import DENOISED
from agmcore.analysis.comparison import measure_changes
from agmcore.analysis.verdict import denoised_last, last_value, still_moving, verdict
from agmcore.engine.results import dumps
from agmcore.presentation import figures
from agmcore.presentation.doc_links import linked
from agmcore.presentation.exports import figure_bytes, figure_format
from agmcore.problems.descriptors import descriptor_of
from ui.page_frame import teacher_mode

SUMMARY_MEASURES = {"test_loss": "test loss", "trace_H": "tr(H)", "trace_sqrt_diag_H": "tr(Diag(H)^½)", "l1": "‖w‖₁",
                    "l_half": "Σ|w|^½", "nuclear_norm": "nuclear norm", "effective_rank": "effective rank"}


def summary_table(runs: Sequence[Dict]) -> List[Dict]:
    """One row per run: its latest measures at Φ(θ̄), its last-iterate test loss, its slow phase."""
    rows = []
    for run in runs:
        h = run.get("history") or {}
        row = {"run": figures.label(run["config"]), "status": run.get("status", ""), "steps": run.get("steps_done", 0),
               "slow phase": "still moving" if still_moving(run) else "settled"}
        for name, title in SUMMARY_MEASURES.items():
            if h.get(name + DENOISED) or h.get(name):
                row[f"{title} at Φ(θ̄)"] = denoised_last(run, name)
        row["test loss at θ_t"] = last_value(run, "test_loss")
        rows.append(row)
    return rows


def _legend(runs: Sequence[Dict]):
    """The one legend of the figures below it: a coloured line and the run's label each."""
    items = "".join(f'<span style="margin-right:2em;white-space:nowrap"><span style="display:inline-block;width:2.2em;'
                    f'height:0.35em;background:{color};vertical-align:middle;margin-right:0.5em"></span>'
                    f'{html.escape(text)}</span>' for color, text in figures.legend_items(runs))
    st.html(f'<div data-testid="race-legend" style="font-size:1.05em;line-height:2">{items}'
            '<span style="color:#666">· bold: at the denoised iterate Φ(θ̄); faint: the last iterate θ_t</span></div>')


@dataclass(frozen=True)
class Previous:
    """The race of the setting before the current one, which the Playground draws beside it."""
    key: str
    runs: Sequence[Dict]
    changes: Sequence[str]  # playground.setting_changes: 'Adam β2 0.9 → 0.95'


def _before_and_after(previous: Previous, runs: Sequence[Dict]):
    """What changed, and what it did to each optimizer's measures (analysis.comparison)."""
    changed = "; ".join(previous.changes) or "the setting"
    moved = measure_changes(previous.runs, runs)
    st.html('<div data-testid="before-after" style="line-height:1.8">'
            f'<b>Changed:</b> {html.escape(changed)}'
            + (f'<br><b>At Φ(θ̄):</b> {html.escape("; ".join(moved))}' if moved else "")
            + '<br><span style="color:#666">dotted, faint: the previous setting</span></div>')


def _cell(value) -> str:
    if value is None:
        return "–"
    return f"{value:.4g}" if isinstance(value, float) else html.escape(str(value))


def table_html(runs: Sequence[Dict]) -> str:
    """summary_table as one HTML table, each run's name in its colour (figures.run_colors). Plain
    HTML, not a pandas Styler: the Styler's per-session marshalling was a quarter of the server's
    CPU with ten viewers of one live race (docs/benchmarks.md)."""
    rows, colors = summary_table(runs), figures.run_colors(runs)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    # headers and run names wrap at their spaces ("tr(Diag(H)^½) at" / "Φ(θ̄)"), so every column fits a
    # projector's width (?teacher=1 at 1440 px: tests/test_browser.py)
    head = "".join(f'<th style="text-align:left;padding:0.3em 0.6em;vertical-align:bottom">{html.escape(c)}</th>'
                   for c in columns)
    body = "".join(
        "<tr>" + "".join(
            f'<td style="padding:0.3em 0.6em;{f"color:{color};font-weight:600" if c == "run" else "white-space:nowrap;text-align:right"}">'
            f"{_cell(row.get(c))}</td>" for c in columns) + "</tr>"
        for row, color in zip(rows, colors))
    return (f'<div data-testid="race-summary" style="overflow-x:auto"><table style="border-collapse:collapse;'
            f'font-size:0.9em"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>')


def drawn_once(fig: go.Figure, spec: Optional[Dict] = None) -> go.Figure:
    """`fig`, made to hand one dict to every session that draws it: st.plotly_chart calls
    fig.to_dict(), a deep copy of every trace, at each draw (most of a live viewer's refresh,
    docs/benchmarks.md); this one returns the dict made here (or `spec`, a figure dict built
    without Plotly's validation). Read only from here on."""
    frozen = fig.to_dict() if spec is None else spec
    fig.to_dict = lambda: frozen  # plotly lets an instance set a name its class defines
    return fig


def _numbers(runs: Sequence[Dict]) -> tuple:
    """(summary table, verdict sentences) of a race."""
    return table_html(runs), verdict(runs).sentences


@st.cache_resource(max_entries=32, show_spinner=False)
def _shared_numbers(snapshot: tuple, _runs: Sequence[Dict]) -> tuple:
    """_numbers of one snapshot of a race, built once for every session that draws it (`snapshot`
    names it: race key, step, status); Streamlit only reads them."""
    return _numbers(_runs)


@st.cache_resource(max_entries=256, show_spinner=False)
def _shared_figure(snapshot: tuple, name: str, x: str, teacher: bool, previous_key: str, _runs: Sequence[Dict],
                   _previous: Sequence[Dict]) -> go.Figure:
    """One figure of one snapshot of a race (with `previous_key`'s race faint under it, if any),
    built once for every session that draws it."""
    return drawn_once(figures.race_figure(name, _runs, x, teacher, legend=False, previous=_previous))


def draw(runs: Sequence[Dict], key: str, x: str = "step", projected: bool = False, snapshot: tuple = (),
         previous: Optional["Previous"] = None):
    """All figures of a race, under one legend, with the verdict read from its own numbers. A live
    race passes `snapshot` (race key, step, status) so its viewers share one view; `previous`
    (the Playground's setting before this one) is drawn dotted in every panel that compares values.
    Each figure is built as it is drawn, so the first chart reaches the browser before the last is
    built."""
    teacher = teacher_mode()
    earlier = previous.runs if previous is not None else ()
    earlier_key = previous.key if previous is not None else ""

    def figure(name):
        if snapshot:
            return _shared_figure(snapshot, name, x, teacher, earlier_key, runs, earlier)
        return figures.race_figure(name, runs, x, teacher, legend=False, previous=earlier)

    def chart(name):
        st.plotly_chart(figure(name), key=f"{key}_{CHART_KEYS.get(name, name)}", width="stretch")

    table, sentences = _shared_numbers(snapshot, runs) if snapshot else _numbers(runs)
    names = figures.race_figure_names(runs, projected)
    _legend(runs)
    if previous is not None:
        _before_and_after(previous, runs)
    if sentences:
        st.markdown("**Verdict at the denoised iterate:** " + "; ".join(sentences) + ".")
    st.caption(linked(WHY_DENOISED if descriptor_of(runs[0]["config"]["task"]).exact_projection else WHY_AVERAGED))
    st.html(table)
    chart("sharpness")
    chart("bias")
    left, right = st.columns(2)
    with left:
        chart("loss")
    with right:
        chart("verdict")
    if "sharpness_projected" in names:
        chart("sharpness_projected")
    chart("truth")
    columns = st.columns(min(len(runs), 2))
    for i in range(len(runs)):
        with columns[i % len(columns)]:
            chart(f"weights_{i}")


CHART_KEYS = {"sharpness_projected": "sharpness_proj"}  # a chart's widget key where it is not the figure's name


WHY_DENOISED = ("Why two curves per optimizer: Adam keeps every near-zero coordinate moving by about η, so at the "
                "last iterate θ_t (faint) its measures show that fluctuation, not its bias. The bold curves read "
                "each measure at Φ(θ̄), the exact projection onto the minimizers of a running average of the "
                "iterates (docs/denoising.md).")
WHY_AVERAGED = ("Why two curves per optimizer: the label noise keeps the last iterate θ_t (faint) fluctuating around "
                "the minimizers. The bold curves read each measure at θ̄, a running average of the iterates; a "
                "factorization has no exact projection onto the minimizers (docs/denoising.md).")


def downloads(runs: Sequence[Dict], key: str, x: str = "step"):
    """Run data as JSON (the CLI schema) and CSV; figures as PNG (or HTML without a Chrome)."""
    st.subheader("Downloads")
    cols = st.columns(3)
    with cols[0]:
        for i, run in enumerate(runs):
            st.download_button(f"JSON: {figures.label(run['config'])}", data=lambda r=run: dumps(r),  # made when clicked
                               file_name=f"run-{run['key'][:12]}.json", mime="application/json",
                               key=f"{key}_json_{i}", on_click="ignore")
    with cols[1]:
        st.download_button("CSV of the histories", data=lambda: figures.history_csv(runs), file_name=f"race-{key[:12]}.csv",
                           mime="text/csv", key=f"{key}_csv", on_click="ignore")
    extension, mime = figure_format()
    with cols[2]:
        for name in ("sharpness", "bias", "loss", "verdict"):
            st.download_button(f"Figure: {name} ({extension.upper()})",
                               data=lambda n=name: figure_bytes(figures.race_figure(n, runs, x)),
                               file_name=f"{name}-{key[:12]}.{extension}", mime=mime, key=f"{key}_fig_{name}",
                               on_click="ignore")


def config_view(runs: Sequence[Dict]):
    with st.expander("Full configuration"):
        st.code(json.dumps([r["config"] for r in runs], indent=2), language="json")
