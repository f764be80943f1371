"""The Playground's controls (the sidebar): each knob a slider on the scale it is explored on
(presentation.playground.SCALES), bound to the URL, and a box per slider for an exact value."""
import streamlit as st

from agmcore.optimizers.family import OPTIMIZER_NAMES, REGISTRY
from agmcore.presentation.figures import X_AXES
from agmcore.presentation.playground import (BOUNDS, DEFAULTS, SCALES, TASK_KEYS, TASK_NAMES, check_url, key_of,
                                             slider_text, slider_values, url_value)
from agmcore.problems.descriptors import TASKS
from ui import url

EXACT = "__exact"  # suffix of a knob's exact-value box
BIND = dict(bind="query-params")


def read_url() -> dict:
    """Drop the URL's invalid settings before the controls read it and write valid ones as their
    sliders write them (0.010 -> 0.01); returns a notice per dropped parameter."""
    notices = check_url({k: st.query_params.get_all(k) for k in list(st.query_params)})
    url.drop_params(notices)
    url.rewrite_params({k: slider_text(url_value(k, st.query_params.get_all(k))) for k in list(st.query_params)
                        if k in SCALES and k not in notices})
    return notices


def current(key):
    """The value a control holds now: this session's, else the URL's, else the default."""
    if key in st.session_state:
        return st.session_state[key]
    if key in st.query_params:
        return url_value(key, st.query_params.get_all(key))
    return DEFAULTS[key]


def knob(label, key, typed, help=None, owner=""):
    """A setting on its slider (playground.SCALES; a typed or URL value off the scale is added);
    `typed` collects (label, key) for its exact-value box."""
    typed.append((f"{owner} {label}".strip(), key))
    return st.select_slider(label, options=slider_values(key, current(key)), value=DEFAULTS[key], key=key,
                            format_func=slider_text, help=help, **BIND)


def _typed(key):
    st.session_state[key] = st.session_state[key + EXACT]


def exact_values(typed):
    """A box per slider drawn (`typed`), for a value off its scale; typing one moves the slider."""
    with st.expander("Type exact values"):
        for label, key in typed:
            value, (low, high) = current(key), BOUNDS[key]
            st.session_state[key + EXACT] = value
            whole = isinstance(DEFAULTS[key], int)
            st.number_input(label, key=key + EXACT, min_value=low, max_value=high, step=1 if whole else None,
                            format=None if whole else "%g", on_change=_typed, args=(key,))


def optimizer_controls(name: str, typed: list):
    """One optimizer's knobs (its descriptor's), in its expander."""
    knob("learning rate η", key_of(name, "lr"), typed, owner=name)
    knobs = REGISTRY[name].knobs
    if "beta1" in knobs:
        knob("β1 (momentum)", key_of(name, "beta1"), typed, owner=name, help="Log-spaced in 1 − β1")
    if "beta2" in knobs:
        scheme = st.checkbox("2-scheme: β2 = 1 − 10·η²", value=False, key=key_of(name, "2scheme"), **BIND)
        if not scheme:
            knob("β2", key_of(name, "beta2"), typed, owner=name, help="Log-spaced in 1 − β2")
    if "lam" in knobs:
        lam = key_of(name, "lam")
        st.slider("λ (preconditioner power)", *BOUNDS[lam], value=DEFAULTS[lam], step=0.05, key=lam, **BIND)


def task_controls(task: str, typed: list):
    """The task's knobs (its descriptor's)."""
    described = TASKS[task]
    for field in described.knobs:
        key = TASK_KEYS[field]
        if isinstance(DEFAULTS[key], bool):
            st.checkbox(described.knob_labels[field], value=DEFAULTS[key], key=key, **BIND,
                        help=described.knob_help.get(field))
        else:
            knob(described.knob_labels[field], key, typed, help=described.knob_help.get(field))


def draw() -> tuple:
    """Every control, in the sidebar; returns the chosen x-axis and the sliders drawn, (label, key) each."""
    typed = []
    with st.sidebar:
        st.header("Race")
        task = st.selectbox("Task", TASK_NAMES, key="pg_task", **BIND)
        names = st.multiselect("Optimizers", OPTIMIZER_NAMES, default=DEFAULTS["pg_opts"], key="pg_opts", **BIND)
        for name in names:
            with st.expander(f"{name} settings", expanded=len(names) <= 2):
                optimizer_controls(name, typed)
        st.header("Task")
        task_controls(task, typed)
        st.header("Run")
        knob("steps", "pg_steps", typed)
        st.number_input("seed", value=DEFAULTS["pg_seed"], key="pg_seed", min_value=BOUNDS["pg_seed"][0],
                        max_value=BOUNDS["pg_seed"][1], step=1, **BIND)
        st.checkbox("bias correction", value=False, key="pg_bc", **BIND)
        st.checkbox("also measure at the projection onto the manifold", value=False, key="pg_proj", **BIND)
        x = st.radio("x-axis", list(X_AXES), format_func=X_AXES.get,
                     key="pg_x", horizontal=True, **BIND)
        exact_values(typed)
    return x, typed
