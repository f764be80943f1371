"""Result: a stored race, read-only, with its configuration, permalink and downloads."""
import streamlit as st

from agmcore.engine.config import ConfigError, RunConfig
from agmcore.presentation.figures import X_AXES
from agmcore.presentation.playground import settings_of, url_params
from agmcore.service.jobs import INTERRUPTED
from agmcore.storage.store import DamagedEntry, is_key
from ui import race_view, replay
from ui.services import manager, store

st.title("Result")
key = st.query_params.get("run")
if not key:
    st.info("No run given. Open one from the Gallery, or finish a race in the Playground.")
    st.stop()
if not is_key(key):
    st.error("This link is malformed: a run key is 64 hexadecimal characters.")
    st.stop()
try:
    runs = store().get_race(key)
except DamagedEntry as e:
    st.error(f"{e}. It was not shown; run the race again from the Playground to replace it.")
    st.stop()
if runs is None:
    job = manager().job(key)
    if job is not None and job.active:
        st.info("This race is still running; its result appears here when it finishes.")
    elif job is not None and job.status == INTERRUPTED:
        st.warning(job.notice.replace("Press Run", "Open it in the Playground and press Run"))
        st.page_link("app_pages/playground.py", label="Open in Playground with these settings",
                     icon=":material/sports_score:", query_params=url_params(settings_of(job.configs)))
    else:
        st.error("No stored result has this key: it was never run here, or it was evicted from the store. "
                 "Run it again from the Playground.")
    st.stop()

try:
    configs = [RunConfig.from_dict(r["config"]) for r in runs]
except ConfigError as e:
    st.error(f"This stored result cannot be read by this version: {e}")
    st.stop()
st.caption(f"Key `{key}` · {runs[0]['config']['task']['name']} · statuses: "
           f"{', '.join(sorted({r['status'] for r in runs}))}")
st.page_link("app_pages/playground.py", label="Open in Playground with these settings", icon=":material/sports_score:",
             query_params=url_params(settings_of(configs)))
x = st.radio("x-axis", list(X_AXES), format_func=X_AXES.get,
             horizontal=True, key="rs_x", bind="query-params")
replay.draw(runs, key="result", x=x, projected=True)
race_view.config_view(runs)
race_view.downloads(runs, key=key, x=x)
