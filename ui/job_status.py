"""A queued or running job's status line: queue position, or progress with steps/s and time left."""
import time
from typing import Optional

import streamlit as st

from agmcore.jobs import Job, JobManager
from agmcore.progress import format_seconds


FIRST_POINT_WAIT = 0.5  # seconds a just-started job is given to report its first logged step


def show(jobs: JobManager, key: str, prefix: str = "") -> Optional[Job]:
    """Draw the status; returns the running job, None while it waits. Reruns the app once it ended.

    A job that has just started is given a moment to log its first step, so the first plot
    appears in the same run as the click instead of one refresh later."""
    job = jobs.job(key)
    deadline = time.monotonic() + FIRST_POINT_WAIT
    while job is not None and job.active and job.step == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
        job = jobs.job(key)
    if job is None or not job.active:
        st.rerun()  # finished or stopped: the page redraws from the store
    if job.notice:
        st.warning(job.notice)
    position = jobs.queue_position(key)
    if position is not None:
        st.info(f"Waiting for a free worker: position {position} in the queue.")
        return None
    rate = job.steps_per_second
    left = (job.total - job.step) / rate if rate > 0 else None
    st.progress(min(job.step / job.total, 1.0) if job.total else 0.0,
                text=f"{prefix}step {job.step:,} of {job.total:,} · {rate:,.0f} steps/s · "
                     f"{format_seconds(left) + ' left' if left is not None else 'starting…'}")
    return job
