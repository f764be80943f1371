"""Query parameters a page refuses before its widgets read them."""
from typing import Iterable

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
