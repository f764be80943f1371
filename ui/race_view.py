"""Drawing a race (live or stored): its figures, its numbers and its downloads."""
from __future__ import annotations

import html
import json
from typing import Dict, List, Sequence

import plotly.graph_objects as go
import streamlit as st

from agmcore import DENOISED
from agmcore.analysis.verdict import denoised_last, last_value, still_moving, verdict
from agmcore.engine.results import dumps
from agmcore.presentation import figures
from agmcore.presentation.exports import figure_bytes, figure_format
from agmcore.problems.descriptors import descriptor_of
from ui.frame import teacher_mode

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
    head = "".join(f'<th style="text-align:left;padding:0.3em 0.8em;white-space:nowrap">{html.escape(c)}</th>' for c in columns)
    body = "".join(
        "<tr>" + "".join(
            f'<td style="padding:0.3em 0.8em;white-space:nowrap;{f"color:{color};font-weight:600" if c == "run" else "text-align:right"}">'
            f"{_cell(row.get(c))}</td>" for c in columns) + "</tr>"
        for row, color in zip(rows, colors))
    return (f'<div data-testid="race-summary" style="overflow-x:auto"><table style="border-collapse:collapse;'
            f'font-size:0.9em"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>')


def _view(runs: Sequence[Dict], x: str, projected: bool, teacher: bool) -> tuple:
    """What draw shows of a race, built from its documents: (figures, summary table, verdict sentences)."""
    return (figures.race_figures(runs, x, projected, teacher=teacher, legend=False), table_html(runs),
            verdict(runs).sentences)


def drawn_once(fig: go.Figure) -> go.Figure:
    """`fig`, made to hand one dict to every session that draws it: st.plotly_chart calls
    fig.to_dict(), a deep copy of every trace, at each draw (most of a live viewer's refresh,
    docs/benchmarks.md); this one returns the dict made here. Read only from here on."""
    frozen = fig.to_dict()
    fig.to_dict = lambda: frozen  # plotly lets an instance set a name its class defines
    return fig


@st.cache_resource(max_entries=32, show_spinner=False)
def _shared_view(snapshot: tuple, x: str, projected: bool, teacher: bool, _runs: Sequence[Dict]) -> tuple:
    """_view of one snapshot of a live race, built once for every session that watches it
    (`snapshot` names it: race key, step, status); Streamlit only reads it."""
    figs, table, sentences = _view(_runs, x, projected, teacher)
    return {name: drawn_once(fig) for name, fig in figs.items()}, table, sentences


def draw(runs: Sequence[Dict], key: str, x: str = "step", projected: bool = False, snapshot: tuple = ()):
    """All figures of a race, under one legend, with the verdict read from its own numbers. A live
    race passes `snapshot` (race key, step, status) so its viewers share one view."""
    teacher = teacher_mode()
    figs, table, sentences = (_shared_view(snapshot, x, projected, teacher, runs) if snapshot
                              else _view(runs, x, projected, teacher))
    _legend(runs)
    if sentences:
        st.markdown("**Verdict at the denoised iterate:** " + "; ".join(sentences) + ".")
    st.caption(WHY_DENOISED if descriptor_of(runs[0]["config"]["task"]).exact_projection else WHY_AVERAGED)
    st.html(table)
    st.plotly_chart(figs["sharpness"], key=f"{key}_sharpness", width="stretch")
    st.plotly_chart(figs["bias"], key=f"{key}_bias", width="stretch")
    left, right = st.columns(2)
    with left:
        st.plotly_chart(figs["loss"], key=f"{key}_loss", width="stretch")
    with right:
        st.plotly_chart(figs["verdict"], key=f"{key}_verdict", width="stretch")
    if "sharpness_projected" in figs:
        st.plotly_chart(figs["sharpness_projected"], key=f"{key}_sharpness_proj", width="stretch")
    st.plotly_chart(figs["truth"], key=f"{key}_truth", width="stretch")
    columns = st.columns(min(len(runs), 2))
    for i in range(len(runs)):
        with columns[i % len(columns)]:
            st.plotly_chart(figs[f"weights_{i}"], key=f"{key}_weights_{i}", width="stretch")
    return figs


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
            st.download_button(f"JSON: {figures.label(run['config'])}", data=dumps(run),
                               file_name=f"run-{run['key'][:12]}.json", mime="application/json",
                               key=f"{key}_json_{i}", on_click="ignore")
    with cols[1]:
        st.download_button("CSV of the histories", data=figures.history_csv(runs), file_name=f"race-{key[:12]}.csv",
                           mime="text/csv", key=f"{key}_csv", on_click="ignore")
    extension, mime = figure_format()
    with cols[2]:
        for name in ("sharpness", "bias", "loss", "verdict"):
            st.download_button(f"Figure: {name} ({extension.upper()})",
                               data=lambda n=name: figure_bytes(figures.race_figures(runs, x)[n]),
                               file_name=f"{name}-{key[:12]}.{extension}", mime=mime, key=f"{key}_fig_{name}",
                               on_click="ignore")


def config_view(runs: Sequence[Dict]):
    with st.expander("Full configuration"):
        st.code(json.dumps([r["config"] for r in runs], indent=2), language="json")
