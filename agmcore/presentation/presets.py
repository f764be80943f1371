"""One-click Playground presets (partial settings over playground.DEFAULTS), each with what it
shows and what was measured across seeds with the same settings (not only the seed it opens)."""
from __future__ import annotations

from typing import Any, Dict

from agmcore.analysis.race_claims import CLAIMS, wilson_interval

PRESETS: Dict[str, Dict[str, Any]] = {
    "Adam vs SGD on sparse regression": {
        "pg_task": "diag-net", "pg_opts": ["adam", "sgd"], "pg_dim": 100, "pg_samples": 15, "pg_sparsity": 5,
        "pg_noise": 0.5, "pg_steps": 100_000, "pg_adam_lr": 0.1, "pg_adam_beta2": 0.9, "pg_sgd_lr": 0.1,
        "pg_bc": False, "pg_seed": 0,
    },
    "Matrix factorization: Adam vs SGD": {
        "pg_task": "matrix-factorization", "pg_opts": ["adam", "sgd"], "pg_dim": 20, "pg_rank": 2, "pg_depth": 2,
        "pg_samples": 120, "pg_noise": 0.5, "pg_steps": 20_000, "pg_adam_lr": 0.01, "pg_adam_beta2": 0.999,
        "pg_sgd_lr": 0.3, "pg_bc": False, "pg_seed": 0,
    },
    "Matrix factorization over the poster's horizon": {
        "pg_task": "matrix-factorization", "pg_opts": ["adam", "sgd"], "pg_dim": 20, "pg_rank": 2, "pg_depth": 2,
        "pg_samples": 60, "pg_noise": 0.5, "pg_steps": 5_000_000, "pg_adam_lr": 0.01, "pg_adam_beta2": 0.999,
        "pg_sgd_lr": 0.3, "pg_bc": False, "pg_seed": 0,
    },
    "AdamE-λ dial": {
        "pg_task": "diag-net", "pg_opts": ["sgd", "adame", "adam"], "pg_dim": 100, "pg_samples": 12, "pg_seed": 2,
        "pg_sparsity": 3, "pg_steps": 60_000, "pg_adame_lam": 0.25, "pg_adame_lr": 0.03, "pg_adame_beta2": 0.991,
        "pg_adam_lr": 0.03, "pg_adam_beta2": 0.991, "pg_sgd_lr": 0.1, "pg_bc": False,
    },
}

# How often each claim held over seeds at each preset's settings (agmcore.analysis.race_claims, read at the
# denoised iterate), measured by `PYTHONPATH=. python docs/calibration/preset_claims.py --preset NAME
# --seeds 0-19` (0-9 for matrix factorization, the slow ones; the poster's horizon as 0-4 and 5-9 in two processes); tests/test_presets.py re-checks them within binomial
# tolerance. {claim: (held, seeds)}.
MEASURED: Dict[str, Dict[str, tuple]] = {
    "Adam vs SGD on sparse regression": {"adam_lower_test_loss": (17, 20), "adam_lower_own_measures": (16, 20),
                                         "sgd_lower_own_measures": (18, 20), "sgd_settled": (20, 20),
                                         "all_at_once": (13, 20)},
    "Matrix factorization: Adam vs SGD": {"adam_lower_test_loss": (10, 10), "sgd_settled": (10, 10),
                                          "all_at_once": (10, 10)},
    "Matrix factorization over the poster's horizon": {"adam_lower_test_loss": (4, 10), "sgd_settled": (10, 10),
                                                       "all_at_once": (4, 10)},
    "AdamE-λ dial": {"adam_lower_test_loss": (15, 20), "adam_lower_own_measures": (13, 20),
                     "sgd_lower_own_measures": (17, 20), "sgd_settled": (20, 20), "all_at_once": (9, 20)},
}

# What each preset shows, beside the measured fractions (caption() joins them).
STORIES: Dict[str, str] = {
    "Adam vs SGD on sparse regression": (
        "d = 100, κ = 5, n = 15, 10⁵ steps, Adam η 0.1 β2 0.9 (the 2-scheme) against SGD η 0.1: the Playground's "
        "default, the sample-complexity experiment's regime at an n between Adam's and SGD's half-recovery n "
        "(13 and 20; docs/regime-scan.md). Opens seed 0, where every claim holds at once."),
    "Matrix factorization: Adam vs SGD": (
        "A rank-2 20×20 matrix from 120 entries, depth 2, 2·10⁴ steps, Adam η 0.01 β2 0.999 against SGD η 0.3. "
        "Here Adam recovers the low-rank truth *better* at depth 2, unlike the paper; set depth 3 to see it do "
        "worse (docs/matrix-factorization.md), or open the next preset: the poster's horizon."),
    "Matrix factorization over the poster's horizon": (
        "The same race from 60 entries, below the truth's 76 degrees of freedom, over 5·10⁶ steps logged in log "
        "time (pick the x-axis step t (log), as the poster draws it): Adam's held-out error stops falling after "
        "≈ 10⁴ steps while SGD's keeps falling until ≈ 2·10⁶, so Adam ends behind, by ≈ 10 % in the median, "
        "on 15 of 20 seeds with ε 10⁻⁶ (docs/matrix-factorization.md) and on 6 of 10 with this race's ε 10⁻⁸. A run "
        "takes about a minute here."),
    "AdamE-λ dial": (
        "AdamE-λ (λ = 0.25, η 0.03) between SGD (λ → 0) and Adam (λ = ½) on the sparse race (seed 2); move λ "
        "in the sidebar: larger λ needs a smaller η (docs/adame-lambda.md). The fractions are Adam's against "
        "SGD's in this race."),
}


def caption(name: str) -> str:
    """The preset's story and, per claim, the seeds on which it held with a 95 % Wilson interval."""
    parts = []
    for claim, (held, seeds) in MEASURED[name].items():
        low, high = wilson_interval(held, seeds)
        parts.append(f"{CLAIMS[claim]}: {held}/{seeds} ({low:.2f}–{high:.2f})")
    return f"{STORIES[name]} Over seeds 0–{max(s for _, s in MEASURED[name].values()) - 1}, at the denoised " \
           f"iterate: " + "; ".join(parts) + "."
