"""The run engine: many configurations stepped in groups, with snapshots at logging points.

Runs whose task shape, optimizer structure and dtype agree form a group. On the CPU the
diagonal AGMs of both tasks run in compiled loops (compiled_group.py for the diagonal network,
compiled_matrix_group.py for matrix factorization), each run by its own loop, so a result is the
same bits alone or in any batch; everything else (Shampoo, Adafactor on matrices, Φ(θ_t) of a
factorization, float32, CUDA and MPS) runs as one torch tensor program per group
(torch_group.py), the reference path. Groups advance together; at every multiple of the common
`log_every` (or on the common log-spaced schedule, config.log_schedule), at step 0 and at each
run's last step metrics are taken and a `Snapshot` is yielded. A run whose clean loss turns
non-finite or explodes is frozen with status `diverged` at that step; the others go on. Setting
the `cancel` event ends every running run with status `cancelled` at the next check.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Sequence

from agmcore.engine.compiled_group import CompiledDiagNetGroup, compiled_supports
from agmcore.engine.compiled_matrix_group import CompiledMatrixGroup, matrix_compiled_supports
from agmcore.engine.config import ConfigError, DiagNetTask, MatrixFactorizationTask, RunConfig, check_memory
from agmcore.engine.device import resolve_device, resolve_dtype
from agmcore.engine.memory import available_bytes
from agmcore.engine.observation import ObservedGroup
from agmcore.engine.results import RunRecord
from agmcore.engine.torch_group import TorchGroup, problem_for
from agmcore.optimizers.family import REGISTRY
from agmcore.problems.descriptors import descriptor_of

__all__ = ["RunRecord", "Snapshot", "group_key", "problem_for", "run_all", "run_batch", "warm_up"]


@dataclass
class Snapshot:
    step: int  # steps taken by the batch so far
    total_steps: int  # the largest budget in the batch
    elapsed: float  # seconds since the batch started
    records: List[RunRecord]
    done: bool
    groups: Sequence[ObservedGroup] = field(default=(), repr=False)

    def arrays(self) -> List[Dict]:
        """Every run's arrays (parameters, w, w*) now: an ended run's own, a running run's current."""
        out = {id(r): r.arrays for r in self.records}
        for g in self.groups:
            if g.running():
                for rec, arrays in zip(g.records, g.run_arrays()):
                    if rec.status == "running":
                        out[id(rec)] = arrays
        return [out[id(r)] for r in self.records]

    @property
    def steps_per_second(self) -> float:
        return self.step / self.elapsed if self.elapsed > 0 else 0.0


def group_key(config: RunConfig) -> tuple:
    """Runs with equal group keys share one group."""
    task = {k: v for k, v in config.to_dict()["task"].items() if k != "label_noise"}
    return (tuple(sorted(task.items())), config.optimizer.structure(), config.dtype)


COMPILED_GROUPS = ((compiled_supports, CompiledDiagNetGroup), (matrix_compiled_supports, CompiledMatrixGroup))


def compiled_group_for(config: RunConfig, device):
    """The compiled group class that runs this configuration on `device`, or None (the torch path)."""
    return next((group for supports, group in COMPILED_GROUPS if supports(config, device)), None)


def runs_alone(config: RunConfig, device) -> bool:
    """Whether a run must be its own group to be batch-invariant: on the CPU the torch path is
    (matrix factorization's batched products give each run the same bits; the diagonal network's
    shared-input products and Shampoo's batched eigh do not)."""
    if device.type != "cpu" or compiled_group_for(config, device) is not None:
        return False
    return not (descriptor_of(config.task).torch_batch_invariant and REGISTRY[config.optimizer.name].torch_batch_invariant)


def _build_group(records: List[RunRecord], device, reference: bool) -> ObservedGroup:
    compiled = {compiled_group_for(r.config, device) for r in records}
    if not reference and len(compiled) == 1 and None not in compiled:
        return compiled.pop()(records)
    return TorchGroup(records, resolve_dtype(records[0].config.dtype, device), device)


def run_batch(configs: Sequence[RunConfig], device: str = "auto", cancel=None,
              reference: bool = False) -> Iterator[Snapshot]:
    """Run `configs` together; yields a Snapshot at each logging point and a last one with done=True.

    `cancel` is anything with `is_set()` (a threading or multiprocessing Event).
    All configurations must share `log_every` and `log_points`. `reference=True` runs every group on the torch
    path (what the compiled loop is tested and benchmarked against).
    """
    if not configs:
        raise ConfigError("no runs to do")
    cadences = {(c.log_every, c.log_points) for c in configs}
    if len(cadences) > 1:
        raise ConfigError(f"runs batched together must share log_every and log_points (got {sorted(cadences)})")
    dev = resolve_device(device)
    check_memory(configs, available_bytes(dev))
    records = [RunRecord(c) for c in configs]
    groups: Dict[tuple, List[RunRecord]] = {}
    for i, rec in enumerate(records):
        groups.setdefault(group_key(rec.config) + ((i,) if runs_alone(rec.config, dev) else ()), []).append(rec)
    start = time.perf_counter()
    built = [_build_group(rs, dev, reference) for rs in groups.values()]
    total = max(c.steps for c in configs)
    check_every = min(g.check_every for g in built)
    for g in built:
        g.observe()
    t = 0
    yield Snapshot(0, total, time.perf_counter() - start, records, False, built)
    while any(g.running() for g in built):
        stop = min(c.next_log_after(t) for c in configs if c.steps > t)
        cancelled = False
        while t < stop:
            steps = min(stop - t, check_every)
            for g in built:
                if g.running():
                    g.advance(steps)
            t += steps
            if cancel is not None and cancel.is_set():
                cancelled = True
                break
        for g in built:
            g.observe(cancelled=cancelled)
        done = not any(g.running() for g in built)
        yield Snapshot(t, total, time.perf_counter() - start, records, done, built)


def warm_up() -> None:
    """Load (or compile, on a fresh install) both compiled loops and numba's CPU target: a second or
    more that a worker pays at start rather than at its first race."""
    run_all([RunConfig(task=DiagNetTask(dim=2, samples=1, sparsity=1), steps=1),
             RunConfig(task=MatrixFactorizationTask(size=2, rank=1, samples=2), steps=1)], device="cpu")


def run_all(configs: Sequence[RunConfig], device: str = "auto", cancel=None,
            reference: bool = False) -> List[RunRecord]:
    """Run to the end and return the records."""
    snapshot = None
    for snapshot in run_batch(configs, device=device, cancel=cancel, reference=reference):
        pass
    return snapshot.records
