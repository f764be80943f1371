"""The Playground's "Map two knobs": pick two sliders and an outcome, compute the race at each
pair of their values in the background (presentation.knob_map; each a stored race, the same
sweep as "Sweep a knob"), and click a cell to open its race: both sliders move there and the
race opens from the store. The two knobs are in the URL (pg_map=<x>,<y>)."""
from typing import Dict, Sequence, Tuple

import streamlit as st

from agmcore.presentation.knob_map import MEANING, OUTCOMES, map_figure, map_races
from agmcore.presentation.playground import slider_text, url_value
from agmcore.storage.store import race_key
from ui import background_races, race_view
from ui.page_frame import teacher_mode
from ui.services import stored_race

MAP = "pg_map"  # URL parameter: the two knobs' settings keys, "x,y"
AT = "pg_map_at"  # URL parameter: the values the map is centred on, "vx,vy" (slider_text); default the current
ANCHOR = "pg_map_anchor"  # (x key, y key, vx, vy): what the map of this session is centred on
X, Y, OUTCOME = "pg_map_x", "pg_map_y", "pg_map_outcome"
MAPPING = background_races.Job("map", "Mapping", started="pg_map_started", button="pg_map_run")
CHART = "pg_map_chart"
CELLS = "pg_map_cells"  # the map's cells as drawn: (x key, y key, [(x value, y value)]), for a click
NONE = ""
DEFAULT_PAIR = ("pg_adam_lr", "pg_adam_beta2")  # the seed paper's question: η × β2, the 2-scheme drawn


def checked_url(knobs: Sequence[Tuple[str, str]]):
    """Drop a pg_map URL value that does not name two different sliders drawn; returns a notice."""
    given = st.query_params.get(MAP)
    if given is None:
        return None
    keys = {k for _, k in knobs}
    pair = given.split(",")
    if len(pair) == 2 and pair[0] != pair[1] and set(pair) <= keys:
        return None
    del st.query_params[MAP]
    st.query_params.pop(AT, None)
    for k in (X, Y):
        st.session_state.pop(k, None)
    return f"URL parameter {MAP}={given[:60]} does not name two sliders of this race: no map is drawn"


def _open_cell():
    """A click on a cell: both knobs take its values before the controls are drawn (a callback)."""
    chosen = st.session_state[CHART].selection.get("points", [])
    held = st.session_state.get(CELLS)
    if not chosen or held is None or chosen[0].get("customdata") is None:
        return
    x, y, values = held
    index = chosen[0]["customdata"]
    index = index[0] if isinstance(index, list) else index
    vx, vy = values[int(index)]
    st.session_state[x], st.session_state[y] = vx, vy


def draw(settings: Dict, knobs: Sequence[Tuple[str, str]]):
    """The two knob choosers, the outcome, the button that computes the map, its progress, the map."""
    labels = {key: label for label, key in knobs}
    if X not in st.session_state:
        asked = st.query_params.get(MAP)
        st.session_state[X], st.session_state[Y] = asked.split(",") if asked else (NONE, NONE)
    for k in (X, Y):
        if st.session_state[k] not in (NONE, *labels):
            st.session_state[k] = NONE
    with st.expander("Map two knobs", expanded=st.session_state[X] != NONE):
        left, middle, right = st.columns(3)
        options = [NONE, *labels]
        name = lambda k: labels.get(k, "none")  # noqa: E731
        x = left.selectbox("Across", options, key=X, format_func=name,
                           help=f"e.g. {labels.get(DEFAULT_PAIR[0], 'a learning rate')}")
        y = middle.selectbox("Up", options, key=Y, format_func=name,
                             help=f"e.g. {labels.get(DEFAULT_PAIR[1], 'β2')}: with η across, the 2-scheme line is drawn")
        kind = right.radio("Colour by", list(OUTCOMES), format_func=OUTCOMES.get, key=OUTCOME)
        if x == NONE or y == NONE or x == y:
            st.query_params.pop(MAP, None)
            st.query_params.pop(AT, None)
            st.caption("Choose two different knobs: each cell is the race at one pair of their values (one seed).")
            return
        if st.query_params.get(MAP) != f"{x},{y}":
            st.query_params[MAP] = f"{x},{y}"
        _map(settings, x, y, (labels[x], labels[y]), kind)


def _anchor(settings: Dict, x: str, y: str) -> Tuple:
    """The values this map is centred on: kept while its two knobs stay chosen (so a click on a
    cell moves the sliders, not the map), from the URL on a page opened by a map's link, else the
    current values; a button re-centres it on the current values."""
    held = st.session_state.get(ANCHOR)
    if held is None or held[:2] != (x, y):
        at = None
        try:
            texts = st.query_params.get(AT, "").split(",")
            at = (url_value(x, [texts[0]]), url_value(y, [texts[1]])) if len(texts) == 2 else None
        except ValueError:
            at = None  # a bad pg_map_at: centred on the current values
        held = st.session_state[ANCHOR] = (x, y, *(at or (settings[x], settings[y])))
    if held[2:] != (settings[x], settings[y]) and st.button("Centre the map on the current values",
                                                             key="pg_map_centre"):
        held = st.session_state[ANCHOR] = (x, y, settings[x], settings[y])
    text = f"{slider_text(held[2])},{slider_text(held[3])}"
    if st.query_params.get(AT) != text:
        st.query_params[AT] = text
    return held[2:]


def _map(settings: Dict, x: str, y: str, labels: Tuple[str, str], kind: str):
    cells, cannot = map_races(settings, x, y, _anchor(settings, x, y))
    found = [(vx, vy, stored_race(race_key(race))) for vx, vy, race in cells]
    missing = [race for (_, _, race), (_, _, runs) in zip(cells, found) if runs is None]
    if cannot:
        st.caption(f"{cannot} pairs of values cannot run with the other settings and are left out.")
    background_races.run_or_offer(MAPPING, missing, len(cells), "Compute the map")
    st.session_state[CELLS] = (x, y, [(vx, vy) for vx, vy, _ in cells])
    figure = map_figure(x, y, labels, found, kind, (settings[x], settings[y]), teacher_mode())
    st.plotly_chart(race_view.drawn_once(figure), key=CHART, on_select=_open_cell, selection_mode="points",
                    width="stretch")
    st.caption(MEANING[kind])

