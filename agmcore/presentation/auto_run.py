"""When a moved Playground control starts its race with no click (docs/benchmarks.md, "Explore by slider").

A race the compiled loop is predicted to finish within AUTO_RUN_SECONDS (engine.speed) starts by
itself once its setting has stood still for DEBOUNCE seconds: the page waits that long before it
submits, and a newer value of the same drag (a slider moved with the keyboard sends one per key
press) stops that wait (Streamlit reruns the page at its next element), so only the value the
slider rests on is run. Longer races, and a page just opened, wait for Run.
"""
from __future__ import annotations

from typing import Optional, Sequence

from agmcore.engine.config import RunConfig
from agmcore.engine.speed import estimated_seconds

AUTO_RUN_SECONDS = 1.0  # predicted compute time up to which a changed setting runs by itself
DEBOUNCE = 0.25  # seconds a setting must stand still before its race starts (a held key repeats faster)


def runs_by_itself(configs: Sequence[RunConfig]) -> bool:
    """Whether a change to these settings starts the race with no click."""
    seconds = estimated_seconds(configs)
    return seconds is not None and seconds <= AUTO_RUN_SECONDS


def starts_by_itself(seen: Optional[str], key: str, stored: bool, configs: Sequence[RunConfig]) -> bool:
    """Whether the page starts race `key` with no click: the settings changed since the page last
    read them (`seen`: that race's key; None on a page just opened), the race is not stored (a
    stored one opens at once) and it runs by itself."""
    return seen is not None and seen != key and not stored and runs_by_itself(configs)
