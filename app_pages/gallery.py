"""Gallery: stored races, newest first, filterable, each linked to its result page."""
import datetime
import html

import streamlit as st

from agmcore.family import OPTIMIZER_NAMES
from agmcore.figures import palette_for
from agmcore.playground import TASK_NAMES
from ui.services import store

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
for e in entries:
    when = datetime.datetime.fromtimestamp(e["created"]).strftime("%Y-%m-%d %H:%M")
    size = f"d = {e['size']}" if e["task"] == "diag-net" else f"m = {e['size']}"
    names = " vs ".join(f'<span style="color:{color};font-weight:600">{html.escape(name)}</span>'  # the race's own colours
                        for name, color in zip(e["optimizers"], palette_for(e["optimizers"])))
    st.markdown(f"[{names}](/result?run={e['key']}) · {e['task']}, {size}, n = {e['samples']}, "
                f"{e['steps']:,} steps, seed {', '.join(map(str, e['seeds']))} · {when}", unsafe_allow_html=True)
