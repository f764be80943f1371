"""The run engine: many configurations stepped as batched tensor programs, with snapshots.

Runs whose task shape, optimizer structure and dtype agree form a group: their parameters are
stacked along a leading runs dimension R and one update steps them all, each with its own
η, β1, β2, λ, ε, seed and label noise δ. Groups advance in lockstep; at every multiple of the
common `log_every` (and at step 0 and each run's last step) metrics are taken and a
`Snapshot` is yielded. A run whose clean loss turns non-finite or explodes is frozen with
status `diverged` at that step; the others go on. Setting the `cancel` event ends every
running run with status `cancelled` at the next check.
"""
from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Sequence

import torch

from .config import ConfigError, DiagNetTask, RunConfig
from .device import resolve_device, resolve_dtype
from .family import make_optimizer
from .hyper import column
from .memory import available_bytes, format_bytes
from .projection import project_to_manifold
from .sharpness import implied_sharpness
from .tasks.diag_net import DiagNetProblem
from .tasks.matrix_factorization import MatrixFactorizationProblem
from .transforms import apply_updates

EXPLOSION_FACTOR = 1e6  # a clean loss above this × max(initial loss, 1) counts as diverged
CANCEL_CHECK_EVERY = 64  # steps between looks at the cancel event


@dataclass
class RunRecord:
    """What one run has produced so far; the engine appends to it in place."""

    config: RunConfig
    status: str = "running"  # running | finished | diverged | cancelled
    steps_done: int = 0
    history: Dict[str, list] = field(default_factory=dict)  # "step" and one list per metric
    final: Dict[str, Any] = field(default_factory=dict)
    arrays: Dict[str, Any] = field(default_factory=dict)  # params, w, w_star at the last logged step

    @property
    def key(self) -> str:
        return self.config.key


@dataclass
class Snapshot:
    step: int  # steps taken by the batch so far
    total_steps: int  # the largest budget in the batch
    elapsed: float  # seconds since the batch started
    records: List[RunRecord]
    done: bool

    @property
    def steps_per_second(self) -> float:
        return self.step / self.elapsed if self.elapsed > 0 else 0.0


def problem_for(task, seeds: Sequence[int], label_noise: Sequence[float], dtype, device, oracles: bool = False):
    """The task's problem object for runs with these seeds and label-noise levels."""
    if isinstance(task, DiagNetTask):
        return DiagNetProblem(task, seeds, label_noise, dtype, device, oracles=oracles)
    return MatrixFactorizationProblem(task, seeds, label_noise, dtype, device)


def _hyper(values: List[float], dtype, device):
    """A float when every run agrees (fast paths), else a (R,) tensor."""
    if all(v == values[0] for v in values):
        return values[0]
    return torch.tensor(values, dtype=dtype, device=device)


def group_key(config: RunConfig) -> tuple:
    """Runs with equal group keys share one tensor program."""
    task = {k: v for k, v in config.to_dict()["task"].items() if k != "label_noise"}
    return (tuple(sorted(task.items())), config.optimizer.structure(), config.dtype)


def _to_python(values: torch.Tensor) -> list:
    """Metric values as Python floats, non-finite ones as None (valid JSON)."""
    return _clean_arrays(values.detach().cpu().tolist())


class _Group:
    """R runs stepped as one tensor program."""

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
        return {f"{k}{suffix}": _to_python(v) for k, v in self.problem.metrics(params).items() if v.dim() == 1}

    def averaged_metrics(self) -> Dict[str, list]:
        """Scalar metrics at θ̄ ("_avg") and, when projecting, at Φ(θ̄) ("_avg_proj")."""
        theta = self.tail_averaged_params()
        out = self.scalar_metrics(theta, "_avg")
        if self.project:
            out.update(self.scalar_metrics(project_to_manifold(self.problem, theta), "_avg_proj"))
        return out

    def running(self) -> bool:
        return any(r.status == "running" for r in self.records)

    def observe(self, final: bool = False, cancelled: bool = False):
        """Log metrics for runs due now; settle statuses (diverged, finished, cancelled)."""
        diverged_at = self.diverged_at.tolist()
        due = [i for i, r in enumerate(self.records) if r.status == "running"
               and (diverged_at[i] >= 0 or self.t % r.config.log_every == 0 or self.t == r.config.steps or cancelled)]
        if not due:
            return
        diag = self.problem.hessian_diagonal(self.params)  # once, for the measures and tr(S·H)
        metrics = {k: _to_python(v) for k, v in self.problem.metrics(self.params, diag).items()}
        if self.optimizer.name != "shampoo":  # tr(S·H) of this optimizer's own stationary preconditioner
            metrics["implied_sharpness"] = _to_python(implied_sharpness(
                self.optimizer.name, diag, self.lam, self.optimizer.block_size))
        if self.project:
            metrics.update(self.scalar_metrics(project_to_manifold(self.problem, self.params), "_proj"))
        arrays = self.problem.arrays(self.params)  # current parameters, for live views
        averaged = functools.lru_cache(maxsize=1)(  # at most once per observation, for the runs finishing now
            lambda: (self.averaged_metrics(), {k: v.tolist() for k, v in self.tail_averaged_params().items()}))
        for i in due:
            rec = self.records[i]
            rec.arrays = _clean_arrays(arrays[i])
            stopped = diverged_at[i] >= 0
            rec.steps_done = diverged_at[i] if stopped else self.t
            history = rec.history.setdefault("step", [])
            if not stopped:
                history.append(self.t)
                for k, v in metrics.items():
                    if (k.endswith("_proj") and not rec.config.manifold_metrics) or \
                            (k.endswith("_oracle") and not rec.config.oracle_metrics):
                        continue
                    rec.history.setdefault(k, []).append(v[i])
            if stopped:
                rec.status = "diverged"
            elif cancelled:
                rec.status = "cancelled"
            elif self.t >= rec.config.steps:
                rec.status = "finished"
            if rec.status != "running":
                self._finalise(i, rec, averaged)
        keep = torch.tensor([r.status == "running" for r in self.records], device=self.alive.device)
        self.alive = self.alive & keep

    def _finalise(self, i: int, rec: RunRecord, averaged):
        rec.final = {k: v[-1] for k, v in rec.history.items() if k != "step" and v}
        for k, v in self.problem.final_extras(self.params).items():
            rec.final[k] = _to_python(v)[i]
        if rec.config.tail_average and rec.status == "finished":
            metrics, params = averaged()
            rec.final.update({k: v[i] for k, v in metrics.items()})
            rec.arrays["params_avg"] = _clean_arrays({k: v[i] for k, v in params.items()})


def _clean_arrays(arrays):
    """Nested dicts and lists with every non-finite float replaced by None (valid JSON)."""
    if isinstance(arrays, dict):
        return {k: _clean_arrays(v) for k, v in arrays.items()}
    if isinstance(arrays, list):
        return [_clean_arrays(v) for v in arrays]
    return arrays if not isinstance(arrays, float) or math.isfinite(arrays) else None


def run_batch(configs: Sequence[RunConfig], device: str = "auto", cancel=None) -> Iterator[Snapshot]:
    """Run `configs` together; yields a Snapshot at each logging point and a last one with done=True.

    `cancel` is anything with `is_set()` (a threading or multiprocessing Event).
    All configurations must share `log_every`.
    """
    if not configs:
        raise ConfigError("no runs to do")
    cadences = {c.log_every for c in configs}
    if len(cadences) > 1:
        raise ConfigError(f"runs batched together must share log_every (got {sorted(cadences)})")
    dev = resolve_device(device)
    need, have = sum(c.memory_bytes() for c in configs), available_bytes(dev)
    if need > have:
        raise ConfigError(f"these runs need about {format_bytes(need)} but {dev} has {format_bytes(have)} free: "
                          f"run fewer at once or make them smaller")
    records = [RunRecord(c) for c in configs]
    groups: Dict[tuple, List[RunRecord]] = {}
    for rec in records:
        groups.setdefault(group_key(rec.config), []).append(rec)
    start = time.perf_counter()
    built = [_Group(rs, resolve_dtype(rs[0].config.dtype, dev), dev) for rs in groups.values()]
    total = max(c.steps for c in configs)
    log_every = configs[0].log_every
    for g in built:
        g.observe()
    t = 0
    yield Snapshot(0, total, time.perf_counter() - start, records, False)
    while any(g.running() for g in built):
        pending = [c.steps for c in configs if c.steps > t]
        stop = min([(t // log_every + 1) * log_every] + pending)
        cancelled = False
        while t < stop:
            for g in built:
                if g.running():
                    g.step()
            t += 1
            if cancel is not None and t % CANCEL_CHECK_EVERY == 0 and cancel.is_set():
                cancelled = True
                break
        cancelled = cancelled or (cancel is not None and cancel.is_set())
        for g in built:
            g.observe(cancelled=cancelled)
        done = not any(g.running() for g in built)
        yield Snapshot(t, total, time.perf_counter() - start, records, done)


def run_all(configs: Sequence[RunConfig], device: str = "auto", cancel=None) -> List[RunRecord]:
    """Run to the end and return the records."""
    snapshot = None
    for snapshot in run_batch(configs, device=device, cancel=cancel):
        pass
    return snapshot.records
