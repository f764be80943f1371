"""4. Deep matrix factorization: Adam against SGD (and the other AGMs) under label noise.

The paper's setup is unknown (docs/science.md §3.2); this is our template: completion of a rank-r
m×m matrix W* from n observed entries with depth-L factorizations (L = 2 and 3) and ±δ label
noise. Every optimizer is also measured on every other one's sharpness at the end points
(endpoints.py). The claim is judged per depth (docs/matrix-factorization.md).
"""
from __future__ import annotations

import statistics
from typing import Dict, List

from agmcore.analysis.endpoints import own_measure_wins, race_table
from agmcore.engine.config import MatrixFactorizationTask, RunConfig
from agmcore.experiments.common import holds_on_most, seed_fraction, sgd_and_agms, tail_mean
from agmcore.optimizers.naming import measure_name

MATRIX_FACTORIZATION = {
    "classroom": dict(size=20, rank=2, depths=(2, 3), samples=120, steps=20_000, log_every=500),
    "paper": dict(size=100, rank=5, depths=(2, 3), samples=3000, steps=1_000_000, log_every=10_000),
}
# AGMs in the 2-scheme (1 − β2 = 10η²); Adam-mini's blocks are the rows of each 20×20 factor
MF_OPTIMIZERS = sgd_and_agms(0.3, ("adam", "rmsprop", "adam-mini", "adalayer", "adafactor", "shampoo"),
                             lr=0.01, beta2=0.999, bias_correction=False, eps=1e-6, block_size=20)
SINGULAR_VALUES_OF = ("sgd", "adam")  # the runs whose singular values the figure draws (first seed)


# How often each part held at the classroom scale over seeds 0–2 (`agmcore reproduce matrix-factorization`,
# docs/matrix-factorization.md); tests/test_science.py re-checks them within binomial tolerance.
# Depth 3 shows the paper's claim (Adam's error above SGD's); depth 2 the reverse. {part: (held, seeds)}
MEASURED = {"depth 2: adam_worse": (0, 3), "depth 2: agms_lower_on_own_measure": (3, 3),
            "depth 2: sgd_lower_trace_H_than_adam": (3, 3), "depth 3: adam_worse": (3, 3),
            "depth 3: agms_lower_on_own_measure": (3, 3), "depth 3: sgd_lower_trace_H_than_adam": (0, 3)}


def matrix_factorization_cells(scale: str, seeds: int) -> List[RunConfig]:
    s = MATRIX_FACTORIZATION[scale]
    return [RunConfig(task=MatrixFactorizationTask(size=s["size"], rank=s["rank"], depth=depth, samples=s["samples"]),
                      optimizer=opt, steps=s["steps"], log_every=s["log_every"], seed=seed)
            for depth in s["depths"] for opt in MF_OPTIMIZERS for seed in range(seeds)]


def _one_depth(configs, docs) -> Dict:
    """The numbers and checks for the cells of one depth."""
    finals: Dict[str, Dict[str, List[float]]] = {}
    by_seed: Dict[int, Dict[str, float]] = {}
    for c, d in zip(configs, docs):
        row = finals.setdefault(measure_name(c.optimizer), {})
        row.setdefault("test_loss", []).append(tail_mean(d["history"]["test_loss"]))
        for k in ("effective_rank", "trace_H", "trace_sqrt_diag_H", "nuclear_norm"):
            row.setdefault(k, []).append(d["final"][k])
        by_seed.setdefault(c.seed, {})[c.optimizer.name] = tail_mean(d["history"]["test_loss"])
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
    """Per depth: per optimizer over seeds the final test error (mean of the last 10 % of the
    log), effective rank, tr(H), tr(Diag(H)^½); every optimizer's measure at every end point;
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
