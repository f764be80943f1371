"""One result store and one job manager per server process (st.cache_resource); who this
browser session is."""
import atexit
import uuid

import streamlit as st

from agmcore.service.background_sweeps import BackgroundSweeps
from agmcore.service.jobs import JobManager
from agmcore.service.shipped import install_races
from agmcore.storage.store import ResultStore


@st.cache_resource
def store() -> ResultStore:
    """The server's store, with the races shipped in agmcore/assets/ put in it once (agmcore.service.shipped)."""
    opened = ResultStore()
    install_races(opened)
    return opened


@st.cache_resource
def manager() -> JobManager:
    jobs = JobManager(store())
    atexit.register(jobs.shutdown)
    return jobs


@st.cache_resource
def background_sweeps() -> BackgroundSweeps:
    """The Experiments page's and the Playground's sweeps: the CLI's chunked sweep over every core,
    into the server's store."""
    sweeps = BackgroundSweeps(store().folder)
    atexit.register(sweeps.shutdown)
    return sweeps


@st.cache_resource(max_entries=64, show_spinner=False)
def _found_race(race: str):
    """A stored race's documents, read once for every session (read only); a miss raises, which
    st.cache_resource does not keep, so a race stored later is found."""
    runs = store().usable_race(race)
    if runs is None:
        raise LookupError(race)
    return runs


def stored_race(race: str):
    """The race's documents if it is stored (and not damaged), else None."""
    try:
        return _found_race(race)
    except LookupError:
        return None


def session_id() -> str:
    """A random id for this browser session (kept in its session state), which owns the races
    it starts."""
    if "session_id" not in st.session_state:
        st.session_state["session_id"] = uuid.uuid4().hex
    return st.session_state["session_id"]
