"""What the benchmarks share: the median wall time of repeated calls."""
from __future__ import annotations

import statistics
import time


def median_seconds(fn, repeats: int):
    """(median seconds over `repeats` calls of fn, the last call's result)."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result
