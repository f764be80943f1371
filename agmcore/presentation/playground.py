"""Playground settings (flat, URL-friendly values) <-> the race of RunConfigs they describe.

Keys are the Playground's widget keys, which double as URL query parameters:
  pg_task, pg_opts (list of optimizer names), pg_dim, pg_samples, pg_sparsity, pg_rank,
  pg_depth, pg_noise, pg_init, pg_tied, pg_steps, pg_seed, pg_bc, pg_proj, and per optimizer o
  (with '-' written '_'): pg_<o>_lr, pg_<o>_beta1, pg_<o>_beta2, pg_<o>_2scheme; pg_adame_lam.
Every optimizer of a race runs on the same data, init and label-noise stream (one seed).
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Sequence
from urllib.parse import urlencode

from agmcore.engine.config import ConfigError, OptimizerConfig, RunConfig
from agmcore.optimizers.family import OPTIMIZER_NAMES, REGISTRY, two_scheme_beta2
from agmcore.problems.descriptors import TASK_NAMES, TASKS, descriptor_of

# each task knob's settings key (problems/descriptors.py: TaskDescriptor.knobs); the size of either task is pg_dim
TASK_KEYS = {"dim": "pg_dim", "size": "pg_dim", "samples": "pg_samples", "sparsity": "pg_sparsity", "rank": "pg_rank",
             "depth": "pg_depth", "label_noise": "pg_noise", "init_scale": "pg_init", "init": "pg_tied"}
# a knob whose Playground value is not the setting's: (to the setting, from it)
CONVERSIONS = {"init": (lambda tied: "tied" if tied else "independent", lambda init: init == "tied")}
POINTS_PER_RUN = 400  # logged points a Playground run aims for
LOG_TIME_FROM = 1_000_000  # runs of this many steps or more log at log-spaced steps (config.log_schedule)


def key_of(optimizer: str, field: str) -> str:
    """The settings key of one optimizer's field, e.g. key_of('adam-mini', 'lr') = 'pg_adam_mini_lr'."""
    return f"pg_{optimizer.replace('-', '_')}_{field}"


# What a fresh Playground shows: n between Adam's and SGD's recovery thresholds, SGD finished, so the
# race shows the paper's three claims at once on the panels that name them (docs/denoising.md,
# "The default race"; the Home page states how often each holds over seeds).
OPTIMIZER_DEFAULTS = {name: member.defaults for name, member in REGISTRY.items()}  # family.REGISTRY
DEFAULTS: Dict[str, Any] = {
    "pg_task": "diag-net", "pg_opts": ["adam", "sgd"], "pg_dim": 100, "pg_samples": 15, "pg_sparsity": 5,
    "pg_rank": 2, "pg_depth": 2, "pg_noise": 0.5, "pg_init": 0.1, "pg_tied": True, "pg_steps": 100_000, "pg_seed": 0,
    "pg_bc": False, "pg_proj": False,
}
LAM = 0.25  # λ of a member with λ free (AdamE): between SGD's bias (λ → 0) and Adam's (½)
for _name, _values in OPTIMIZER_DEFAULTS.items():
    for _k, _v in _values.items():
        DEFAULTS[key_of(_name, _k)] = _v
    DEFAULTS[key_of(_name, "2scheme")] = False
    if REGISTRY[_name].lam_free:
        DEFAULTS[key_of(_name, "lam")] = LAM


# The range each numeric setting may take: the Playground's widgets and the URL check read it.
BOUNDS: Dict[str, tuple] = {
    "pg_dim": (2, 20_000), "pg_samples": (1, 100_000), "pg_sparsity": (1, 1000), "pg_rank": (1, 50),
    "pg_depth": (1, 5), "pg_noise": (0.0, 10.0), "pg_init": (1e-4, 10.0), "pg_steps": (100, 10_000_000),
    "pg_seed": (0, 10**6),
}
OPTIMIZER_BOUNDS = {"lr": (1e-6, 10.0), "beta1": (0.0, 0.999), "beta2": (0.0, 0.999999), "lam": (0.0, 1.0)}
for _name in OPTIMIZER_DEFAULTS:
    for _field, _range in OPTIMIZER_BOUNDS.items():
        if _field != "lam" or REGISTRY[_name].lam_free:
            BOUNDS[key_of(_name, _field)] = _range


def _one_two_five(low: float, high: float) -> List[float]:
    """1, 2, 5 times each power of ten in [low, high]: a log scale people read."""
    values = [float(f"{m}e{e}") for e in range(-8, 9) for m in (1, 2, 5)]
    return [v for v in values if low <= v <= high]


def _whole(values) -> List[int]:
    return sorted({int(v) for v in values})


# The values each Playground slider offers: log-spaced where a knob is explored by its magnitude
# (η, 1 − β1, 1 − β2, δ, α, d, steps), every whole number where small ones matter (n, κ, r, L).
# A setting off these values (typed, or from a URL) is added to its slider (slider_values).
STEPS_OF_ONE_MINUS = (0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 5e-4, 2e-4, 1e-4, 5e-5, 2e-5, 1e-5,
                      5e-6, 2e-6, 1e-6)
OPTIMIZER_SCALES = {
    "lr": _one_two_five(1e-5, 10.0),
    "beta1": [0.0] + [float(f"{1 - x:.10g}") for x in STEPS_OF_ONE_MINUS[:9]],
    "beta2": [float(f"{1 - x:.10g}") for x in STEPS_OF_ONE_MINUS],
}
SCALES: Dict[str, list] = {
    "pg_dim": _whole(_one_two_five(2, 20_000)),
    "pg_samples": list(range(1, 51)) + [60, 80, 100, 120, 150, 200, 300, 400, 500, 800, 1000, 2000, 5000, 10_000,
                                        20_000, 50_000, 100_000],
    "pg_sparsity": list(range(1, 21)) + [25, 30, 40, 50, 100, 200, 500, 1000],
    "pg_rank": list(range(1, 11)) + [12, 15, 20, 30, 40, 50],
    "pg_depth": [1, 2, 3, 4, 5],
    "pg_noise": [0.0] + _one_two_five(0.01, 10.0),
    "pg_init": _one_two_five(1e-4, 10.0),
    "pg_steps": _whole(_one_two_five(100, 10_000_000)),
}
for _name in OPTIMIZER_DEFAULTS:
    for _field, _values in OPTIMIZER_SCALES.items():
        SCALES[key_of(_name, _field)] = list(_values)


def slider_values(key: str, current) -> list:
    """The values the slider of setting `key` offers: its scale, plus `current` (and the default)
    where they are off it."""
    return sorted(set(SCALES[key]) | {current, DEFAULTS[key]})


def slider_text(value) -> str:
    """How a slider writes a value, in the URL too: exact (the shortest text that reads back as the
    same float), 0.1 · 1e-05 · 0.999 · 100000."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else repr(float(value))


def url_value(key: str, values: List[str]):
    """The setting `key` from its URL text(s), or ValueError saying what it must be."""
    default = DEFAULTS[key]
    if isinstance(default, list):
        unknown = [v for v in values if v not in OPTIMIZER_NAMES]
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not an optimizer ({', '.join(OPTIMIZER_NAMES)})")
        return values
    text = values[-1]
    if isinstance(default, bool):
        if text.lower() not in ("true", "false"):
            raise ValueError("is not true or false")
        return text.lower() == "true"
    if isinstance(default, str):
        if text not in TASK_NAMES:
            raise ValueError(f"is not a task ({', '.join(TASK_NAMES)})")
        return text
    low, high = BOUNDS[key]
    whole = isinstance(default, int)
    bounds = f"{low:,} and {high:,}" if whole else f"{low:g} and {high:g}"
    problem = ValueError(f"is not {'a whole number' if whole else 'a number'} between {bounds}")
    if whole and not re.fullmatch(r"[+-]?\d{1,18}", text.strip()):
        raise problem
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        raise problem from None
    if not (low <= value <= high):  # NaN and ±inf fail here too
        raise problem
    return value


def _shown(value) -> str:
    """A setting's value as a notice writes it: 60,000 · 0.03 · false · adam, sgd."""
    if isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, bool) or isinstance(value, str):
        return str(value).lower()
    return f"{value:,}"


def check_url(params: Dict[str, List[str]]) -> Dict[str, str]:
    """The Playground settings in a URL (key -> its values) that are not valid, each with a notice
    naming the parameter, the value given and the value used instead (the default). The caller
    drops those parameters before the widgets read the URL."""
    notices = {}
    for key, values in params.items():
        if key not in DEFAULTS or not values:
            continue
        try:
            url_value(key, values)
        except ValueError as e:
            given = " ".join(values) if len(" ".join(values)) <= 40 else " ".join(values)[:37] + "…"
            notices[key] = f"URL parameter {key}={given} {e}: using {_shown(DEFAULTS[key])}"
    return notices


SYMBOLS = {"lr": "η", "beta1": "β1", "beta2": "β2", "lam": "λ", "2scheme": "2-scheme"}
# each optimizer setting's key -> (the optimizer, the field's symbol)
OPTIMIZER_KEYS = {key_of(name, field): (name, symbol)
                  for name in OPTIMIZER_DEFAULTS for field, symbol in SYMBOLS.items() if key_of(name, field) in DEFAULTS}
RUN_LABELS = {"pg_steps": "steps", "pg_seed": "seed", "pg_bc": "bias correction", "pg_proj": "Φ(θ_t) measured",
              "pg_opts": "optimizers", "pg_task": "task"}


def setting_changes(before: Dict[str, Any], after: Dict[str, Any]) -> List[str]:
    """What differs between two Playground settings, as a page says it: 'Adam β2 0.9 → 0.95'.
    Only settings the race after the change uses are named (not an optimizer that is not racing,
    not the other task's knobs)."""
    b, a = {**DEFAULTS, **before}, {**DEFAULTS, **after}
    described = TASKS[a["pg_task"]]
    task_labels = {TASK_KEYS[field]: described.knob_labels[field] for field in described.knobs}
    changes = []
    for key in DEFAULTS:
        if b[key] == a[key]:
            continue
        if key in OPTIMIZER_KEYS:
            name, symbol = OPTIMIZER_KEYS[key]
            if name not in a["pg_opts"]:
                continue
            title = f"{REGISTRY[name].label} {symbol}"
        elif key in TASK_KEYS.values():
            if key not in task_labels:
                continue
            title = task_labels[key]
        else:
            title = RUN_LABELS[key]
        changes.append(f"{title} {_shown(b[key])} → {_shown(a[key])}")
    return changes


def log_every_for(steps: int) -> int:
    return max(1, steps // POINTS_PER_RUN)


def log_points_for(steps: int) -> int:
    """Log-spaced logging points for a long run (its features are spread over decades of t), else 0."""
    return POINTS_PER_RUN if steps >= LOG_TIME_FROM else 0


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
    described = TASKS[s["pg_task"]]
    task = described.settings(**{field: CONVERSIONS.get(field, (lambda v: v,))[0](s[TASK_KEYS[field]])
                                 for field in described.knobs})
    configs = []
    for name in names:
        member, lr = REGISTRY[name], s[key_of(name, "lr")]
        beta2 = two_scheme_beta2(lr) if s[key_of(name, "2scheme")] else s[key_of(name, "beta2")]
        optimizer = OptimizerConfig(name=name, lr=lr, beta1=s[key_of(name, "beta1")], beta2=beta2,
                                    lam=s[key_of(name, "lam")] if member.lam_free else 0.5,
                                    bias_correction=bool(s["pg_bc"]) if member.bias_toggle else None)
        configs.append(RunConfig(task=task, optimizer=optimizer, steps=s["pg_steps"],
                                 log_every=log_every_for(s["pg_steps"]), log_points=log_points_for(s["pg_steps"]),
                                 seed=s["pg_seed"],
                                 manifold_metrics=bool(s["pg_proj"])))
    return configs


def settings_of(configs: Sequence[RunConfig]) -> Dict[str, Any]:
    """The Playground settings that rebuild `configs` (for "open in Playground")."""
    first = configs[0]
    task = first.task
    s: Dict[str, Any] = {"pg_task": task.name, "pg_opts": [c.optimizer.name for c in configs],
                         "pg_steps": first.steps, "pg_seed": first.seed, "pg_proj": first.manifold_metrics,
                         "pg_bc": any(c.optimizer.bias_correction for c in configs if REGISTRY[c.optimizer.name].bias_toggle)}
    s.update({TASK_KEYS[field]: CONVERSIONS.get(field, (None, lambda v: v))[1](getattr(task, field))
              for field in descriptor_of(task).knobs})
    for c in configs:
        o = c.optimizer
        s.update({key_of(o.name, "lr"): o.lr, key_of(o.name, "beta1"): o.beta1, key_of(o.name, "beta2"): o.beta2})
        if REGISTRY[o.name].lam_free:
            s[key_of(o.name, "lam")] = o.lam
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
