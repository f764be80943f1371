"""One-click Playground presets (partial settings over playground.DEFAULTS), each with what it
shows and what was measured across seeds with the same settings (not only the seed it opens)."""
from __future__ import annotations

from typing import Any, Dict

PRESETS: Dict[str, Dict[str, Any]] = {
    "Adam vs SGD on sparse regression": {
        "pg_task": "diag-net", "pg_opts": ["adam", "sgd"], "pg_dim": 100, "pg_samples": 12, "pg_sparsity": 3,
        "pg_noise": 0.5, "pg_steps": 60_000, "pg_adam_lr": 0.1, "pg_adam_beta2": 0.9, "pg_sgd_lr": 0.1,
        "pg_bc": False, "pg_seed": 2,
    },
    "Matrix factorization: Adam vs SGD": {
        "pg_task": "matrix-factorization", "pg_opts": ["adam", "sgd"], "pg_dim": 20, "pg_rank": 2, "pg_depth": 2,
        "pg_samples": 120, "pg_noise": 0.5, "pg_steps": 20_000, "pg_adam_lr": 0.01, "pg_adam_beta2": 0.999,
        "pg_sgd_lr": 0.3, "pg_bc": False, "pg_seed": 0,
    },
    "AdamE-λ dial": {
        "pg_task": "diag-net", "pg_opts": ["sgd", "adame", "adam"], "pg_dim": 100, "pg_samples": 12, "pg_seed": 2,
        "pg_sparsity": 3, "pg_steps": 60_000, "pg_adame_lam": 0.25, "pg_adame_lr": 0.03, "pg_adame_beta2": 0.991,
        "pg_adam_lr": 0.03, "pg_adam_beta2": 0.991, "pg_sgd_lr": 0.1, "pg_bc": False,
    },
}

# Measured in the classroom sweeps (python -m agmcore reproduce ..., docs/); shown under each button.
CAPTIONS: Dict[str, str] = {
    "Adam vs SGD on sparse regression": (
        "d = 100, n = 12, κ = 3, 6·10⁴ steps. Test loss at the mean iterate of the last quarter over seeds 0–9: "
        "Adam (η 0.1, β2 0.9) below 0.1 on 8 of 10 (0.006 on seed 2), SGD (η 0.1) on 4 of 10 (0.297 on seed 2, "
        "where the min-ℓ1 interpolator it heads for misses w* by 0.50). Adam's last iterate fluctuates at a "
        "floor ≈ 0.05 around that. Opens seed 2 (docs/sample-complexity.md)."),
    "Matrix factorization: Adam vs SGD": (
        "A rank-2 20×20 matrix from 120 entries, depth 2, 2·10⁴ steps. Held-out error over seeds 0, 1, 2: "
        "Adam (η 0.01, β2 0.999) 0.115, 0.009, 0.034; SGD (η 0.3) 0.280, 0.102, 0.189. Here Adam recovers the "
        "low-rank truth *better* at depth 2; set depth 3 to see it do worse (Adam 0.031, 0.0057, 0.0024 against "
        "SGD 0.0016, 0.0038, 0.0011), as the paper reports (docs/matrix-factorization.md)."),
    "AdamE-λ dial": (
        "AdamE-λ between SGD (λ → 0) and Adam (λ = ½) on the sparse race of the first preset (seed 2); move λ "
        "in the sidebar. Measured at n = 12, seeds 0, 1, 2: λ = 0.25 (η 0.03) 0.00001, 0.145, 0.007 — "
        "larger λ needs a smaller η (docs/adame-lambda.md)."),
}
