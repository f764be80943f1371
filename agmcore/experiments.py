"""The paper's experiments as sweeps: their cells, their claimed outcome, their figures.

Each experiment builds its cells for a scale ("classroom": about two minutes on 2 CPU cores;
"paper": the published sizes, GPU work), summarises the finished cells into numbers over
seeds, and says whether its claim held. Settings and what they showed are documented in docs/.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Callable, Dict, List, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .config import DiagNetTask, OptimizerConfig, RunConfig
from .figures import COLORS, label

SCALES = ("classroom", "paper")
RECOVERED = 0.1  # a final test loss below this counts as recovering w* (initial ≈ ½‖w*‖² ≈ 0.5–1.5 at κ = 3)


def tail_mean(values: Sequence[float], fraction: float = 0.1) -> float:
    """Mean over the last `fraction` of a history (the authors' 'mean over the last steps')."""
    values = [v for v in values if v is not None]
    k = max(1, int(len(values) * fraction))
    return float(np.mean(values[-k:]))


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str
    claim: str
    build: Callable[[str, int], List[RunConfig]]  # (scale, seeds) -> cells
    summarize: Callable[[List[RunConfig], List[Dict]], Dict]  # numbers and "claim_holds"
    figure: Callable[[List[RunConfig], List[Dict]], go.Figure]


# ---------------------------------------------------------------- 1. sample complexity
SAMPLE_COMPLEXITY = {
    "classroom": dict(dim=1000, sparsity=3, samples=(10, 15, 20, 25, 30, 40), steps=30_000, log_every=500),
    "paper": dict(dim=10_000, sparsity=50, samples=tuple(range(300, 501, 20)) + (600, 700, 800, 900),
                  steps=1_000_000, log_every=10_000),
}
SC_OPTIMIZERS = (OptimizerConfig(name="adam", lr=0.1, beta2=0.95, bias_correction=False, eps=1e-6),
                 OptimizerConfig(name="sgd", lr=0.1))


def sample_complexity_cells(scale: str, seeds: int) -> List[RunConfig]:
    s = SAMPLE_COMPLEXITY[scale]
    return [RunConfig(task=DiagNetTask(dim=s["dim"], samples=n, sparsity=s["sparsity"]), optimizer=opt,
                      steps=s["steps"], log_every=s["log_every"], seed=seed)
            for opt in SC_OPTIMIZERS for n in s["samples"] for seed in range(seeds)]


def _by_optimizer_and_n(configs, docs) -> Dict[str, Dict[int, List[float]]]:
    table: Dict[str, Dict[int, List[float]]] = {}
    for c, d in zip(configs, docs):
        table.setdefault(label(d["config"], with_seed=False), {}).setdefault(c.task.samples, []).append(
            tail_mean(d["history"]["test_loss"]))
    return table


def sample_complexity_summary_table(configs, docs) -> Dict:
    """Final test loss (mean of the last 10 % of the log) per n over seeds, and for each optimizer
    the smallest n from which every seed recovers (test loss < RECOVERED at that n and above)."""
    table = _by_optimizer_and_n(configs, docs)
    out = {"test_loss": {}, "recovery_n": {}}
    for name, per_n in table.items():
        out["test_loss"][name] = {n: {"median": statistics.median(v), "min": min(v), "max": max(v), "seeds": v}
                                  for n, v in sorted(per_n.items())}
        ns = sorted(per_n)
        ok = [all(x < RECOVERED for x in per_n[n]) for n in ns]
        out["recovery_n"][name] = next((n for i, n in enumerate(ns) if all(ok[i:])), None)
    return out


def sample_complexity_summary(configs, docs) -> Dict:
    """The table above; the claim: Adam's recovery n is smaller than SGD's."""
    out = sample_complexity_summary_table(configs, docs)
    adam = next(v for k, v in out["recovery_n"].items() if k.startswith("adam"))
    sgd = next(v for k, v in out["recovery_n"].items() if k.startswith("sgd"))
    out["claim_holds"] = adam is not None and (sgd is None or adam < sgd)
    return out


def sample_complexity_figure(configs, docs) -> go.Figure:
    table = _by_optimizer_and_n(configs, docs)
    fig = go.Figure()
    for i, (name, per_n) in enumerate(table.items()):
        ns = sorted(per_n)
        med = [statistics.median(per_n[n]) for n in ns]
        lo = [med[j] - min(per_n[n]) for j, n in enumerate(ns)]
        hi = [max(per_n[n]) - med[j] for j, n in enumerate(ns)]
        fig.add_trace(go.Scatter(x=ns, y=med, name=name, mode="lines+markers", line=dict(color=COLORS[i]),
                                 error_y=dict(type="data", symmetric=False, array=hi, arrayminus=lo)))
    fig.update_yaxes(type="log", title_text="final test loss (median, min–max over seeds)")
    fig.update_xaxes(title_text="training samples n")
    fig.update_layout(title="Sample complexity: test loss against n", template="plotly_white", height=420)
    return fig


# ---------------------------------------------------------------- 2. sharpness race
SHARPNESS_RACE = {
    "classroom": dict(dim=100, samples=20, sparsity=3, steps=200_000, log_every=5_000),
    "paper": dict(dim=10_000, samples=420, sparsity=50, steps=5_000_000, log_every=50_000),
}
RACE_OPTIMIZERS = (OptimizerConfig(name="adam", lr=0.01, beta2=0.999, bias_correction=False, eps=1e-6),
                   OptimizerConfig(name="sgd", lr=0.04))
RACE_MEASURES = ("trace_H", "trace_sqrt_diag_H", "l1", "l_half")


def sharpness_race_cells(scale: str, seeds: int) -> List[RunConfig]:
    s = SHARPNESS_RACE[scale]
    task = DiagNetTask(dim=s["dim"], samples=s["samples"], sparsity=s["sparsity"])
    return [RunConfig(task=task, optimizer=opt, steps=s["steps"], log_every=s["log_every"], seed=seed,
                      manifold_metrics=True, oracle_metrics=True)
            for opt in RACE_OPTIMIZERS for seed in range(seeds)]


def sharpness_race_summary(configs, docs) -> Dict:
    """Final measures (at θ_T and at its projection) per seed; the claim: on every seed SGD ends
    with the lower tr(H) and ‖w‖₁, Adam with the lower tr(Diag(H)^½) and Σ|w|^½ (projected)."""
    per_seed: Dict[int, Dict[str, Dict]] = {}
    for c, d in zip(configs, docs):
        per_seed.setdefault(c.seed, {})[c.optimizer.name] = d["final"]
    checks = []
    for seed, finals in sorted(per_seed.items()):
        sgd, adam = finals["sgd"], finals["adam"]
        checks.append({
            "seed": seed,
            "sgd_lower_trace_H": sgd["trace_H_proj"] < adam["trace_H_proj"],
            "sgd_lower_l1": sgd["l1_proj"] < adam["l1_proj"],
            "adam_lower_trace_sqrt_diag_H": adam["trace_sqrt_diag_H_proj"] < sgd["trace_sqrt_diag_H_proj"],
            "adam_lower_l_half": adam["l_half_proj"] < sgd["l_half_proj"],
            "adam_closer_to_lhalf_oracle": adam["dist_lhalf_oracle"] < sgd["dist_lhalf_oracle"],
        })
    finals = {str(seed): {name: {k: f.get(k) for k in RACE_MEASURES + tuple(m + "_proj" for m in RACE_MEASURES)
                                 + ("test_loss", "dist_l1_oracle", "dist_lhalf_oracle")}
                          for name, f in v.items()} for seed, v in per_seed.items()}
    keys = ("sgd_lower_trace_H", "sgd_lower_l1", "adam_lower_trace_sqrt_diag_H", "adam_lower_l_half")
    return {"finals": finals, "checks": checks, "claim_holds": all(all(c[k] for k in keys) for c in checks)}


def sharpness_race_figure(configs, docs) -> go.Figure:
    titles = ("tr(H) at Φ(θ)", "tr(Diag(H)^½) at Φ(θ)", "distance to min-ℓ1 interpolator",
              "distance to min-ℓ^½ interpolator")
    fig = make_subplots(rows=2, cols=2, subplot_titles=titles)
    names = ("trace_H_proj", "trace_sqrt_diag_H_proj", "dist_l1_oracle", "dist_lhalf_oracle")
    for c, d in zip(configs, docs):
        color = COLORS[[o.name for o in RACE_OPTIMIZERS].index(c.optimizer.name)]
        slow = np.asarray(d["history"]["step"], float) * c.optimizer.lr**2
        for j, name in enumerate(names):
            fig.add_trace(go.Scatter(x=slow, y=d["history"][name], mode="lines", line=dict(color=color, width=1),
                                     name=label(d["config"], with_seed=False), legendgroup=c.optimizer.name,
                                     showlegend=j == 0 and c.seed == 0), row=j // 2 + 1, col=j % 2 + 1)
    fig.update_xaxes(title_text="slow time η²·t", type="log")
    fig.update_yaxes(type="log")
    fig.update_layout(title="Sharpness race (one line per seed)", template="plotly_white", height=700)
    return fig


# ---------------------------------------------------------------- 3. AdamE-λ
ADAME_LAMBDAS = (0.001, 0.1, 0.25, 0.5, 0.75, 0.9)
ADAME = {
    "classroom": dict(dim=1000, sparsity=3, samples=(15, 20, 25, 30, 40), steps=30_000, log_every=500),
    "paper": dict(dim=10_000, sparsity=50, samples=tuple(range(300, 501, 20)) + (600, 700, 800, 900),
                  steps=1_000_000, log_every=10_000),
}


def adame_lambda_cells(scale: str, seeds: int) -> List[RunConfig]:
    """AdamE-λ on the sample-complexity cells; all λ of one n share a tensor program."""
    s = ADAME[scale]
    return [RunConfig(task=DiagNetTask(dim=s["dim"], samples=n, sparsity=s["sparsity"]),
                      optimizer=OptimizerConfig(name="adame", lam=lam, lr=0.1, beta2=0.95, eps=1e-6,
                                                bias_correction=False),
                      steps=s["steps"], log_every=s["log_every"], seed=seed)
            for lam in ADAME_LAMBDAS for n in s["samples"] for seed in range(seeds)]


def adame_lambda_summary(configs, docs) -> Dict:
    """Per λ: final test loss per n over seeds, the recovery n, and Σ|w|^{1−λ} at the end.
    The claim: the smallest λ recovers at a larger n than every λ ≥ 0.25."""
    out = sample_complexity_summary_table(configs, docs)
    out["quasi_norm"] = {}
    for c, d in zip(configs, docs):
        w = np.abs(np.asarray([v or 0.0 for v in d["w"]]))
        out["quasi_norm"].setdefault(label(d["config"], with_seed=False), {}).setdefault(
            c.task.samples, []).append(float(np.sum(w ** (1 - c.optimizer.lam))))
    rec = {c.optimizer.lam: out["recovery_n"][label(d["config"], with_seed=False)] for c, d in zip(configs, docs)}
    smallest = rec[min(rec)]
    large = [v for lam, v in rec.items() if lam >= 0.25]
    out["recovery_n_by_lambda"] = {str(k): v for k, v in sorted(rec.items())}
    out["claim_holds"] = all(v is not None and (smallest is None or v < smallest) for v in large)
    return out


EXPERIMENTS: Dict[str, Experiment] = {e.name: e for e in (
    Experiment("sample-complexity", "Adam recovers a sparse truth from fewer samples",
               "Adam's test loss drops to the recovery level at a smaller n than SGD's",
               sample_complexity_cells, sample_complexity_summary, sample_complexity_figure),
    Experiment("sharpness-race", "Each optimizer lowers its own sharpness",
               "SGD ends with the lower tr(H) and ‖w‖₁, Adam with the lower tr(Diag(H)^½) and Σ|w|^½",
               sharpness_race_cells, sharpness_race_summary, sharpness_race_figure),
    Experiment("adame-lambda", "AdamE-λ: the preconditioner power sets the bias",
               "AdamE with λ ≈ 0 needs as many samples as SGD; λ ≥ 0.25 recovers with fewer",
               adame_lambda_cells, adame_lambda_summary, sample_complexity_figure),
)}
