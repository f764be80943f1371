"""A queued or running job's status line: queue position, or progress with steps/s and time left."""
import time
from typing import Optional

import streamlit as st

from agmcore.command.progress import format_seconds
from agmcore.service.jobs import Job, JobManager

FIRST_POINT_WAIT = 0.5  # seconds a just-started job is given to report its first logged step


CROWD = 10  # viewers of one race from which each one's live view refreshes less often


SLOWEST = 4  # times `base`: a crowd slows the refresh no further (audience.WATCH_WINDOW must
# stay well above the slowest refresh, or refreshing viewers would drop out of the count)


def refresh_interval(viewers: int, base: float) -> float:
    """Seconds between a live view's refreshes: `base` for up to CROWD viewers, then growing with
    the crowd (2·base from 10 viewers, 3·base from 20, 4·base from 30 on), so the server's work for
    a race stays about that of CROWD viewers refreshing every `base` seconds."""
    return base * min(viewers // CROWD + 1, SLOWEST)


FRAME_SHARE = 0.9  # of a live view's refresh interval: how old the race's shared copy may grow


def frame_age(interval: float) -> float:
    """How old a live race's shared copy may be before a refresh takes a newer one (JobManager.job's
    max_age): a little less than the refresh interval, so a session sees new progress at each of
    its refreshes (their timing jitters), while every session refreshing within one frame, however
    many and in whatever phase, draws the same snapshot: the figures are built once a frame, not
    once for each step some viewer happened to catch (docs/benchmarks.md, "A classroom")."""
    return FRAME_SHARE * interval


CHART_REFRESHES = 2  # a live view redraws its charts at every second refresh (docs/benchmarks.md,
# "A live view in the browser"); its progress line moves at every one


def chart_interval(interval: float) -> float:
    """Seconds between redraws of a live view's charts, for a view refreshing every `interval` s.
    Streamlit draws a changed figure as a new chart, from scratch: the seven charts of a race cost
    the browser most of a core at one redraw a second, which a student's laptop, or a tab among
    many, cannot spare; the progress line, which costs next to nothing, still moves every refresh."""
    return CHART_REFRESHES * interval


def keeps_view(held: Optional[tuple], snapshot: tuple, now: float, every: float) -> bool:
    """Whether a live view keeps drawing the snapshot it `held` ((race, step, status), its documents,
    when it was first drawn) rather than `snapshot`, the newest (race, step, status): for the same
    race in the same state, until FRAME_SHARE·`every` seconds (the refreshes' jitter) have passed."""
    if held is None:
        return False
    (race, _, status), _, since = held
    return race == snapshot[0] and status == snapshot[2] and now - since < FRAME_SHARE * every


def show(jobs: JobManager, key: str, prefix: str = "", interval: float = 0.0) -> Optional[Job]:
    """Draw the status; returns the running job, None while it waits. Reruns the app once it ended.
    `interval`: the seconds between this live view's refreshes, when it shares frames (frame_age).

    A job that has just started is given a moment to log its first step, so the first plot
    appears in the same run as the click instead of one refresh later."""
    max_age = frame_age(interval)
    job = jobs.job(key, max_age)
    deadline = time.monotonic() + FIRST_POINT_WAIT
    while job is not None and job.active and job.step == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
        job = jobs.job(key)  # no frame yet: the first logged step is shown as soon as it comes
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
