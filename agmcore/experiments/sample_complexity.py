"""1. Sample complexity: final test loss against n, Adam against SGD (diagonal network)."""
from __future__ import annotations

import statistics
from typing import Dict, List

import numpy as np
import plotly.graph_objects as go

from ..config import DiagNetTask, OptimizerConfig, RunConfig
from ..figures import COLORS, label
from .common import tail_mean

RECOVERED = 0.1  # a final test loss below this counts as recovering w* (initial ≈ ½‖w*‖² ≈ 0.5–1.5 at κ = 3)

SAMPLE_COMPLEXITY = {
    "classroom": dict(dim=100, sparsity=3, samples=(8, 10, 12, 15, 20), steps=60_000, log_every=3_000),
    "paper": dict(dim=10_000, sparsity=50, samples=tuple(range(300, 501, 20)) + (600, 700, 800, 900),
                  steps=1_000_000, log_every=10_000),
}
SC_OPTIMIZERS = (OptimizerConfig(name="adam", lr=0.03, beta2=0.991, bias_correction=False, eps=1e-6),
                 OptimizerConfig(name="sgd", lr=0.1))
ORACLES = {"min-ℓ1 interpolator (SGD's limit)": "w_l1_oracle", "min-ℓ^½ interpolator (Adam's limit)": "w_lhalf_oracle"}


def sample_complexity_cells(scale: str, seeds: int) -> List[RunConfig]:
    s = SAMPLE_COMPLEXITY[scale]
    return [RunConfig(task=DiagNetTask(dim=s["dim"], samples=n, sparsity=s["sparsity"]), optimizer=opt,
                      steps=s["steps"], log_every=s["log_every"], seed=seed, oracle_metrics=True)
            for opt in SC_OPTIMIZERS for n in s["samples"] for seed in range(seeds)]


def _by_optimizer_and_n(configs, docs) -> Dict[str, Dict[int, List[float]]]:
    table: Dict[str, Dict[int, List[float]]] = {}
    for c, d in zip(configs, docs):
        table.setdefault(label(d["config"], with_seed=False), {}).setdefault(c.task.samples, []).append(
            tail_mean(d["history"]["test_loss"]))
    return table


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


def recovery_n(per_n: Dict[int, List[float]]):
    """The smallest n from which every seed has test loss < RECOVERED at that n and above."""
    ns = sorted(per_n)
    ok = [all(x < RECOVERED for x in per_n[n]) for n in ns]
    return next((n for i, n in enumerate(ns) if all(ok[i:])), None)


def sample_complexity_summary_table(configs, docs) -> Dict:
    """Final test loss (mean of the last 10 % of the log) per n over seeds, and for each optimizer
    the smallest n from which every seed recovers (test loss < RECOVERED at that n and above)."""
    table = _by_optimizer_and_n(configs, docs)
    out = {"test_loss": {}, "recovery_n": {}}
    for name, per_n in table.items():
        out["test_loss"][name] = {n: {"median": statistics.median(v), "min": min(v), "max": max(v), "seeds": v}
                                  for n, v in sorted(per_n.items())}
        out["recovery_n"][name] = recovery_n(per_n)
    oracles = oracle_test_losses(configs, docs)
    if oracles:
        out["oracle_test_loss"] = oracles
        out["oracle_recovery_n"] = {name: recovery_n(per_n) for name, per_n in oracles.items()}
    return out


def sample_complexity_summary(configs, docs) -> Dict:
    """The table above; the claim: Adam's recovery n is smaller than SGD's."""
    out = sample_complexity_summary_table(configs, docs)
    adam = next(v for k, v in out["recovery_n"].items() if k.startswith("adam"))
    sgd = next(v for k, v in out["recovery_n"].items() if k.startswith("sgd"))
    out["claim_holds"] = adam is not None and (sgd is None or adam < sgd)
    return out


FLOOR = 1e-6  # a test loss of exactly 0 (an oracle equal to w*) is drawn here on the log axis


def sample_complexity_figure(configs, docs) -> go.Figure:
    """Final test loss against n: the median over seeds (line) and every seed (dots) per
    optimizer; dashed, the oracles' median; dotted, the recovery level."""
    fig = go.Figure()
    curves = list(_by_optimizer_and_n(configs, docs).items())
    oracles = list(oracle_test_losses(configs, docs).items())
    for i, (name, per_n) in enumerate(curves + oracles):
        ns = sorted(per_n)
        oracle = i >= len(curves)
        color = ("#555555", "#999999")[(i - len(curves)) % 2] if oracle else COLORS[i % len(COLORS)]
        fig.add_trace(go.Scatter(x=ns, y=[max(statistics.median(per_n[n]), FLOOR) for n in ns], name=name,
                                 mode="lines+markers", legendgroup=name,
                                 line=dict(color=color, dash="dash" if oracle else "solid")))
        if not oracle:
            fig.add_trace(go.Scatter(x=[n for n in ns for _ in per_n[n]], y=[max(v, FLOOR) for n in ns for v in per_n[n]],
                                     mode="markers", marker=dict(color=color, size=6, opacity=0.45), legendgroup=name,
                                     name=f"{name}, each seed", showlegend=False))
    fig.add_hline(y=RECOVERED, line=dict(color="#aaaaaa", dash="dot"), annotation_text="recovered below",
                  annotation_position="bottom right")
    fig.update_yaxes(type="log", title_text=f"final test loss (0 drawn at {FLOOR:g})")
    fig.update_xaxes(title_text="training samples n")
    fig.update_layout(title="Final test loss against n (line: median over seeds; dots: each seed)",
                      template="plotly_white", height=440)
    return fig


