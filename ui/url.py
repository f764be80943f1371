"""Query parameters a page refuses before its widgets read them."""
from typing import Dict, Iterable

import streamlit as st
from streamlit.runtime.state.session_state_proxy import get_session_state


def drop_params(keys: Iterable[str]):
    """Remove these query parameters so no widget bound to the URL is seeded from them. Streamlit
    1.67 seeds such widgets from the URL as it was at page load, so that copy is refreshed from the
    current parameters too (QueryParams.set_initial_query_params_from_current)."""
    keys = list(keys)
    if not keys:
        return
    for key in keys:
        del st.query_params[key]
    with get_session_state().query_params() as params:
        params.set_initial_query_params_from_current()


def rewrite_params(texts: Dict[str, str]):
    """Write these query parameters as given (a value as its widget writes it), where they differ,
    before the widgets bound to them read the URL (drop_params)."""
    changed = {k: v for k, v in texts.items() if st.query_params.get_all(k) != [v]}
    if not changed:
        return
    for key, text in changed.items():
        st.query_params[key] = text
    with get_session_state().query_params() as params:
        params.set_initial_query_params_from_current()
