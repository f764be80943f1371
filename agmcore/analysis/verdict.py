"""Who is ahead on each measure of a race, read at the denoised iterate (docs/denoising.md).

For each measure, each run's value at Φ(θ̄) relative to a baseline run's (SGD's when it races,
else the first run's): a ratio below 1 is lower. A run whose own measure tr(S·H) = Σ diag(H)^(1−λ)
(λ = 0 for SGD, ½ for Adam; `implied_sharpness_denoised`) still fell by more than
MOVING_TOLERANCE over the last tenth of its logged steps has not finished its slow phase: it is
"still moving" and gets no verdict. Pure functions of result documents (no plotting).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

from agmcore import DENOISED
from agmcore.optimizers import naming
from agmcore.optimizers.family import BASELINE
from agmcore.problems.descriptors import descriptor_of

MOVING_TOLERANCE = 0.03  # relative fall of the own measure over the last tenth (docs/denoising.md)
LEVEL = 1e-4  # a relative gap below this is "level" (round-off and the Newton tolerance are far below)

def measures_of(runs: Sequence[Dict]) -> Dict[str, tuple]:
    """The verdict's measures for this race's task."""
    return descriptor_of(runs[0]["config"]["task"]).verdict_measures


def display_name(config: Dict) -> str:
    """How the verdict names a run (naming.display_name of its optimizer)."""
    return naming.display_name(config["optimizer"])


def _values(run: Dict, name: str) -> List[Optional[float]]:
    return (run.get("history") or {}).get(name) or []


def last_value(run: Dict, name: str) -> Optional[float]:
    """The run's latest logged value of the history `name` (None before any is logged)."""
    return next((v for v in reversed(_values(run, name)) if v is not None), None)


def denoised_last(run: Dict, measure: str) -> Optional[float]:
    """The run's latest value of `measure` at Φ(θ̄) (None before any is logged)."""
    return last_value(run, measure + DENOISED)


def own_measure_fall(run: Dict) -> Optional[float]:
    """Relative fall of the run's own denoised measure over the last tenth of its logged steps,
    (m(0.9·T) − m(T)) / |m(T)|; None when there is too little history to tell."""
    steps = _values(run, "step")
    values = _values(run, "implied_sharpness" + DENOISED) or _values(run, "trace_sqrt_diag_H" + DENOISED)
    if len(steps) < 11 or len(values) != len(steps) or steps[-1] <= 0:
        return None
    start = next(i for i, s in enumerate(steps) if s >= 0.9 * steps[-1])
    before, now = values[start], values[-1]
    if before is None or now is None or now == 0:
        return None
    return (before - now) / abs(now)


def still_moving(run: Dict) -> bool:
    fall = own_measure_fall(run)
    return fall is not None and fall > MOVING_TOLERANCE


@dataclass(frozen=True)
class Verdict:
    baseline: int  # index of the run the ratios are taken against
    ratios: Dict[str, List[Optional[float]]]  # measure -> per run, value / baseline's value
    moving: List[bool]  # per run: still moving (no verdict)
    sentences: List[str]  # one per measure with a verdict, from this race's numbers


def baseline_index(runs: Sequence[Dict]) -> int:
    names = [r["config"]["optimizer"]["name"] for r in runs]
    return names.index(BASELINE) if BASELINE in names else 0


def verdict(runs: Sequence[Dict]) -> Verdict:
    """Ratios to the baseline and the sentences a class reads (finished runs only)."""
    base = baseline_index(runs)
    moving = [still_moving(r) for r in runs]
    ratios: Dict[str, List[Optional[float]]] = {}
    sentences: List[str] = []
    for measure, (title, _) in measures_of(runs).items():
        values = [denoised_last(r, measure) for r in runs]
        reference = values[base]
        ratios[measure] = [None if v is None or not reference else v / reference for v in values]
        ranked = sorted((v, i) for i, v in enumerate(values) if v is not None and not moving[i])
        if len(ranked) < 2:
            continue
        (low, i), (next_low, j) = ranked[0], ranked[1]
        if next_low <= 0:
            continue
        gap = 1 - low / next_low
        who, other = display_name(runs[i]["config"]), display_name(runs[j]["config"])
        if gap < LEVEL:
            sentences.append(f"{who} and {other} level on {title}")
        else:
            lower = "lower" if len(ranked) == 2 else "lowest"
            sentences.append(f"{who} {lower} on {title} by {_percent(gap)} (vs {other})")
    for i, run in enumerate(runs):
        if moving[i]:
            sentences.append(f"{display_name(run['config'])} still moving: its own measure fell "
                             f"{_percent(own_measure_fall(run))} over the last tenth, so no verdict yet")
    return Verdict(base, ratios, moving, sentences)


THUMBNAIL_POINTS = 48  # points of each run's test-loss curve a gallery entry keeps


def thumbnail_curve(run: Dict, points: int = THUMBNAIL_POINTS) -> List[Optional[float]]:
    """The run's denoised test loss at ≤ `points` evenly spaced logged steps (the last included)."""
    values = _values(run, "test_loss" + DENOISED) or _values(run, "test_loss")
    if len(values) <= points:
        return list(values)
    picks = [round(i * (len(values) - 1) / (points - 1)) for i in range(points)]
    return [values[i] for i in picks]


def digest(runs: Sequence[Dict]) -> Dict:
    """What a gallery entry shows of a finished race: each run's final denoised test loss and
    thumbnail curve, and the verdict's sentences."""
    return {"test_loss": [denoised_last(r, "test_loss") for r in runs],
            "curves": [thumbnail_curve(r) for r in runs],
            "verdict": verdict(runs).sentences}


def _percent(fraction: float) -> str:
    value = 100 * fraction
    return f"{value:.0f} %" if value >= 10 else f"{value:.1f} %" if value >= 0.1 else f"{value:.2f} %"


def ahead_at_end(runs: Sequence[Dict], measure: str) -> Optional[str]:
    """'lower at the end: Adam (5.93 vs SGD 9.60)' for one panel ('lower now' while a run is still
    running), or None with fewer than two values. A run still moving is named with '(still moving)'."""
    values = [(denoised_last(r, measure), i) for i, r in enumerate(runs)]
    values = sorted((v, i) for v, i in values if v is not None)
    if len(values) < 2:
        return None
    (low, i), (other, j) = values[0], values[1]

    def named(k):
        return display_name(runs[k]["config"]) + (" (still moving)" if still_moving(runs[k]) else "")
    low_text, other_text = distinct(low, other)
    when = "now" if any(r.get("status") == "running" for r in runs) else "at the end"
    return f"lower {when}: {named(i)} ({low_text} vs {named(j)} {other_text})"


def distinct(a: float, b: float) -> tuple:
    """Two values with the fewest significant digits (3 to 6) that tell them apart."""
    for digits in range(3, 7):
        left, right = f"{a:.{digits}g}", f"{b:.{digits}g}"
        if left != right:
            break
    return left, right
