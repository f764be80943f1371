"""Playground: race optimizers on the same data, init and label-noise stream, live.

Each knob is a slider on the scale it is explored on (playground.SCALES), bound to the URL; a
moved slider re-runs a race the engine finishes quickly (presentation.auto_run) and the previous
setting's race stays in view, dotted, beside the new one (race_view.Previous)."""
import time

import streamlit as st

from agmcore.engine.config import ConfigError
from agmcore.engine.speed import estimated_seconds
from agmcore.presentation import auto_run
from agmcore.presentation.playground import DEFAULTS, build_race, setting_changes
from agmcore.service.jobs import INTERRUPTED, Refused
from agmcore.storage.store import race_key
from ui import job_status, knob_map_view, knob_sweep_view, playground_controls, race_view, replay
from ui.page_frame import teacher_mode
from ui.services import manager, session_id, stored_race

REFRESH_SECONDS = 1.0
LIVE_VIEW = "pg_live_view"  # the live race's snapshot this session draws: (race, step, status), its documents, since
SEEN = "pg_seen"  # the race the settings named at the last run
SHOWN, PREVIOUS = "pg_shown", "pg_previous"  # (race, settings) of the last finished race drawn; of the one before

url_notices = playground_controls.read_url()  # before any control reads the URL


def session_settings() -> dict:
    """The Playground settings this session's controls hold (the rest are the defaults)."""
    return {k: st.session_state[k] for k in DEFAULTS if k in st.session_state}


def wait_while_moving():
    """A moved slider's race waits DEBOUNCE s for the settings to stand still, here, before any
    control is drawn: a newer value of the same drag (one per key press) stops this run at the
    next element, and as no control of this run was drawn, none is sent back to the browser with
    a value older than the one it now shows (auto_run)."""
    seen = st.session_state.get(SEEN)
    try:
        early = build_race(session_settings())
    except (ConfigError, ValueError):
        early = None
    if early is not None and auto_run.starts_by_itself(seen, race_key(early), False, early) \
            and stored_race(race_key(early)) is None:
        time.sleep(auto_run.DEBOUNCE)
    st.empty()  # that next element (drawn in every run, so what follows keeps its place on the page)


wait_while_moving()

# ------------------------------------------------------------------ controls (sidebar)
x, sliders = playground_controls.draw()

# ------------------------------------------------------------------ guard
st.title("Playground")
for notice in [*url_notices.values(), knob_sweep_view.checked_url(sliders), knob_map_view.checked_url(sliders)]:
    if notice:
        st.warning(notice)
settings = session_settings()
try:
    configs = build_race(settings)
except (ConfigError, ValueError) as e:
    st.error(f"These settings cannot run: {e}")
    st.stop()
key = race_key(configs)
jobs = manager()
me = session_id()
stored = stored_race(key)  # damaged: run it again


# ------------------------------------------------------------------ a moved control
def _note_change():
    """When the settings name another race than at the last run, the last finished race drawn
    becomes the previous setting."""
    seen = st.session_state.get(SEEN)
    st.session_state[SEEN] = key
    shown = st.session_state.get(SHOWN)
    if seen is not None and seen != key and shown is not None and shown[0] != key:
        st.session_state[PREVIOUS] = shown


def _start(owner):
    try:
        jobs.submit(configs, owner=owner)
    except Refused as e:
        return f"Not started: {e}."
    return None


refused = None
automatic = auto_run.starts_by_itself(st.session_state.get(SEEN), key, stored is not None, configs)
_note_change()
if automatic:
    refused = _start(me)

# ------------------------------------------------------------------ run / stop
current_job = jobs.job(key)
elsewhere = current_job is not None and current_job.active and not jobs.may_stop(key, me)
left, right, pause_column = st.columns([1, 1, 3])
if left.button("▶ Run", type="primary", key="pg_run", width="stretch"):
    refused = _start(me)
if right.button("■ Stop", key="pg_stop", width="stretch", disabled=elsewhere,
                help="Started elsewhere: only the browser that started this race can stop it" if elsewhere else None):
    jobs.cancel(key, who=me)
if elsewhere:
    st.caption("This race was started in another browser: you see it live, and only that browser can stop it.")
paused = pause_column.toggle("Pause live plots (to zoom)", key="pg_pause", disabled=teacher_mode())
predicted = estimated_seconds(configs)
if auto_run.runs_by_itself(configs):
    st.caption(f"A moved slider runs this race by itself (the engine needs about {predicted:.1g} s).")
elif predicted is not None:
    st.caption(f"This race needs about {predicted:,.0f} s of compute: it starts when you click ▶ Run.")
else:
    st.caption("This race runs on the torch path, which the speed model does not cover: it starts when you click "
               "▶ Run.")
if refused:
    st.warning(refused)
knob_sweep_view.draw({**DEFAULTS, **settings}, sliders)
knob_map_view.draw({**DEFAULTS, **settings}, sliders)


def previous_view():
    """The previous setting's race (race_view.Previous), while it is stored and not the current one."""
    held = st.session_state.get(PREVIOUS)
    if held is None or held[0] == key:
        return None
    runs = stored_race(held[0])
    return None if runs is None else race_view.Previous(held[0], runs, setting_changes(held[1], settings))


previous = previous_view()
if previous is not None and st.button("Clear the previous setting", key="pg_clear_previous",
                                      help="Stop drawing the previous setting's race beside this one"):
    st.session_state[PREVIOUS] = None
    previous = None


def hold_previous(why: str):
    """Until the new race draws, the previous setting's race stays on screen, named as such: drawn
    as the finished view drew it (the same keys and figures, built once: replay's shared frames),
    so the browser has nothing to redraw."""
    if previous is None:
        return
    st.info(f"{why} Showing the previous setting until it draws: {'; '.join(previous.changes) or 'the same setting'}.")
    replay.draw(previous.runs, key="done", x=x, projected=True)


def live(race, interval):
    # counted at every refresh, so the crowd a newcomer's interval is set by includes everyone still watching
    jobs.watching(race, me)
    job = job_status.show(jobs, race, interval=interval)
    if job is not None and job.step > 0:
        snapshot, now = (race, job.step, job.status), time.monotonic()
        held = st.session_state.get(LIVE_VIEW)
        if not job_status.keeps_view(held, snapshot, now, job_status.chart_interval(interval)):
            held = st.session_state[LIVE_VIEW] = (snapshot, _documents_at(*snapshot, job), now)
        race_view.draw(held[1], key="live", x=x, projected=True, snapshot=held[0], previous=previous)
    else:
        hold_previous("The new race is starting.")


@st.cache_resource(max_entries=32, show_spinner=False)
def _documents_at(race: str, step: int, status: str, _job) -> list:
    """A live race's documents at one step, built once for all its viewers (read only)."""
    return _job.documents()


job = jobs.job(key)
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
    st.session_state[SHOWN] = (key, settings)
    st.success("Finished. This race is stored: its permalink reopens it exactly.")
    st.page_link("app_pages/result.py", label="Permalink to this result", icon=":material/link:", query_params={"run": key})
    replay.draw(stored, key="done", x=x, projected=True, previous=previous)
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
    hold_previous("This setting waits for Run.")
