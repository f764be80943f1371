"""Playground: race optimizers on the same data, init and label-noise stream, live."""
import time

import streamlit as st

from agmcore.engine.config import ConfigError
from agmcore.optimizers.family import OPTIMIZER_NAMES, REGISTRY
from agmcore.presentation.playground import BOUNDS, DEFAULTS, TASK_KEYS, TASK_NAMES, build_race, check_url, key_of
from agmcore.problems.descriptors import TASKS
from agmcore.service.jobs import INTERRUPTED, Refused
from agmcore.storage.store import race_key
from ui import job_status, race_view, replay, url
from ui.frame import teacher_mode
from ui.services import manager, session_id, store

REFRESH_SECONDS = 1.0
LIVE_VIEW = "pg_live_view"  # the live race's snapshot this session draws: (race, step, status), its documents, since
BIND = dict(bind="query-params")


def number(label, key, **kwargs):
    low, high = BOUNDS[key]
    return st.number_input(label, value=DEFAULTS[key], key=key, min_value=low, max_value=high, **BIND, **kwargs)


# URL values that are not valid settings are dropped before the widgets read the URL, and named
url_notices = check_url({k: st.query_params.get_all(k) for k in list(st.query_params)})
url.drop_params(url_notices)

# ------------------------------------------------------------------ controls (sidebar)
with st.sidebar:
    st.header("Race")
    task = st.selectbox("Task", TASK_NAMES, key="pg_task", **BIND)
    names = st.multiselect("Optimizers", OPTIMIZER_NAMES, default=DEFAULTS["pg_opts"], key="pg_opts", **BIND)
    for name in names:
        with st.expander(f"{name} settings", expanded=len(names) <= 2):
            number("learning rate η", key_of(name, "lr"), format="%g", step=None)
            knobs = REGISTRY[name].knobs
            if "beta1" in knobs:
                number("β1 (momentum)", key_of(name, "beta1"), format="%g")
            if "beta2" in knobs:
                scheme = st.checkbox("2-scheme: β2 = 1 − 10·η²", value=False, key=key_of(name, "2scheme"), **BIND)
                if not scheme:
                    number("β2", key_of(name, "beta2"), format="%g")
            if "lam" in knobs:
                lam = key_of(name, "lam")
                st.slider("λ (preconditioner power)", *BOUNDS[lam], value=DEFAULTS[lam], step=0.05, key=lam, **BIND)
    st.header("Task")
    described = TASKS[task]
    for field in described.knobs:
        knob = TASK_KEYS[field]
        if isinstance(DEFAULTS[knob], bool):
            st.checkbox(described.knob_labels[field], value=DEFAULTS[knob], key=knob, **BIND,
                        help=described.knob_help.get(field))
        elif isinstance(DEFAULTS[knob], int):
            number(described.knob_labels[field], knob, step=1)
        else:
            number(described.knob_labels[field], knob, format="%g")
    st.header("Run")
    number("steps", "pg_steps", step=1000)
    number("seed", "pg_seed", step=1)
    st.checkbox("bias correction", value=False, key="pg_bc", **BIND)
    st.checkbox("also measure at the projection onto the manifold", value=False, key="pg_proj", **BIND)
    x = st.radio("x-axis", ["step", "slow"], format_func={"step": "step t", "slow": "slow time η²·t"}.get,
                 key="pg_x", horizontal=True, **BIND)

# ------------------------------------------------------------------ guard
st.title("Playground")
for notice in url_notices.values():
    st.warning(notice)
settings = {k: st.session_state[k] for k in DEFAULTS if k in st.session_state}
try:
    configs = build_race(settings)
except (ConfigError, ValueError) as e:
    st.error(f"These settings cannot run: {e}")
    st.stop()
key = race_key(configs)

# ------------------------------------------------------------------ run / stop
jobs = manager()
me = session_id()
current = jobs.job(key)
elsewhere = current is not None and current.active and not jobs.may_stop(key, me)
left, right, pause_column = st.columns([1, 1, 3])
refused = None
if left.button("▶ Run", type="primary", key="pg_run", width="stretch"):
    try:
        jobs.submit(configs, owner=me)
    except Refused as e:
        refused = f"Not started: {e}."
if right.button("■ Stop", key="pg_stop", width="stretch", disabled=elsewhere,
                help="Started elsewhere: only the browser that started this race can stop it" if elsewhere else None):
    jobs.cancel(key, who=me)
if elsewhere:
    st.caption("This race was started in another browser: you see it live, and only that browser can stop it.")
paused = pause_column.toggle("Pause live plots (to zoom)", key="pg_pause", disabled=teacher_mode())
if refused:
    st.warning(refused)


def live(race, interval):
    # counted at every refresh, so the crowd a newcomer's interval is set by includes everyone still watching
    jobs.watching(race, me)
    job = job_status.show(jobs, race, interval=interval)
    if job is not None and job.step > 0:
        snapshot, now = (race, job.step, job.status), time.monotonic()
        held = st.session_state.get(LIVE_VIEW)
        if not job_status.keeps_view(held, snapshot, now, job_status.chart_interval(interval)):
            held = st.session_state[LIVE_VIEW] = (snapshot, _documents_at(*snapshot, job), now)
        race_view.draw(held[1], key="live", x=x, projected=True, snapshot=held[0])


@st.cache_resource(max_entries=32, show_spinner=False)
def _documents_at(race: str, step: int, status: str, _job) -> list:
    """A live race's documents at one step, built once for all its viewers (read only)."""
    return _job.documents()


job = jobs.job(key)
stored = None if job is not None and job.active else store().usable_race(key)  # damaged: run it again
if job is None or not job.active:
    st.session_state.pop(LIVE_VIEW, None)  # nothing live to hold
if job is not None and job.active:
    viewers = jobs.watching(key, me)
    interval = job_status.refresh_interval(viewers, REFRESH_SECONDS)
    st.fragment(live, run_every=None if paused else interval)(key, interval)
    if viewers >= job_status.CROWD:
        st.caption(f"{viewers} browsers are watching this race: it refreshes every {interval:g} s, "
                   f"its charts every {job_status.chart_interval(interval):g} s.")
elif stored is not None:
    st.success("Finished. This race is stored: its permalink reopens it exactly.")
    st.page_link("app_pages/result.py", label="Permalink to this result", icon=":material/link:", query_params={"run": key})
    replay.draw(stored, key="done", x=x, projected=True)
    race_view.downloads(stored, key=key, x=x)
elif job is not None and job.status == INTERRUPTED:
    st.warning(job.notice)
elif job is not None:
    if job.error:
        st.error(f"The run failed: {job.error}")
    else:
        st.warning(f"Stopped at step {job.step:,}. Press Run to start again.")
    if job.step > 0:
        race_view.draw(job.documents(), key="stopped", x=x, projected=True)
else:
    st.info("Press **Run** to start the race. Every optimizer sees the same data, initialisation and "
            "label-noise stream, so the differences you see are the optimizers' doing.")
