"""One-click Playground presets (partial settings over playground.DEFAULTS)."""
from __future__ import annotations

from typing import Any, Dict

PRESETS: Dict[str, Dict[str, Any]] = {
    "Adam vs SGD on sparse regression": {
        "pg_task": "diag-net", "pg_opts": ["adam", "sgd"], "pg_dim": 100, "pg_samples": 15, "pg_sparsity": 3,
        "pg_noise": 0.5, "pg_steps": 100_000, "pg_adam_lr": 0.1, "pg_adam_beta2": 0.95, "pg_sgd_lr": 0.04,
        "pg_bc": False,
    },
    "Where Adam hurts: matrix factorization": {
        "pg_task": "matrix-factorization", "pg_opts": ["adam", "sgd"], "pg_dim": 10, "pg_rank": 1, "pg_depth": 2,
        "pg_samples": 40, "pg_noise": 0.5, "pg_steps": 50_000, "pg_adam_lr": 0.01, "pg_adam_beta2": 0.999,
        "pg_sgd_lr": 0.1, "pg_bc": False,
    },
    "AdamE-λ dial": {
        "pg_task": "diag-net", "pg_opts": ["sgd", "adame", "adam"], "pg_dim": 100, "pg_samples": 15,
        "pg_sparsity": 3, "pg_steps": 100_000, "pg_adame_lam": 0.25, "pg_adame_lr": 0.1, "pg_adame_beta2": 0.95,
        "pg_adam_lr": 0.1, "pg_adam_beta2": 0.95, "pg_sgd_lr": 0.04, "pg_bc": False,
    },
}
