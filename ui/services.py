"""One result store and one job manager per server process (st.cache_resource)."""
import atexit

import streamlit as st

from agmcore.jobs import JobManager
from agmcore.store import ResultStore


@st.cache_resource
def store() -> ResultStore:
    return ResultStore()


@st.cache_resource
def manager() -> JobManager:
    jobs = JobManager(store())
    atexit.register(jobs.shutdown)
    return jobs
