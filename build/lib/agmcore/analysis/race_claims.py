"""The paper's claims on one Adam-vs-SGD race, and how often they hold over seeds.

A race's claims are read at the denoised iterate (verdict.denoised_last, docs/denoising.md):

- "adam_lower_test_loss": Adam's test loss below SGD's;
- "adam_lower_own_measures": Adam below SGD on tr(Diag(H)^½) and on Σ|w|^½ (Adam's bias);
- "sgd_lower_own_measures": SGD below Adam on tr(H) and on ‖w‖₁ (SGD's bias);
- "sgd_settled": SGD's own measure no longer moving (verdict.still_moving), so the comparison
  is with a finished SGD;
- "all_at_once": every claim above on the same race (the test-loss and settled claims alone on
  matrix factorization, whose measures are not the paper's biases).

One seed is one draw (round-off amplification, docs/engine.md): the Home page states each claim
as the fraction of seeds on which it held, with a Wilson interval.
"""
from __future__ import annotations

import math
from typing import Callable, Dict, List, Sequence, Tuple

from agmcore.analysis.verdict import denoised_last, still_moving
from agmcore.problems.descriptors import descriptor_of

CLAIMS = {
    "adam_lower_test_loss": "Adam lower test loss",
    "adam_lower_own_measures": "Adam lower on tr(Diag(H)^½) and Σ|w|^½",
    "sgd_lower_own_measures": "SGD lower on tr(H) and ‖w‖₁",
    "sgd_settled": "SGD finished its slow phase",
    "all_at_once": "all of the above at once",
}


def _pair(runs: Sequence[Dict]) -> Tuple[Dict, Dict]:
    by_name = {r["config"]["optimizer"]["name"]: r for r in runs}
    return by_name["adam"], by_name["sgd"]


def _lower(a: Dict, b: Dict, measure: str) -> bool:
    x, y = denoised_last(a, measure), denoised_last(b, measure)
    return x is not None and y is not None and x < y


def claims_held(runs: Sequence[Dict]) -> Dict[str, bool]:
    """Which claims one finished race (with an Adam and an SGD run) shows."""
    adam, sgd = _pair(runs)
    out = {"adam_lower_test_loss": _lower(adam, sgd, "test_loss"), "sgd_settled": not still_moving(sgd)}
    if descriptor_of(runs[0]["config"]["task"]).own_measure_claims:
        out["adam_lower_own_measures"] = _lower(adam, sgd, "trace_sqrt_diag_H") and _lower(adam, sgd, "l_half")
        out["sgd_lower_own_measures"] = _lower(sgd, adam, "trace_H") and _lower(sgd, adam, "l1")
    out["all_at_once"] = all(out.values())
    return out


def wilson_interval(held: int, total: int, z: float = 1.96) -> Tuple[float, float]:
    """The Wilson score interval (95 % by default) for a fraction held/total."""
    if total == 0:
        return 0.0, 1.0
    p = held / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return max(0.0, centre - half), min(1.0, centre + half)


def fractions_over_seeds(race_for_seed: Callable[[int], List[Dict]], seeds: Sequence[int]) -> Dict[str, List[bool]]:
    """{claim: [held on seed s, ...]} over finished races (documents) built by race_for_seed."""
    out: Dict[str, List[bool]] = {}
    for seed in seeds:
        for claim, held in claims_held(race_for_seed(seed)).items():
            out.setdefault(claim, []).append(held)
    return out
