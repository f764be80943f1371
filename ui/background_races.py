"""Races the Playground computes in the background (a swept knob, a map of two knobs): the
button that starts the missing ones with their predicted time, and the progress while they run.
Both go through the server's background sweeps (service.background_sweeps), each race stored
as its runs finish; a set predicted over knob_sweep.LIMIT_SECONDS is refused, saying what to lower."""
from dataclasses import dataclass
from typing import List

import streamlit as st

from agmcore.presentation.knob_sweep import LIMIT_SECONDS, predicted_seconds
from ui.services import background_sweeps

REFRESH_SECONDS = 1.0


@dataclass(frozen=True)
class Job:
    """One kind of background set: how the page names it and where it keeps what it started."""
    noun: str  # "sweep", "map"
    doing: str  # "Sweeping", "Mapping"
    started: str  # session key: the background sweep this session started
    button: str  # the start button's widget key


def _progress(job: Job, key: str):
    """Runs done while the set computes; at its end the page reruns to draw every race."""
    sweep = background_sweeps().sweep(key)
    if sweep is None or not sweep.active:
        st.rerun()
    st.progress(sweep.done / sweep.total, text=f"{job.doing}: {sweep.done} of {sweep.total} runs · "
                                                f"{sweep.seconds:.0f} s · {background_sweeps().workers} worker processes")


def run_or_offer(job: Job, missing: List, total: int, label: str) -> bool:
    """The progress of this session's set while it runs; else, if races are missing, its error (if
    it failed) and the button that starts them. Returns whether every race is stored and nothing runs."""
    sweeps = background_sweeps()
    running = sweeps.sweep(st.session_state.get(job.started))
    if running is not None and running.active:
        st.fragment(_progress, run_every=REFRESH_SECONDS)(job, running.key)
        return False
    if not missing:
        return True
    if running is not None and running.error:
        st.error(f"The {job.noun} failed after {running.done} of {running.total} runs: {running.error}")
    seconds = predicted_seconds(missing, sweeps.workers)
    if seconds is not None and seconds > LIMIT_SECONDS:
        st.warning(f"This {job.noun} needs about {seconds:,.0f} s of compute, more than the {LIMIT_SECONDS:.0f} s a "
                   f"{job.noun} may take here: lower the steps or d first.")
        return False
    about = "" if seconds is None else f", about {max(1.0, seconds):.0f} s"
    if st.button(f"{label}: {len(missing)} of {total} races to compute{about}", key=job.button, type="primary"):
        st.session_state[job.started] = sweeps.start(races=missing)
        st.rerun()
    return False
