"""What every experiment shares: its record type, scales, and summaries over seeds."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from agmcore.analysis.race_claims import wilson_interval
from agmcore.engine.config import OptimizerConfig, RunConfig

SCALES = ("classroom", "d2000", "paper")  # every scale some experiment has (Experiment.scales: its own)
# the experiments read their end points at the mean iterate θ̄ of the last quarter of the steps (its
# projection Φ(θ̄) where they measure sharpness): the last iterate carries Adam's η-sized floor
TAIL_AVERAGE = 0.25


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str
    claim: str
    build: Callable[[str, int], List[RunConfig]]  # (scale, seeds) -> cells
    summarize: Callable[[List[RunConfig], List[Dict]], Dict]  # numbers and "claim_holds"
    seeds: int = 3  # the default number of seeds (CLI and app)
    scales: tuple = ("classroom", "paper")  # the scales it builds cells for
    shipped_scales: tuple = ("classroom",)  # those `agmcore ship` writes to assets/ (the app offers them)


def seed_fraction(held: Sequence[bool]) -> Dict:
    """How often a check held over seeds: {"held", "seeds", "low", "high"}, the last two a 95 %
    Wilson interval. One seed is one draw of a process that amplifies round-off, so an experiment's
    claim is a fraction, and a part of it holds when it held on most seeds (holds_on_most)."""
    low, high = wilson_interval(sum(held), len(held))
    return {"held": int(sum(held)), "seeds": len(held), "low": round(low, 3), "high": round(high, 3)}


def holds_on_most(fraction: Dict) -> bool:
    """A part of a claim holds when it held on more than half of the seeds it was checked on."""
    return 2 * fraction["held"] > fraction["seeds"]


def seed_fraction_text(fraction: Optional[Dict]) -> str:
    """" — held on 9/10 seeds (95 %: 0.60–0.98)" for a seed_fraction; "" for None."""
    if not fraction:
        return ""
    return (f" — held on {fraction['held']}/{fraction['seeds']} seeds "
            f"(95 %: {fraction['low']:.2f}–{fraction['high']:.2f})")


def tail_mean(values: Sequence[float], fraction: float = 0.1) -> float:
    """Mean over the last `fraction` of a history (the authors' 'mean over the last steps')."""
    values = [v for v in values if v is not None]
    k = max(1, int(len(values) * fraction))
    return float(np.mean(values[-k:]))


def tail_over_steps(history: Dict[str, list], name: str, fraction: float = 0.1) -> float:
    """Mean of a logged measure over the logging points in the last `fraction` of the steps (with
    log-spaced logging the last 10 % of the points span far more than 10 % of the steps)."""
    steps = np.asarray(history["step"], dtype=float)
    values = np.array([np.nan if v is None else v for v in history[name]], dtype=float)
    tail = values[(steps >= (1 - fraction) * steps[-1]) & np.isfinite(values)]
    return float(tail.mean()) if len(tail) else float("nan")


def sgd_and_agms(sgd_lr: float, names: Sequence[str], block_size: int = 16, **shared) -> tuple:
    """SGD with step `sgd_lr`, then each named AGM with the same shared hyperparameters
    (`block_size` goes to Adam-mini only)."""
    return (OptimizerConfig(name="sgd", lr=sgd_lr),) + tuple(
        OptimizerConfig(name=n, **shared, **({"block_size": block_size} if n == "adam-mini" else {})) for n in names)
