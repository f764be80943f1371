"""The Playground's "Sweep a knob": pick a slider, compute the race at each of its values in the
background (every worker at once, each a stored race: presentation.knob_sweep), then drag that
slider to open each stored race at once, beside a strip of each optimizer's final measures
against the knob. The chosen knob is in the URL (pg_sweep), so the sweep's link reopens it."""
from typing import Dict, List, Optional, Sequence, Tuple

import plotly.graph_objects as go
import streamlit as st

from agmcore.analysis.verdict import display_name
from agmcore.presentation import figures
from agmcore.presentation.knob_sweep import marked, strip_base, sweep_races
from agmcore.presentation.playground import slider_text
from agmcore.storage.store import race_key
from ui import background_races, race_view
from ui.page_frame import teacher_mode
from ui.services import stored_race

KNOB = "pg_sweep"  # the URL parameter naming the swept knob (its settings key)
CHOICE = "pg_sweep_knob"  # the chooser's widget key (kept in the URL by hand: a bound selectbox writes labels)
SWEEP = background_races.Job("sweep", "Sweeping", started="pg_sweep_started", button="pg_sweep_run")
NONE = ""


def checked_url(knobs: Sequence[Tuple[str, str]]) -> Optional[str]:
    """Drop a pg_sweep URL value that names no slider drawn; returns a notice saying so."""
    given = st.query_params.get(KNOB)
    if given is None or given == NONE or given in {k for _, k in knobs}:
        return None
    del st.query_params[KNOB]
    st.session_state.pop(CHOICE, None)
    return f"URL parameter {KNOB}={given[:40]} names no slider of this race: no knob is swept"


def draw(settings: Dict, knobs: Sequence[Tuple[str, str]]):
    """The knob chooser, the button that sweeps it, the sweep's progress and its strip."""
    labels = {key: label for label, key in knobs}
    if CHOICE not in st.session_state:
        st.session_state[CHOICE] = st.query_params.get(KNOB, NONE)  # a page opened from a sweep's link
    if st.session_state[CHOICE] not in (NONE, *labels):
        st.session_state[CHOICE] = NONE  # a knob no longer drawn (another optimizer, another task)
    key = st.selectbox("Sweep a knob", [NONE, *labels], key=CHOICE, format_func=lambda k: labels.get(k, "none"),
                       help="Compute the race at each of this slider's values, then drag it to see each at once")
    _keep_in_url(key)
    if key == NONE:
        return
    races, cannot = sweep_races(settings, key)
    if cannot:
        st.caption(f"Left out of the sweep, as these settings cannot run there: {labels[key]} = "
                   f"{', '.join(map(slider_text, cannot))}.")
    keys = [race_key(race) for _, race in races]
    found = [(value, stored_race(k)) for (value, _), k in zip(races, keys)]
    missing = [race for (_, race), (_, runs) in zip(races, found) if runs is None]
    if background_races.run_or_offer(SWEEP, missing, len(races), f"Sweep {labels[key]}"):
        st.caption(f"All {len(races)} races of this sweep are stored: drag the {labels[key]} slider to open each.")
    stored = tuple((value, k) for (value, runs), k in zip(found, keys) if runs is not None)
    base = _strip(key, labels[key], stored, teacher_mode(), found)
    st.plotly_chart(race_view.drawn_once(go.Figure(), marked(base, key, settings[key])), key="pg_sweep_strip",
                    width="stretch")


@st.cache_resource(max_entries=32, show_spinner=False)
def _strip(key: str, label: str, stored: tuple, teacher: bool, _found) -> dict:
    """The strip of the sweep's stored races (`stored`: (value, race key) each, which names them),
    built once for every session and every position of the slider."""
    return strip_base(key, label, _found, _colors(_found), teacher)


def _keep_in_url(key: str):
    if key == NONE:
        st.query_params.pop(KNOB, None)
    elif st.query_params.get(KNOB) != key:
        st.query_params[KNOB] = key


def _colors(found) -> Dict[str, str]:
    """Each optimizer's colour in the strip, keyed by its display name (figures.run_colors)."""
    for _, runs in found:
        if runs:
            return {display_name(r["config"]): c for r, c in zip(runs, figures.run_colors(runs))}
    return {}
