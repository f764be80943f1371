"""Playground settings (flat, URL-friendly values) <-> the race of RunConfigs they describe.

Keys are the Playground's widget keys, which double as URL query parameters:
  pg_task, pg_opts (list of optimizer names), pg_dim, pg_samples, pg_sparsity, pg_rank,
  pg_depth, pg_noise, pg_init, pg_steps, pg_seed, pg_bc, pg_proj, and per optimizer o
  (with '-' written '_'): pg_<o>_lr, pg_<o>_beta1, pg_<o>_beta2, pg_<o>_2scheme; pg_adame_lam.
Every optimizer of a race runs on the same data, init and label-noise stream (one seed).
"""
from __future__ import annotations

from typing import Any, Dict, List, Sequence
from urllib.parse import urlencode

from .config import ConfigError, DiagNetTask, MatrixFactorizationTask, OptimizerConfig, RunConfig
from .family import OPTIMIZER_NAMES, two_scheme_beta2

TASK_NAMES = ("diag-net", "matrix-factorization")
POINTS_PER_RUN = 400  # logged points a Playground run aims for

# What a fresh Playground shows: n between Adam's and SGD's recovery thresholds, SGD finished, so the
# race shows the paper's three claims at once on the panels that name them (docs/denoising.md,
# "The default race"; the Home page states how often each holds over seeds).
OPTIMIZER_DEFAULTS = {
    "sgd": {"lr": 0.1, "beta1": 0.0, "beta2": 0.999},
    "rmsprop": {"lr": 0.01, "beta1": 0.0, "beta2": 0.95},
    "adam": {"lr": 0.03, "beta1": 0.9, "beta2": 0.991},
    "adame": {"lr": 0.1, "beta1": 0.9, "beta2": 0.95},
    "adam-mini": {"lr": 0.1, "beta1": 0.9, "beta2": 0.95},
    "adalayer": {"lr": 0.1, "beta1": 0.9, "beta2": 0.95},
    "adafactor": {"lr": 0.1, "beta1": 0.9, "beta2": 0.95},
    "shampoo": {"lr": 0.05, "beta1": 0.9, "beta2": 0.95},
}
DEFAULTS: Dict[str, Any] = {
    "pg_task": "diag-net", "pg_opts": ["adam", "sgd"], "pg_dim": 100, "pg_samples": 12, "pg_sparsity": 3,
    "pg_rank": 2, "pg_depth": 2, "pg_noise": 0.5, "pg_init": 0.1, "pg_steps": 60_000, "pg_seed": 2,
    "pg_bc": False, "pg_proj": False, "pg_adame_lam": 0.25,
}
for _name, _values in OPTIMIZER_DEFAULTS.items():
    for _k, _v in _values.items():
        DEFAULTS[f"pg_{_name.replace('-', '_')}_{_k}"] = _v
    DEFAULTS[f"pg_{_name.replace('-', '_')}_2scheme"] = False


def key_of(optimizer: str, field: str) -> str:
    """The settings key of one optimizer's field, e.g. key_of('adam-mini', 'lr') = 'pg_adam_mini_lr'."""
    return f"pg_{optimizer.replace('-', '_')}_{field}"


def log_every_for(steps: int) -> int:
    return max(1, steps // POINTS_PER_RUN)


def build_race(settings: Dict[str, Any]) -> List[RunConfig]:
    """The RunConfigs a Playground describes; a ConfigError names the bad setting."""
    s = {**DEFAULTS, **settings}
    if s["pg_task"] not in TASK_NAMES:
        raise ConfigError(f"unknown task {s['pg_task']!r}")
    names = list(dict.fromkeys(s["pg_opts"]))
    if not names:
        raise ConfigError("pick at least one optimizer to race")
    unknown = [n for n in names if n not in OPTIMIZER_NAMES]
    if unknown:
        raise ConfigError(f"unknown optimizer {unknown[0]!r}")
    if s["pg_task"] == "diag-net":
        task = DiagNetTask(dim=s["pg_dim"], samples=s["pg_samples"], sparsity=s["pg_sparsity"],
                           label_noise=s["pg_noise"], init_scale=s["pg_init"])
    else:
        task = MatrixFactorizationTask(size=s["pg_dim"], rank=s["pg_rank"], depth=s["pg_depth"],
                                       samples=s["pg_samples"], label_noise=s["pg_noise"], init_scale=s["pg_init"])
    configs = []
    for name in names:
        lr = s[key_of(name, "lr")]
        beta2 = two_scheme_beta2(lr) if s[key_of(name, "2scheme")] else s[key_of(name, "beta2")]
        optimizer = OptimizerConfig(name=name, lr=lr, beta1=s[key_of(name, "beta1")], beta2=beta2,
                                    lam=s["pg_adame_lam"] if name == "adame" else 0.5,
                                    bias_correction=None if name == "rmsprop" else bool(s["pg_bc"]))
        configs.append(RunConfig(task=task, optimizer=optimizer, steps=s["pg_steps"],
                                 log_every=log_every_for(s["pg_steps"]), seed=s["pg_seed"],
                                 manifold_metrics=bool(s["pg_proj"])))
    return configs


def settings_of(configs: Sequence[RunConfig]) -> Dict[str, Any]:
    """The Playground settings that rebuild `configs` (for "open in Playground")."""
    first = configs[0]
    task = first.task
    s: Dict[str, Any] = {"pg_task": task.name, "pg_opts": [c.optimizer.name for c in configs],
                         "pg_samples": task.samples, "pg_noise": task.label_noise, "pg_init": task.init_scale,
                         "pg_steps": first.steps, "pg_seed": first.seed, "pg_proj": first.manifold_metrics,
                         "pg_bc": any(c.optimizer.bias_correction for c in configs if c.optimizer.name != "rmsprop")}
    if task.name == "diag-net":
        s.update(pg_dim=task.dim, pg_sparsity=task.sparsity)
    else:
        s.update(pg_dim=task.size, pg_rank=task.rank, pg_depth=task.depth)
    for c in configs:
        o = c.optimizer
        s.update({key_of(o.name, "lr"): o.lr, key_of(o.name, "beta1"): o.beta1, key_of(o.name, "beta2"): o.beta2})
        if o.name == "adame":
            s["pg_adame_lam"] = o.lam
    return s


def url_params(settings: Dict[str, Any]) -> Dict[str, Any]:
    """Query parameters for settings that differ from the defaults, in Streamlit's URL format
    (booleans as true/false, lists as repeated keys)."""
    def text(v):
        return str(v).lower() if isinstance(v, bool) else str(v)

    return {k: [text(i) for i in v] if isinstance(v, list) else text(v)
            for k, v in settings.items() if DEFAULTS.get(k) != v}


def query_string(settings: Dict[str, Any]) -> str:
    """`url_params` as a query string."""
    return urlencode(url_params(settings), doseq=True)
