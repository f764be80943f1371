"""Drawing a race (live or stored): its figures, its numbers and its downloads."""
from __future__ import annotations

import json
from typing import Dict, List, Sequence

import streamlit as st

from agmcore import figures
from agmcore.exports import figure_bytes, figure_format
from agmcore.results import dumps


def summary_table(runs: Sequence[Dict]) -> List[Dict]:
    rows = []
    for run in runs:
        h = run.get("history") or {}
        last = {k: (v[-1] if v else None) for k, v in h.items() if k != "step" and v and not isinstance(v[-1], list)}
        rows.append({"run": figures.label(run["config"]), "status": run.get("status", ""),
                     "steps": run.get("steps_done", 0), **{k: last.get(k) for k in
                     ("test_loss", "train_loss", "trace_H", "trace_sqrt_diag_H", "l1", "l_half",
                      "effective_rank", "nuclear_norm") if k in last}})
    return rows


def draw(runs: Sequence[Dict], key: str, x: str = "step", projected: bool = False, static: bool = False):
    """All figures of a race. `static` (result pages) keeps Plotly's zoom across reruns."""
    figs = figures.race_figures(runs, x, projected)
    st.dataframe(summary_table(runs), hide_index=True)
    left, right = st.columns(2)
    with left:
        st.plotly_chart(figs["loss"], key=f"{key}_loss", width="stretch")
    with right:
        st.plotly_chart(figs["bias"], key=f"{key}_bias", width="stretch")
    st.plotly_chart(figs["sharpness"], key=f"{key}_sharpness", width="stretch")
    if "sharpness_projected" in figs:
        st.plotly_chart(figs["sharpness_projected"], key=f"{key}_sharpness_proj", width="stretch")
    st.plotly_chart(figs["truth"], key=f"{key}_truth", width="stretch")
    columns = st.columns(min(len(runs), 2))
    for i in range(len(runs)):
        with columns[i % len(columns)]:
            st.plotly_chart(figs[f"weights_{i}"], key=f"{key}_weights_{i}", width="stretch")
    return figs


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
        for name in ("loss", "sharpness", "bias"):
            st.download_button(f"Figure: {name} ({extension.upper()})",
                               data=lambda n=name: figure_bytes(figures.race_figures(runs, x)[n]),
                               file_name=f"{name}-{key[:12]}.{extension}", mime=mime, key=f"{key}_fig_{name}",
                               on_click="ignore")


def config_view(runs: Sequence[Dict]):
    with st.expander("Full configuration"):
        st.code(json.dumps([r["config"] for r in runs], indent=2), language="json")
