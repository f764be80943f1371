"""1. Sample complexity: final test loss against n, Adam against SGD (diagonal network).

The final test loss is taken at θ̄, the mean iterate of the last quarter of the run: Adam at
η = 0.1 keeps every coordinate moving by ≈ η per step, a fluctuation floor (test loss ≈ 0.05) that
is not the solution it found. The claim is read off the median over seeds, the curve the figure
draws: Adam's median drops below RECOVERED at a smaller n than SGD's, and at every n at least as
many seeds recover with Adam as with SGD (docs/sample-complexity.md).
"""
from __future__ import annotations

import math
import statistics
from typing import Dict, List, Optional

import numpy as np

from agmcore.engine.config import DiagNetTask, OptimizerConfig, RunConfig
from agmcore.experiments.common import TAIL_AVERAGE, seed_fraction, tail_mean
from agmcore.optimizers.naming import legend_label, measure_name

RECOVERED = 0.1  # a final test loss below this counts as recovering w* (initial ½‖w*‖² ≈ κ/6, 0.8 at κ = 5)

SAMPLE_COMPLEXITY = {
    # κ = 5: the clearest Adam/SGD gap of the regimes scanned within 5 minutes here (docs/regime-scan.md)
    "classroom": dict(dim=100, sparsity=5, samples=(10, 12, 13, 14, 15, 16, 18, 20, 22, 25), steps=100_000,
                      log_every=2_500),
    # κ = 150: the min-ℓ1 threshold near the poster's SGD n ≈ 800 and ½‖w*‖² ≈ κ/6 ≈ 25, its plateau; no
    # oracles (one LP at d = 10⁴ takes minutes on the CPU): docs/sample-complexity.md, "Paper scale"
    # between the two, the Donoho–Tanner argument of docs/sample-complexity.md at d = 2000: κ = 30 puts the
    # min-ℓ1 threshold at n ≈ 160 (κ/n ≈ 0.19, n/d = 0.08, as κ = 150 at d = 10⁴ does at n ≈ 800);
    # SGD η 0.1 needs about 10⁶ steps to settle there, Adam 10⁵; the oracles on the SGD cells only
    # (one dataset a seed and n); docs/sample-complexity.md, "d = 2000"
    "d2000": dict(dim=2000, sparsity=30, samples=(80, 100, 120, 140, 160, 180, 200),
                  steps={"adam": 100_000, "sgd": 1_000_000}, oracles=("sgd",)),
    "paper": dict(dim=10_000, sparsity=150, samples=tuple(range(300, 501, 20)) + (600, 700, 800, 900),
                  steps=1_000_000, log_every=10_000, oracles=False),
}
# Adam in the 2-scheme (1 − β2 = 10η²); η = 0.1 leaves local minima of the non-convex landscape that
# η = 0.03 settled in (seeds 3 and 5 of 0–9: docs/sample-complexity.md)
SC_OPTIMIZERS = (OptimizerConfig(name="adam", lr=0.1, beta2=0.9, bias_correction=False, eps=1e-6),
                 OptimizerConfig(name="sgd", lr=0.1))
SC_SEEDS = 10  # the default: the claim is read off medians, and a median of three is one seed's value
# At the classroom scale over seeds 0–9 (`agmcore reproduce sample-complexity`, docs/sample-complexity.md):
# half the seeds recover from n = 13 with Adam and n = 20 with SGD; the cells where the min-ℓ1
# interpolator misses w*, and how often SGD missed too and Adam recovered there. tests/test_science.py
# re-checks these within binomial tolerance. {check: (held, cells)}
MEASURED = {"sgd_fails": (36, 36), "adam_recovers": (17, 36)}
ORACLES = {"min-ℓ1 interpolator (SGD's limit)": "w_l1_oracle", "min-ℓ^½ interpolator (Adam's limit)": "w_lhalf_oracle"}


LOGGED_POINTS = 40  # where a scale gives each optimizer its own steps, each logs this many points


def sample_complexity_cells(scale: str, seeds: int) -> List[RunConfig]:
    """One cell per optimizer, n and seed; a scale's steps are one number or one per optimizer
    name, its oracles on every cell (True), none (False) or the named optimizers' cells."""
    s = SAMPLE_COMPLEXITY[scale]
    oracles = s.get("oracles", True)

    def steps(opt):
        return s["steps"][opt.name] if isinstance(s["steps"], dict) else s["steps"]

    return [RunConfig(task=DiagNetTask(dim=s["dim"], samples=n, sparsity=s["sparsity"]), optimizer=opt,
                      steps=steps(opt), log_every=s.get("log_every") or steps(opt) // LOGGED_POINTS, seed=seed,
                      oracle_metrics=oracles if isinstance(oracles, bool) else opt.name in oracles,
                      tail_average=TAIL_AVERAGE)
            for opt in SC_OPTIMIZERS for n in s["samples"] for seed in range(seeds)]


def final_test_loss(doc: Dict) -> float:
    """The test loss at θ̄ when the run kept a tail average, else the mean of the last 10 % of the
    logged test loss (the authors' "mean over the last steps", which includes the fluctuation)."""
    at_mean_iterate = doc["final"].get("test_loss_avg")
    return at_mean_iterate if at_mean_iterate is not None else tail_mean(doc["history"]["test_loss"])


def authors_test_loss(doc: Dict) -> float:
    """The authors' reading: the mean logged test loss over the last 10 % of the run."""
    return tail_mean(doc["history"]["test_loss"])


# the two readings of a cell's test loss that every recovery table reports (docs/sample-complexity.md)
READINGS = {"θ̄": final_test_loss, "authors'": authors_test_loss}


def recovered(losses: List[float]) -> List[bool]:
    """Per seed, whether its test loss counts as recovering w* (< RECOVERED)."""
    return [x < RECOVERED for x in losses]


def half_recovery_n(per_n: Dict[int, List[float]]) -> Optional[int]:
    """The smallest n from which at least half the seeds recover (test loss < RECOVERED) at that n
    and every larger n of the grid; None if none does."""
    return _first_n_from_which(per_n, lambda losses: 2 * sum(recovered(losses)) >= len(losses))


def _percentile(values: List[float], q: float) -> Optional[float]:
    """The q-quantile (nearest rank) of values, None where it lies beyond the grid (inf)."""
    ranked = sorted(values)
    value = ranked[min(len(ranked) - 1, int(q * len(ranked)))]
    return None if math.isinf(value) else round(value, 3)


def bootstrap_half_recovery(table: Dict[str, Dict[int, List[float]]], draws: int = 2000, level: float = 0.9,
                            seed: int = 0) -> Dict:
    """Each optimizer's half_recovery_n with a bootstrap interval, and the Adam/SGD ratio with its
    own: seeds are resampled with replacement, the same seeds for every optimizer (they share data,
    initialisation and noise), `draws` times; the interval holds the central `level` of the draws.
    An n beyond the grid counts as infinite and is written None."""
    rng = np.random.default_rng(seed)
    seeds = min(len(v) for per_n in table.values() for v in per_n.values())
    beyond = lambda n: math.inf if n is None else float(n)  # noqa: E731
    samples: Dict[str, List[float]] = {name: [] for name in table}
    ratios: List[float] = []
    for _ in range(draws):
        pick = rng.integers(0, seeds, seeds)
        drawn = {name: beyond(half_recovery_n({n: [v[i] for i in pick] for n, v in per_n.items()}))
                 for name, per_n in table.items()}
        for name, n in drawn.items():
            samples[name].append(n)
        if "adam" in drawn and "sgd" in drawn:
            ratios.append(drawn["adam"] / drawn["sgd"] if not math.isinf(drawn["sgd"]) else 0.0)
    tail = (1 - level) / 2
    out = {"per_optimizer": {name: {"n": half_recovery_n(per_n), "low": _percentile(samples[name], tail),
                                    "high": _percentile(samples[name], 1 - tail)} for name, per_n in table.items()}}
    if ratios:
        adam, sgd = out["per_optimizer"]["adam"]["n"], out["per_optimizer"]["sgd"]["n"]
        out["ratio"] = {"value": None if adam is None or sgd is None else round(adam / sgd, 3),
                        "low": _percentile(ratios, tail), "high": _percentile(ratios, 1 - tail)}
    return out


# the oracles' rows in a recovery table, where the cells carry them (oracle_metrics)
ORACLE_ROWS = dict(zip(ORACLES, ("min-ℓ1", "min-ℓ^½")))


def recovery_table(configs, docs) -> Dict:
    """Per reading (READINGS): per optimizer name and n, the seeds that recovered with a 95 % Wilson
    interval (common.seed_fraction), and bootstrap_half_recovery; the same for the theory's oracles (ORACLE_ROWS) where
    the cells carry them. Keys are measure names (endpoints.measure_name) and n as text."""
    out: Dict[str, Dict] = {"readings": {}}
    for reading, read in READINGS.items():
        table = by_optimizer_and_n(configs, docs, read)
        table.update({ORACLE_ROWS[name]: per_n for name, per_n in oracle_test_losses(configs, docs).items()})
        fraction = {name: {str(n): seed_fraction(recovered(v)) for n, v in sorted(per_n.items())}
                    for name, per_n in table.items()}
        out["readings"][reading] = {"fraction": fraction, "half_recovery_n": bootstrap_half_recovery(table)}
    return out


def by_optimizer_and_n(configs, docs, read=None) -> Dict[str, Dict[int, List[float]]]:
    """{measure_name: {n: [read(doc) per seed, in seed order]}} (final_test_loss by default)."""
    table: Dict[str, Dict[int, List[float]]] = {}
    for c, d in sorted(zip(configs, docs), key=lambda cd: cd[0].seed):
        table.setdefault(measure_name(c.optimizer), {}).setdefault(c.task.samples, []).append((read or final_test_loss)(d))
    return table


def legend_names(configs, docs) -> Dict[str, str]:
    """{measure_name: the optimizer's settings as the figure's legend shows them}."""
    return {measure_name(c.optimizer): legend_label(d["config"]["optimizer"]) for c, d in zip(configs, docs)}


def oracle_test_losses(configs, docs) -> Dict[str, Dict[int, List[float]]]:
    """The theory's prediction per n and seed: the test loss ½‖w_o − w*‖² of each oracle
    interpolator (exact for Rademacher inputs), from cells run with oracle_metrics."""
    table: Dict[str, Dict[int, Dict[int, float]]] = {}
    for c, d in zip(configs, docs):
        for name, key in ORACLES.items():
            if key in d:
                gap = np.subtract(d[key], d["w_star"])
                table.setdefault(name, {}).setdefault(c.task.samples, {})[c.seed] = 0.5 * float(gap @ gap)
    return {name: {n: [v for _, v in sorted(per.items())] for n, per in sorted(ns.items())} for name, ns in table.items()}


def _first_n_from_which(per_n: Dict[int, List[float]], recovered) -> Optional[int]:
    ns = sorted(per_n)
    ok = [recovered(per_n[n]) for n in ns]
    return next((n for i, n in enumerate(ns) if all(ok[i:])), None)


def recovery_n(per_n: Dict[int, List[float]]) -> Optional[int]:
    """The smallest n from which every seed has test loss < RECOVERED at that n and above."""
    return _first_n_from_which(per_n, lambda losses: all(recovered(losses)))


def median_drop_n(per_n: Dict[int, List[float]]) -> Optional[int]:
    """The smallest n from which the median over seeds is < RECOVERED at that n and above."""
    return _first_n_from_which(per_n, lambda losses: statistics.median(losses) < RECOVERED)


def recovery_rate(per_n: Dict[int, List[float]]) -> Dict[int, float]:
    """Per n, the fraction of seeds with test loss < RECOVERED."""
    return {n: sum(recovered(v)) / len(v) for n, v in sorted(per_n.items())}


def per_seed_recovery_n(per_n: Dict[int, List[float]]) -> List[Optional[int]]:
    """recovery_n of each seed alone (None: it does not recover from any n of the sweep on)."""
    seeds = min(len(v) for v in per_n.values())
    return [recovery_n({n: [v[s]] for n, v in per_n.items()}) for s in range(seeds)]


def _recovery(table: Dict[str, Dict[int, List[float]]]) -> Dict[str, Dict]:
    return {"recovery_n": {name: recovery_n(per_n) for name, per_n in table.items()},
            "median_drop_n": {name: median_drop_n(per_n) for name, per_n in table.items()},
            "recovery_rate": {name: recovery_rate(per_n) for name, per_n in table.items()},
            "recovery_n_per_seed": {name: per_seed_recovery_n(per_n) for name, per_n in table.items()}}


def sample_complexity_summary_table(configs, docs) -> Dict:
    """Final test loss (final_test_loss) per n over seeds; for each optimizer the smallest n from
    which every seed recovers (test loss < RECOVERED at that n and above), the same for the
    median, the fraction of seeds recovered per n and each seed's own recovery n; the same for
    the theory oracles (keys prefixed "oracle_")."""
    table = by_optimizer_and_n(configs, docs)
    out = {"test_loss": {name: {n: {"median": statistics.median(v), "min": min(v), "max": max(v), "seeds": v}
                                for n, v in sorted(per_n.items())} for name, per_n in table.items()}}
    out.update(_recovery(table))
    oracles = oracle_test_losses(configs, docs)
    if oracles:
        out["oracle_test_loss"] = oracles
        out.update({f"oracle_{key}": value for key, value in _recovery(oracles).items()})
    return out


SETTLED = 0.1  # a cell has settled when its logged test loss fell by less than this fraction over the last fifth


def settled(doc: Dict) -> bool:
    """Whether a cell finished: it recovered (final_test_loss < RECOVERED), or the mean logged test
    loss over the last fifth of its steps is within SETTLED of the fifth before (an unrecovered
    cell still falling was stopped too early, and its n would be read too high)."""
    if final_test_loss(doc) < RECOVERED:
        return True
    steps = np.asarray(doc["history"]["step"], dtype=float)
    loss = np.array([np.nan if v is None else v for v in doc["history"]["test_loss"]], dtype=float)
    last, before = (steps > 0.8 * steps[-1]), (steps > 0.6 * steps[-1]) & (steps <= 0.8 * steps[-1])
    if not before.any() or not last.any():
        return False
    return bool(np.nanmean(loss[last]) >= (1 - SETTLED) * np.nanmean(loss[before]))


def sample_complexity_summary(configs, docs) -> Dict:
    """The table above; the claim, in two parts: Adam's median drops below RECOVERED at a smaller
    n than SGD's, and at every n at least as many seeds recover with Adam as with SGD. Under
    "recovery", recovery_table: both readings, fractions with intervals, half-recovery n with
    bootstrap intervals; under "settled", per optimizer how many cells finished (settled)."""
    out = sample_complexity_summary_table(configs, docs)
    adam, sgd = out["median_drop_n"]["adam"], out["median_drop_n"]["sgd"]
    adam_rate, sgd_rate = out["recovery_rate"]["adam"], out["recovery_rate"]["sgd"]
    out["claim_parts"] = {"adam_median_drops_at_smaller_n": adam is not None and (sgd is None or adam < sgd),
                          "adam_recovers_as_often_at_every_n": all(adam_rate[n] >= sgd_rate[n] for n in adam_rate)}
    out["claim_holds"] = all(out["claim_parts"].values())
    out["recovery"] = recovery_table(configs, docs)
    out["settled"] = {name: seed_fraction([settled(d) for c, d in zip(configs, docs) if measure_name(c.optimizer) == name])
                      for name in out["test_loss"]}
    if "oracle_test_loss" in out:
        out["where_min_l1_fails"] = where_min_l1_fails(out)
    return out


L1_FAILS = 0.3  # the min-ℓ1 interpolator "fails" a cell when its test loss is above this (well above RECOVERED)


def where_min_l1_fails(summary: Dict) -> Dict:
    """On the cells (n, seed) where the min-ℓ1 interpolator misses w* (test loss > L1_FAILS): how
    often SGD misses too (its bias) and how often Adam recovers (seed_fraction each)."""
    l1 = summary["oracle_test_loss"][next(k for k in ORACLES if "ℓ1" in k)]
    losses = summary["test_loss"]
    cells = [(n, seed) for n, per_seed in l1.items() for seed, loss in enumerate(per_seed) if loss > L1_FAILS]
    return {"sgd_fails": seed_fraction([losses["sgd"][n]["seeds"][seed] >= RECOVERED for n, seed in cells]),
            "adam_recovers": seed_fraction([losses["adam"][n]["seeds"][seed] < RECOVERED for n, seed in cells])}
