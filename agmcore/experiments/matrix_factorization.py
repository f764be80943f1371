"""4. Deep matrix factorization: Adam against SGD (and the other AGMs) under label noise.

The paper's setup is unknown (docs/science.md §3.2); this is our template: completion of a rank-r
m×m matrix W* from n observed entries with ±δ label noise, at depth 2 over the poster's horizon
(5·10⁶ steps, n below the truth's degrees of freedom) and at depth 3 (2·10⁴ steps). Every
optimizer is also measured on every other one's sharpness at the end points (endpoints.py). The
claim is judged per depth (docs/matrix-factorization.md).
"""
from __future__ import annotations

import statistics
from typing import Dict, List

from agmcore.analysis.endpoints import own_measure_wins, race_table
from agmcore.engine.config import MatrixFactorizationTask, RunConfig
from agmcore.experiments.common import holds_on_most, seed_fraction, sgd_and_agms, tail_over_steps
from agmcore.optimizers.family import REGISTRY
from agmcore.optimizers.naming import measure_name

# AGMs in the 2-scheme (1 − β2 = 10η²); Adam-mini's blocks are the rows of each 20×20 factor
MF_OPTIMIZERS = sgd_and_agms(0.3, ("adam", "rmsprop", "adam-mini", "adalayer", "adafactor", "shampoo"),
                             lr=0.01, beta2=0.999, bias_correction=False, eps=1e-6, block_size=20)
# those the compiled loop runs (Adafactor's factored moment and Shampoo stay on the torch path, ≈ 30×
# slower: too slow for the poster's horizon, docs/benchmarks.md)
MF_COMPILED = tuple(o for o in MF_OPTIMIZERS if REGISTRY[o.name].matrix_block is not None)
# One setting per depth. Depth 2 over the poster's horizon (5·10⁶ steps, log-spaced logging) at
# n = 60, below the truth's r(2m − r) = 76 degrees of freedom: the regime where Adam ended behind SGD on
# 8 of 10 seeds (docs/matrix-factorization.md); depth 3 at n = 120 and 2·10⁴ steps, where it did at once.
MATRIX_FACTORIZATION = {
    "classroom": dict(size=20, rank=2, settings=(
        dict(depth=2, samples=60, steps=5_000_000, log_points=400, optimizers=MF_COMPILED),
        dict(depth=3, samples=120, steps=20_000, log_every=500, optimizers=MF_OPTIMIZERS))),
    "paper": dict(size=100, rank=5, settings=tuple(
        dict(depth=depth, samples=3000, steps=1_000_000, log_every=10_000, optimizers=MF_OPTIMIZERS)
        for depth in (2, 3))),
}
SINGULAR_VALUES_OF = ("sgd", "adam")  # the runs whose singular values the figure draws (first seed)


# How often each part held at the classroom scale over seeds 0–2 (`agmcore reproduce matrix-factorization`,
# docs/matrix-factorization.md); tests/test_science.py re-checks them within binomial tolerance.
# Adam's error above SGD's at depth 3 and, over the poster's horizon at n = 60, at depth 2 (15 of 20 seeds
# in the scan); SGD lower on tr(H) at depth 2 only. {part: (held, seeds)}
MEASURED = {"depth 2: adam_worse": (3, 3), "depth 2: agms_lower_on_own_measure": (3, 3),
            "depth 2: sgd_lower_trace_H_than_adam": (3, 3), "depth 3: adam_worse": (3, 3),
            "depth 3: agms_lower_on_own_measure": (3, 3), "depth 3: sgd_lower_trace_H_than_adam": (0, 3)}


def matrix_factorization_cells(scale: str, seeds: int) -> List[RunConfig]:
    s = MATRIX_FACTORIZATION[scale]
    return [RunConfig(task=MatrixFactorizationTask(size=s["size"], rank=s["rank"], depth=d["depth"], samples=d["samples"]),
                      optimizer=opt, steps=d["steps"], log_every=d.get("log_every", 1),
                      log_points=d.get("log_points", 0), seed=seed)
            for d in s["settings"] for opt in d["optimizers"] for seed in range(seeds)]


def _one_depth(configs, docs) -> Dict:
    """The numbers and checks for the cells of one depth."""
    finals: Dict[str, Dict[str, List[float]]] = {}
    by_seed: Dict[int, Dict[str, float]] = {}
    for c, d in zip(configs, docs):
        row = finals.setdefault(measure_name(c.optimizer), {})
        row.setdefault("test_loss", []).append(tail_over_steps(d["history"], "test_loss"))
        for k in ("effective_rank", "trace_H", "trace_sqrt_diag_H", "nuclear_norm"):
            row.setdefault(k, []).append(d["final"][k])
        by_seed.setdefault(c.seed, {})[c.optimizer.name] = tail_over_steps(d["history"], "test_loss")
    table = race_table(configs, docs)
    wins = own_measure_wins(configs, table)
    adam_worse = {seed: t["adam"] > t["sgd"] for seed, t in sorted(by_seed.items())}
    fractions = {
        "adam_worse": seed_fraction(list(adam_worse.values())),
        "agms_lower_on_own_measure": seed_fraction([all(v for k, v in checks.items() if " than " not in k)
                                                    for checks in wins.values()]),
        "sgd_lower_trace_H_than_adam": seed_fraction([checks["sgd lower on sgd's measure than adam"]
                                                      for checks in wins.values()]),
    }
    return {
        "finals": finals,
        "medians": {name: {k: statistics.median(v) for k, v in row.items()} for name, row in finals.items()},
        "measures_at_end": {f"{measure_name(c.optimizer)} seed {c.seed}": table[c.key] for c in configs},
        "adam_test_error_above_sgd": adam_worse,
        "own_measure_checks": wins,
        "fractions": fractions,
        "parts": {k: holds_on_most(v) for k, v in fractions.items()},
    }


def matrix_factorization_summary(configs, docs) -> Dict:
    """Per depth: per optimizer over seeds the final test error (the mean over the logging points
    in the last 10 % of the steps), effective rank, tr(H), tr(Diag(H)^½); every optimizer's measure at every end point;
    the checks. The claim: Adam's final test error is above SGD's, every AGM ends lower than SGD on
    its own tr(S·H) and SGD lower than Adam on tr(H); each part is a fraction over seeds
    (common.seed_fraction) and holds on most seeds, judged per depth."""
    depths = sorted({c.task.depth for c in configs})
    out = {}
    for depth in depths:
        pairs = [(c, d) for c, d in zip(configs, docs) if c.task.depth == depth]
        out[f"depth {depth}"] = _one_depth([c for c, _ in pairs], [d for _, d in pairs])
    parts = {f"depth {depth}: {k}": v for depth in depths for k, v in out[f"depth {depth}"]["parts"].items()}
    fractions = {f"depth {depth}: {k}": v for depth in depths for k, v in out[f"depth {depth}"]["fractions"].items()}
    return {"by_depth": out, "claim_parts": parts, "claim_fractions": fractions, "claim_holds": all(parts.values())}
