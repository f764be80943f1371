"""What a group of runs records at each logging point, whatever steps it.

A group (torch_group.TorchGroup or compiled_group.CompiledDiagNetGroup) supplies its measures
through five hooks; `observe` turns them into each run's history, final values and arrays, and
settles statuses (finished, diverged, cancelled).
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Tuple

import numpy as np

from agmcore.engine.config import RunConfig
from agmcore.engine.results import RunRecord

# The denoised measures ("_denoised") are taken at Φ(θ̄_t), θ̄_t the ω-polynomial average of the
# iterates, θ̄_t = θ̄_{t−1} + (ω+1)/(t+ω)·(θ_t − θ̄_{t−1}): weights ∝ s^ω on the iterates so far, so
# it averages roughly the last t/(ω+1) steps and lags the drift by ≈ t/(ω+2). A window that
# grows with t is scale-free in slow time η²t, whatever η; docs/denoising.md says why ω = 8.
DENOISING_OMEGA = 8.0
EXPLOSION_FACTOR = 1e6  # a clean loss above this × max(initial loss, 1) counts as diverged (both loops)


def denoising_weight(t: int, omega: float = DENOISING_OMEGA) -> float:
    """The weight of θ_t in θ̄_t (1 at t = 1: θ̄_1 = θ_1; θ̄_0 = θ_0)."""
    return (omega + 1.0) / (t + omega)


def clean_arrays(arrays):
    """Nested dicts and lists with every non-finite float replaced by None (valid JSON)."""
    if isinstance(arrays, dict):
        return {k: clean_arrays(v) for k, v in arrays.items()}
    if isinstance(arrays, list):
        return [clean_arrays(v) for v in arrays]
    return arrays if not isinstance(arrays, float) or math.isfinite(arrays) else None


def json_values(values) -> list:
    """A numpy array as (nested) lists of floats, non-finite ones as None; one pass in numpy
    when every value is finite (the common case, and the one a logging point must not pay for)."""
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    if finite.all():
        return values.tolist()
    out = values.astype(object)
    out[~finite] = None
    return out.tolist()


def _recorded(metrics: Dict[str, list], config: RunConfig) -> List[str]:
    """The metrics a run keeps: measures at Φ ("_proj") and oracle distances only when asked for."""
    return [k for k in metrics if not ((k.endswith("_proj") and not config.manifold_metrics) or
                                       (k.endswith("_oracle") and not config.oracle_metrics))]


class ObservedGroup:
    """Base of a group of runs stepped together; `self.t` counts the group's steps.

    Hooks: diverged_steps() -> [step or −1] per run; logged_metrics() -> {name: [value per run]};
    run_arrays() -> [arrays per run]; final_extras(i) -> {name: value}; averaged_results() ->
    ({name: [value per run]} at θ̄, {parameter: [θ̄ per run]}); stop(keep) ends runs not kept.
    Every value a hook returns is JSON-ready: floats and lists, non-finite values as None.
    """

    records: List[RunRecord]
    t: int

    def running(self) -> bool:
        return any(r.status == "running" for r in self.records)

    def observe(self, cancelled: bool = False):
        """Log metrics for runs due now; settle statuses (diverged, finished, cancelled)."""
        diverged_at = self.diverged_steps()
        due = [i for i, r in enumerate(self.records) if r.status == "running"
               and (diverged_at[i] >= 0 or r.config.logs_at(self.t) or cancelled)]
        if not due:
            return
        metrics = self.logged_metrics()
        settled: Dict[str, Any] = {}  # the arrays and the averaged results, at most once, for runs that end now
        for i in due:
            rec = self.records[i]
            stopped = diverged_at[i] >= 0
            rec.steps_done = diverged_at[i] if stopped else self.t
            history = rec.history.setdefault("step", [])
            if not stopped:
                history.append(self.t)
                for k in _recorded(metrics, rec.config):
                    rec.history.setdefault(k, []).append(metrics[k][i])
            if stopped:
                rec.status = "diverged"
            elif cancelled:
                rec.status = "cancelled"
            elif self.t >= rec.config.steps:
                rec.status = "finished"
            if rec.status != "running":
                if "arrays" not in settled:
                    settled["arrays"] = self.run_arrays()
                rec.arrays = settled["arrays"][i]
                self._finalise(i, rec, settled)
        if settled:  # some run ended now
            self.stop([r.status == "running" for r in self.records])

    def _finalise(self, i: int, rec: RunRecord, settled: Dict[str, Any]):
        rec.final = {k: v[-1] for k, v in rec.history.items() if k != "step" and v}
        rec.final.update(self.final_extras(i))
        if rec.config.tail_average and rec.status == "finished":
            if "averaged" not in settled:
                settled["averaged"] = self.averaged_results()
            metrics, params = settled["averaged"]
            rec.final.update({k: v[i] for k, v in metrics.items()})
            rec.arrays["params_avg"] = {k: v[i] for k, v in params.items()}

    # hooks ------------------------------------------------------------------
    def diverged_steps(self) -> List[int]:
        raise NotImplementedError

    def logged_metrics(self) -> Dict[str, list]:
        raise NotImplementedError

    def run_arrays(self) -> List[Dict[str, Any]]:
        raise NotImplementedError

    def final_extras(self, i: int) -> Dict[str, float]:
        raise NotImplementedError

    def averaged_results(self) -> Tuple[Dict[str, list], Dict[str, list]]:
        raise NotImplementedError

    def stop(self, keep: List[bool]):
        raise NotImplementedError
