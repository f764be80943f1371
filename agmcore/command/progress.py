"""A plain progress bar on a text stream (stderr for the CLI)."""
from __future__ import annotations

import sys
import time


def format_seconds(s: float) -> str:
    s = int(max(s, 0))
    return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:d}:{s % 60:02d}"


class ProgressBar:
    """Redraws in place on a terminal; elsewhere prints a line at most every `every` seconds."""

    def __init__(self, total: int, stream=None, width: int = 30, every: float = 5.0):
        self.total, self.stream, self.width, self.every = total, stream or sys.stderr, width, every
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last = -1e9

    def update(self, step: int, rate: float, force: bool = False):
        now = time.monotonic()
        if not (force or self.tty or now - self._last >= self.every):
            return
        self._last = now
        frac = min(step / self.total, 1.0) if self.total else 1.0
        filled = int(self.width * frac)
        left = (self.total - step) / rate if rate > 0 else float("nan")
        eta = format_seconds(left) if left == left else "?"
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {step}/{self.total} {rate:,.0f} steps/s, {eta} left"
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        self.stream.flush()

    def close(self):
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def cell_line(done: int, total: int, seconds: float, fresh: int, width: int = 20) -> str:
    """"[k/N] [#####.....] 12 s, 0:40 left" for a sweep of N cells, k done after `seconds`, of which
    `fresh` were computed now (the time left is projected from those, the stored ones are instant)."""
    filled = int(width * min(done / total, 1.0)) if total else width
    rate = fresh / seconds if seconds > 0 and fresh else 0.0
    left = f", {format_seconds((total - done) / rate)} left" if rate > 0 and done < total else ""
    return f"[{done}/{total}] [{'#' * filled}{'.' * (width - filled)}] {seconds:.0f} s{left}"
