"""Replay of a finished race: play/pause, speed, and a step slider that moves every panel at once.

The figures are drawn from the documents cut at the chosen step (agmcore.analysis.replay); at the last
step they are the finished race. While playing, a fragment advances the step every TICK seconds
and redraws only itself; at the end it stops playing. A frame's figures are cached for all
sessions (a class replaying one race builds each frame once).
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence

import streamlit as st

from agmcore.analysis.replay import logged_steps, up_to
from ui import race_view

TICK = 0.5  # seconds between frames while playing
SPEEDS = {"slow": 2, "normal": 8, "fast": 25}  # logging points per frame (a Playground race logs ≈ 400)


def draw(runs: Sequence[Dict], key: str, x: str = "step", projected: bool = False,
         previous: Optional[race_view.Previous] = None):
    """The race's figures with replay controls above them (`previous`: race_view.draw)."""
    steps = logged_steps(runs)
    step_key, playing_key, ended_key = f"{key}_replay_step", f"{key}_replay_playing", f"{key}_replay_ended"
    if st.session_state.pop(ended_key, False):
        st.session_state[playing_key] = False  # before the toggle is drawn in this run
    play_column, speed_column = st.columns([1, 2])
    playing = play_column.toggle("▶ Replay", key=playing_key, help="Play the finished race from the chosen step")
    speed = speed_column.radio("Replay speed", list(SPEEDS), index=1, horizontal=True, key=f"{key}_replay_speed")
    if st.session_state.get(step_key) not in steps:
        st.session_state[step_key] = steps[-1]  # a new race opens at its end
    elif playing and st.session_state[step_key] == steps[-1]:
        st.session_state[step_key] = steps[0]  # play from the start when the slider stands at the end

    @st.fragment(run_every=TICK if playing else None)
    def frame():
        if playing:
            index = steps.index(st.session_state[step_key])
            st.session_state[step_key] = steps[min(index + SPEEDS[speed], len(steps) - 1)]
        step = st.select_slider("Replay: step", options=steps, key=step_key,
                                help="Every panel shows the race as it stood at this step")
        if step != steps[-1]:
            st.caption("w against w* shows the end of the race; every other panel shows this step.")
        # each frame's figures are built once for every session replaying this race (race_view._shared_figure)
        race_view.draw(up_to(runs, step), key=f"{key}_replay", x=x, projected=projected,
                       snapshot=("replay", tuple(run.get("key") for run in runs), step), previous=previous)
        if playing and step == steps[-1]:
            st.session_state[ended_key] = True
            st.rerun()

    frame()
