"""Who is looking at which race: the count the live view's refresh slows down with (refresh_interval)."""
from __future__ import annotations

import threading
from typing import Dict

WATCH_WINDOW = 10.0  # seconds: a session that has not looked at a race for this long no longer counts


class Audience:
    """For each race, the sessions that looked at it in the last WATCH_WINDOW seconds."""

    def __init__(self):
        self._lock = threading.Lock()
        self._seen: Dict[str, Dict[str, float]] = {}  # race -> {session: when it last looked}

    def look(self, key: str, who: str, now: float) -> int:
        """Record that session `who` looks at race `key` at time `now` (monotonic seconds); returns
        how many sessions looked at it in the last WATCH_WINDOW seconds, `who` included."""
        with self._lock:
            seen = self._seen.setdefault(key, {})
            seen[who] = now
            for other, when in list(seen.items()):
                if now - when > WATCH_WINDOW:
                    del seen[other]
            return len(seen)

    def forget(self, key: str):
        """An ended race: nobody watches it live any more."""
        with self._lock:
            self._seen.pop(key, None)
