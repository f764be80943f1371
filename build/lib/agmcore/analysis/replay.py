"""Replaying a finished race: its documents as they stood at an earlier logging point.

A race's documents hold every measure at every logging point (`history`), so the state at step
t is the history cut after t; figures drawn from the cut documents show the race as it was then.
The final arrays (w, the parameters) exist only for the end, so views drawn from them show the end.
"""
from __future__ import annotations

import bisect
from typing import Dict, List, Sequence


def logged_steps(runs: Sequence[Dict]) -> List[int]:
    """Every step at which some run of the race logged, in order."""
    return sorted({s for run in runs for s in run["history"].get("step", [])})


def up_to(runs: Sequence[Dict], step: int) -> List[Dict]:
    """The documents with each history cut after `step` (every history list runs along "step") and
    steps_done at most `step`."""
    out = []
    for run in runs:
        history = run["history"]
        keep = bisect.bisect_right(history.get("step", []), step)
        out.append({**run, "steps_done": min(run.get("steps_done", step), step),
                    "history": {name: values[:keep] for name, values in history.items()}})
    return out
