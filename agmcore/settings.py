"""The server's settings from the environment, checked once at start with a clear message.

    SHARPNESS_LAB_WORKERS      races computed at once (1 to MAX_WORKERS; default cores − 1, at least 1)
    SHARPNESS_LAB_STORE        the result store's folder (store.py)
    SHARPNESS_LAB_STORE_LIMIT  its size limit in bytes (at least MIN_STORE_LIMIT; default 2 GiB)
    SHARPNESS_LAB_QUEUE        races waiting or running at once on the server (1 to 1000; default 20)
    SHARPNESS_LAB_PER_BROWSER  of those, started by one browser session (1 to 100; default 3)
    SHARPNESS_LAB_CLUSTER      a Ray cluster's address (host:port, or "auto") for the Experiments page's
                               sweeps (unset: this machine's cores; docs/cluster.md)
"""
from __future__ import annotations

import os
from typing import Mapping, Optional

MAX_WORKERS = 64
MIN_STORE_LIMIT = 64 * 1024**2  # below this the store would evict a result right after storing it
DEFAULT_STORE_LIMIT = 2 * 1024**3


class SettingsError(ValueError):
    """A setting that cannot work; the message names the variable, the value and what is allowed."""


def _whole_number(env: Mapping[str, str], name: str, default: int, low: int, high: Optional[int], unit: str) -> int:
    text = env.get(name)
    if text is None or text.strip() == "":
        return default
    try:
        value = int(text.strip())
    except ValueError:
        raise SettingsError(f"{name}={text!r} is not a whole number: give {unit}") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low:,} and {high:,}" if high is not None else f"at least {low:,}"
        raise SettingsError(f"{name}={value} cannot work: give {unit} {bound}")
    return value


def workers(env: Mapping[str, str] = os.environ) -> int:
    """How many races compute at once."""
    return _whole_number(env, "SHARPNESS_LAB_WORKERS", max(1, (os.cpu_count() or 2) - 1), 1, MAX_WORKERS,
                         "a number of worker processes")


def store_limit(env: Mapping[str, str] = os.environ) -> int:
    """The result store's size limit in bytes."""
    return _whole_number(env, "SHARPNESS_LAB_STORE_LIMIT", DEFAULT_STORE_LIMIT, MIN_STORE_LIMIT, None,
                         "a size in bytes")


def queue_limit(env: Mapping[str, str] = os.environ) -> int:
    """How many races may wait or run at once on the server."""
    return _whole_number(env, "SHARPNESS_LAB_QUEUE", 20, 1, 1000, "a number of races")


def per_browser_limit(env: Mapping[str, str] = os.environ) -> int:
    """How many waiting or running races one browser session may have."""
    return _whole_number(env, "SHARPNESS_LAB_PER_BROWSER", 3, 1, 100, "a number of races")


def cluster(env: Mapping[str, str] = os.environ) -> Optional[str]:
    """The Ray address the Experiments page's sweeps run on, or None for this machine's cores."""
    text = (env.get("SHARPNESS_LAB_CLUSTER") or "").strip()
    if text and (any(c.isspace() for c in text) or text.startswith("-")):
        raise SettingsError(f"SHARPNESS_LAB_CLUSTER={text!r} is not an address: give host:port, or auto")
    return text or None


def check(env: Mapping[str, str] = os.environ) -> None:
    """Raise SettingsError for the first setting that cannot work (the app calls this at start)."""
    workers(env)
    store_limit(env)
    queue_limit(env)
    per_browser_limit(env)
    cluster(env)
