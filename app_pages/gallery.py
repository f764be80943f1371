"""Gallery: stored races, newest first, filterable, each linked to its result page."""
import datetime
import html

import streamlit as st

from agmcore.optimizers.family import OPTIMIZER_NAMES
from agmcore.presentation.figures import palette_for
from agmcore.presentation.playground import TASK_NAMES
from agmcore.problems.descriptors import descriptor_of
from ui.services import store
from ui.sparkline import sparkline_svg

st.title("Gallery")
task = st.selectbox("Task", ("any",) + TASK_NAMES, key="gl_task", bind="query-params")
wanted = st.multiselect("Optimizer", OPTIMIZER_NAMES, key="gl_opt", bind="query-params")
stored, damaged = store().gallery_report()
if damaged:
    st.warning(f"{damaged} stored {'entry is' if damaged == 1 else 'entries are'} damaged and not listed.")
entries = [e for e in stored if (task == "any" or e["task"] == task) and all(o in e["optimizers"] for o in wanted)]
if not entries:
    st.info("No stored runs match. Runs appear here when they finish in the Playground.")
    st.stop()
shipped = sum(e.get("shipped", False) for e in entries)
if shipped:
    st.caption(f"{shipped} of these came with the app (marked *shipped*): the Home presets' races, computed by "
               "`agmcore ship` from this version's code. Open one to see every panel.")


def test_loss_text(entry: dict) -> str:
    """'test loss at the denoised iterate: Adam 0.0012 · SGD 0.31' (empty for an entry without numbers)."""
    pairs = [(name, value) for name, value in zip(entry["optimizers"], entry.get("test_loss") or [])
             if value is not None]
    return ("test loss at the denoised iterate: " + " · ".join(f"{name} {value:.3g}" for name, value in pairs)
            if pairs else "")


for e in entries:
    when = datetime.datetime.fromtimestamp(e["created"]).strftime("%Y-%m-%d %H:%M")
    size = f"{descriptor_of(e['task']).size_symbol} = {e['size']}"
    colors = palette_for(e["optimizers"])  # the race's own colours
    names = " vs ".join(f'<span style="color:{color};font-weight:600">{html.escape(name)}</span>'
                        for name, color in zip(e["optimizers"], colors))
    picture, words = st.columns([1, 4], vertical_alignment="center")
    with picture:
        svg = sparkline_svg(e.get("curves") or [], colors, "test loss over the run (log scale)")
        if svg:
            st.markdown(svg, unsafe_allow_html=True)
    with words:
        mark = " · <em>shipped</em>" if e.get("shipped") else f" · {when}"
        st.markdown(f"[{names}](/result?run={e['key']}) · {e['task']}, {size}, n = {e['samples']}, "
                    f"{e['steps']:,} steps, seed {', '.join(map(str, e['seeds']))}{mark}", unsafe_allow_html=True)
        numbers = test_loss_text(e)
        verdict = "; ".join(e.get("verdict") or [])
        if numbers or verdict:
            st.caption(" — ".join(part for part in (numbers, verdict) if part))
