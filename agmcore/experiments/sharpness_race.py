"""2. The sharpness race: SGD, Adam and the other AGMs on the same data (diagonal network).

The claim is in two parts, each checked per seed: SGD ends with the lower tr(H) and ‖w‖₁ at
Φ(θ̄); Adam ends with the lower tr(Diag(H)^½) and Σ|w|^½ at Φ(θ̄). Each part is the fraction of
the seeds where the two oracles differ (where they coincide both limits are the same point and the
data cannot separate the biases) on which it held, with a Wilson interval; it holds when it held
on most of them (common.holds_on_most). A third part is measured and shown but is not part of the
claim: SGD ends nearer the min-ℓ1 interpolator and Adam nearer the min-ℓ^½ one. At this scale it
holds on about half the seeds, so whether it held "on most" depends on the machine's round-off
(docs/sharpness-race.md). The checks of every seed are reported too. Every optimizer is also
measured on every other one's implied sharpness tr(S·H) (endpoints.py). θ̄ is the mean of θ over
the last quarter of the run: an adaptive method keeps every near-zero coordinate moving by ≈ η
per step, a fluctuation the η → 0 theory does not see; averaging the iterate removes it
(docs/sharpness-race.md measures both).
"""
from __future__ import annotations

from typing import Dict, List

import numpy as np

from agmcore.analysis.endpoints import own_measure_wins, race_table
from agmcore.engine.config import DiagNetTask, RunConfig
from agmcore.experiments.common import TAIL_AVERAGE, holds_on_most, seed_fraction, sgd_and_agms
from agmcore.optimizers.naming import measure_name

SHARPNESS_RACE = {
    "classroom": dict(dim=100, samples=12, sparsity=3, steps=100_000, log_every=2_500),
    "paper": dict(dim=10_000, samples=420, sparsity=150, steps=5_000_000, log_every=50_000),  # κ: sample_complexity
}
# AGMs in the 2-scheme (1 − β2 = 10η²); Adafactor equals Adam on vectors, Shampoo's measure needs
# the full Hessian (sharpness.implied_sharpness), so neither joins this race
RACE_OPTIMIZERS = sgd_and_agms(0.1, ("adam", "rmsprop", "adam-mini", "adalayer"),
                               lr=0.03, beta2=0.991, bias_correction=False, eps=1e-6, block_size=10)
RACE_MEASURES = ("trace_H", "trace_sqrt_diag_H", "l1", "l_half")
RACE_SEEDS = 30  # the default: each part of the claim is a fraction over the seeds
# How often each part held at the classroom scale over seeds 0–29 (20 of them separate the oracles),
# measured by `agmcore reproduce sharpness-race` on an AMD EPYC (numba's znver5); tests/test_science.py
# re-checks them within binomial tolerance and docs/sharpness-race.md shows them, with the same
# seeds compiled for other instruction sets. {part: (held, seeds)}
MEASURED = {"sgd_measures": (20, 20), "adam_measures": (16, 20), "oracles": (10, 20),
            "adalayer lower on adalayer's measure": (16, 20), "adam lower on adam's measure": (16, 20),
            "adam-mini lower on adam-mini's measure": (16, 20), "rmsprop lower on rmsprop's measure": (19, 20)}
CLAIMED = ("sgd_measures", "adam_measures")  # the parts of the claim; "oracles" is measured, not claimed
ORACLES_DIFFER = 1e-3  # ‖w₁ − w½‖ above this: the two oracles are different interpolators


def sharpness_race_cells(scale: str, seeds: int) -> List[RunConfig]:
    s = SHARPNESS_RACE[scale]
    task = DiagNetTask(dim=s["dim"], samples=s["samples"], sparsity=s["sparsity"])
    return [RunConfig(task=task, optimizer=opt, steps=s["steps"], log_every=s["log_every"], seed=seed,
                      manifold_metrics=True, oracle_metrics=True, tail_average=TAIL_AVERAGE)
            for opt in RACE_OPTIMIZERS for seed in range(seeds)]


def _oracles_differ(doc: Dict) -> bool:
    return float(np.linalg.norm(np.subtract(doc["w_l1_oracle"], doc["w_lhalf_oracle"]))) > ORACLES_DIFFER


def sharpness_race_summary(configs, docs) -> Dict:
    """Final measures at Φ(θ_T) and oracle distances per seed and optimizer; the three parts of
    the claim per seed (SGD against Adam); every AGM against SGD on its own measure."""
    per_seed: Dict[int, Dict[str, Dict]] = {}
    differ: Dict[int, bool] = {}
    for c, d in zip(configs, docs):
        per_seed.setdefault(c.seed, {})[measure_name(c.optimizer)] = d["final"]
        differ[c.seed] = _oracles_differ(d)
    averaged = all(c.tail_average for c in configs)
    at = "_avg_proj" if averaged else "_proj"  # Φ(θ̄) when the cells averaged, else Φ(θ_T)
    near = "_avg" if averaged else ""
    checks = []
    for seed, finals in sorted(per_seed.items()):
        sgd, adam = finals["sgd"], finals["adam"]
        check = {
            "seed": seed,
            "oracles_differ": differ[seed],
            "sgd_lower_trace_H": sgd["trace_H" + at] < adam["trace_H" + at],
            "sgd_lower_l1": sgd["l1" + at] < adam["l1" + at],
            "adam_lower_trace_sqrt_diag_H": adam["trace_sqrt_diag_H" + at] < sgd["trace_sqrt_diag_H" + at],
            "adam_lower_l_half": adam["l_half" + at] < sgd["l_half" + at],
        }
        if differ[seed]:
            check["sgd_nearer_l1_oracle"] = sgd["dist_l1_oracle" + near] < adam["dist_l1_oracle" + near]
            check["adam_nearer_lhalf_oracle"] = adam["dist_lhalf_oracle" + near] < sgd["dist_lhalf_oracle" + near]
        checks.append(check)
    keep = tuple(m + suffix for m in RACE_MEASURES for suffix in ("", "_proj", "_avg", "_avg_proj")) + tuple(
        m + suffix for m in ("test_loss", "dist_l1_oracle", "dist_lhalf_oracle") for suffix in ("", "_avg")) + (
        "implied_sharpness",)
    finals = {str(seed): {name: {k: f.get(k) for k in keep} for name, f in v.items()} for seed, v in per_seed.items()}
    # the theory predicts different end points only where the oracles differ: judged on those seeds
    separating = [c for c in checks if c["oracles_differ"]]
    fractions = {
        "sgd_measures": seed_fraction([c["sgd_lower_trace_H"] and c["sgd_lower_l1"] for c in separating]),
        "adam_measures": seed_fraction([c["adam_lower_trace_sqrt_diag_H"] and c["adam_lower_l_half"]
                                        for c in separating]),
        "oracles": seed_fraction([c["sgd_nearer_l1_oracle"] and c["adam_nearer_lhalf_oracle"] for c in separating]),
    }
    wins = own_measure_wins(configs, race_table(configs, docs, projected=True, averaged=averaged))
    agms = sorted({k for checks in wins.values() for k in checks if " than " not in k})
    own = {check: seed_fraction([wins[c["seed"]][check] for c in separating]) for check in agms}
    parts = {k: holds_on_most(fractions[k]) for k in CLAIMED}
    return {"finals": finals, "checks": checks, "claim_parts": parts, "claim_fractions": fractions,
            "own_measure_fractions": own, "measured_at": "Φ(θ̄)" if averaged else "Φ(θ_T)",
            "own_measure_checks": wins, "claim_holds": all(parts.values())}
