"""Page frame helpers: teacher mode and friendly messages."""
import streamlit as st

TEACHER_CSS = """
<style>
html, body, [data-testid="stAppViewContainer"] { font-size: 1.35rem; }
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"] { display: none; }
h1 { font-size: 3rem !important; }
</style>
"""


def teacher_mode() -> bool:
    """?teacher=1: controls hidden, large fonts, for a projector."""
    return st.query_params.get("teacher") == "1"


def apply_teacher_mode():
    if teacher_mode():
        st.html(TEACHER_CSS)
