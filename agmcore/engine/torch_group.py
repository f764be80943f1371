"""R runs stepped as one torch tensor program (every task and optimizer, any device).

Runs whose task shape, optimizer structure and dtype agree stack their parameters along a
leading runs dimension R and one update steps them all, each with its own η, β1, β2, λ, ε,
seed and label noise δ. The reference path, and the one for CUDA and MPS.
"""
from __future__ import annotations

from typing import Dict, List, Sequence

import torch

from agmcore import DENOISED
from agmcore.engine.observation import EXPLOSION_FACTOR, ObservedGroup, clean_arrays, denoising_weight, json_values
from agmcore.engine.results import RunRecord
from agmcore.optimizers.family import REGISTRY, make_optimizer
from agmcore.optimizers.hyper import column
from agmcore.optimizers.transforms import apply_updates
from agmcore.problems.descriptors import descriptor_of
from agmcore.problems.projection import denoising_point, project_to_manifold
from agmcore.problems.sharpness import implied_sharpness



def problem_for(task, seeds: Sequence[int], label_noise: Sequence[float], dtype, device, oracles: bool = False):
    """The task's problem object for runs with these seeds and label-noise levels (its descriptor's)."""
    return descriptor_of(task).problem(task, seeds, label_noise, dtype, device, oracles=oracles)


def _hyper(values: List[float], dtype, device):
    """A float when every run agrees (fast paths), else a (R,) tensor."""
    if all(v == values[0] for v in values):
        return values[0]
    return torch.tensor(values, dtype=dtype, device=device)


def to_python(values: torch.Tensor) -> list:
    """Metric values as Python floats, non-finite ones as None (valid JSON)."""
    return json_values(values.detach().cpu().numpy())


class TorchGroup(ObservedGroup):
    """R runs stepped as one tensor program."""

    check_every = 64  # steps between looks at the cancel event

    def __init__(self, records: List[RunRecord], dtype: torch.dtype, device: torch.device):
        self.records = records
        first = records[0].config
        opt = [r.config.optimizer for r in records]
        self.problem = problem_for(first.task, [r.config.seed for r in records],
                                   [r.config.task.label_noise for r in records], dtype, device,
                                   oracles=any(r.config.oracle_metrics for r in records))
        h = lambda name: _hyper([getattr(o, name) for o in opt], dtype, device)  # noqa: E731
        self.optimizer, self.lam = first.optimizer, h("lam")
        self.transform = make_optimizer(first.optimizer.name, lr=h("lr"), beta1=h("beta1"), beta2=h("beta2"),
                                        lam=self.lam, eps=h("eps"), bias_correction=first.optimizer.bias_correction,
                                        block_size=first.optimizer.block_size)
        self.params = self.problem.init_params()
        self.state = self.transform.init(self.params)
        self.alive = torch.ones(len(records), dtype=torch.bool, device=device)
        self.diverged_at = torch.full((len(records),), -1, dtype=torch.long, device=device)
        self.limit = EXPLOSION_FACTOR * self.problem.metrics(self.params)["train_loss"].clamp_min(1.0)
        self.project = any(r.config.manifold_metrics for r in records)
        self.t = 0
        # tail average θ̄ = mean of θ_t over each run's last ⌊tail_average·steps⌋ steps (0: none; a run
        # stops being alive at its last step, so t > steps − 0 never counts)
        self.average_from = torch.tensor([r.config.steps - int(r.config.tail_average * r.config.steps)
                                          for r in records], device=device)
        self.averaging = any(r.config.tail_average for r in records)
        self.param_sum = {k: torch.zeros_like(p) for k, p in self.params.items()} if self.averaging else None
        self.averaged = torch.zeros(len(records), dtype=dtype, device=device)
        self.param_bar = dict(self.params)  # θ̄ (observation.DENOISING_OMEGA)
        self.denoised_point = None  # Φ(θ̄) at the last logging point

    def advance(self, steps: int):
        for _ in range(steps):
            self.step()

    def step(self):
        grads, loss = self.problem.noisy_grads(self.params)
        updates, self.state = self.transform.update(grads, self.state)
        bad = ~torch.isfinite(loss) | (loss > self.limit)
        newly = self.alive & bad
        self.diverged_at = torch.where(newly, self.t, self.diverged_at)
        self.alive = self.alive & ~bad
        new = apply_updates(self.params, updates)
        self.params = {k: torch.where(column(self.alive, p), new[k], p) for k, p in self.params.items()}
        self.t += 1
        weight = self.alive.to(self.averaged.dtype) * denoising_weight(self.t)  # (R,): θ̄ of a stopped run stays
        self.param_bar = {k: b + column(weight, b) * (self.params[k] - b) for k, b in self.param_bar.items()}
        if self.averaging:
            counted = (self.alive & (self.t > self.average_from)).to(self.averaged.dtype)
            self.averaged += counted
            for k, p in self.params.items():
                self.param_sum[k] += column(counted, p) * p

    def tail_averaged_params(self) -> Dict[str, torch.Tensor]:
        """θ̄ per run (θ itself for runs that averaged nothing)."""
        count = self.averaged.clamp_min(1.0)
        return {k: torch.where(column(self.averaged > 0, p), self.param_sum[k] / column(count, p), p)
                for k, p in self.params.items()}

    def scalar_metrics(self, params: Dict[str, torch.Tensor], suffix: str) -> Dict[str, list]:
        """The per-run scalar metrics at `params`, named with `suffix`."""
        return {f"{k}{suffix}": to_python(v) for k, v in self.problem.metrics(params).items() if v.dim() == 1}

    # ObservedGroup's hooks --------------------------------------------------------------
    def diverged_steps(self) -> List[int]:
        return self.diverged_at.tolist()

    def _measures_at(self, params: Dict[str, torch.Tensor], suffix: str = "") -> Dict[str, list]:
        """Every logged measure at `params` and, for a diagonal preconditioner, tr(S·H) of the
        optimizer's own (family.REGISTRY); the oracle distances at θ_t only."""
        diag = self.problem.hessian_diagonal(params)  # once, for the measures and tr(S·H)
        metrics = {f"{k}{suffix}": to_python(v) for k, v in self.problem.metrics(params, diag).items()
                   if not (suffix and k.endswith("_oracle"))}
        if REGISTRY[self.optimizer.name].diagonal:
            metrics[f"implied_sharpness{suffix}"] = to_python(implied_sharpness(
                self.optimizer.name, diag, self.lam, self.optimizer.block_size))
        return metrics

    def logged_metrics(self) -> Dict[str, list]:
        metrics = self._measures_at(self.params)
        self.denoised_point = denoising_point(self.problem, self.param_bar)
        metrics.update(self._measures_at(self.denoised_point, DENOISED))
        if self.project:
            metrics.update(self.scalar_metrics(project_to_manifold(self.problem, self.params), "_proj"))
        return metrics

    def run_arrays(self) -> List[Dict]:
        out = clean_arrays(self.problem.arrays(self.params))
        if self.denoised_point is not None:
            for run, denoised in zip(out, clean_arrays(self.problem.arrays(self.denoised_point))):
                run.update({f"{k}{DENOISED}": denoised[k] for k in ("w", "W") if k in denoised})
        return out

    def final_extras(self, i: int) -> Dict[str, float]:
        return clean_arrays({k: v[i].item() for k, v in self.problem.final_extras(self.params).items()})

    def averaged_results(self):
        """Scalar metrics at θ̄ ("_avg") and, when projecting, at Φ(θ̄) ("_avg_proj"); θ̄ as lists."""
        theta = self.tail_averaged_params()
        out = self.scalar_metrics(theta, "_avg")
        if self.project:
            out.update(self.scalar_metrics(project_to_manifold(self.problem, theta), "_avg_proj"))
        return out, {k: to_python(v) for k, v in theta.items()}

    def stop(self, keep: List[bool]):
        self.alive = self.alive & torch.tensor(keep, device=self.alive.device)
