"""Binomial tolerance for counts over seeds: how many of n seeds may show a claim whose recorded
rate has the Wilson interval [low, high] (presets, experiments)."""
import math

from agmcore.analysis.race_claims import wilson_interval


def _binomial_cdf(k: int, n: int, p: float) -> float:
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))


def acceptance(n: int, low: float, high: float, tail: float = 0.005):
    """Counts of n draws compatible with a success rate anywhere in [low, high]: from the `tail`
    quantile of Binomial(n, low) to the 1 − `tail` quantile of Binomial(n, high)."""
    first = next(k for k in range(n + 1) if _binomial_cdf(k, n, low) > tail)
    last = next(k for k in range(n + 1) if _binomial_cdf(k, n, high) >= 1 - tail)
    return first, last


def assert_as_often_as_recorded(held: int, seeds: int, recorded: tuple, what: str = "") -> None:
    """held/seeds lies within binomial tolerance of the recorded (held, seeds)."""
    first, last = acceptance(seeds, *wilson_interval(*recorded))
    assert first <= held <= last, f"{what}: held on {held}/{seeds}, recorded {recorded}, accepted {first}–{last}"
