"""What the compiled loops share (compiled_group.py, compiled_matrix_group.py): per-run
hyperparameters as arrays, the label-noise chunks, stepping a chunk at a time, stopping runs.

A subclass sets `kernel` (its numba `advance`), `_state` and `_data`, and calls `_take`,
`_read_hyperparameters`, `_start_noise` and `_watch` in its constructor (docs/engine.md).
"""
from __future__ import annotations

from typing import List

import numpy as np
import torch

from agmcore.engine.config import RunConfig
from agmcore.engine.observation import DENOISING_OMEGA, EXPLOSION_FACTOR, ObservedGroup
from agmcore.engine.results import RunRecord
from agmcore.optimizers.family import REGISTRY
from agmcore.problems import diag_net_kernels as kernels
from agmcore.problems.randomness import LabelNoise


class CompiledLoopGroup(ObservedGroup):
    """R runs of one shape and optimizer structure, stepped by a compiled kernel run by run."""

    check_every = 2048  # steps between looks at the cancel event
    kernel = None  # the task's compiled advance(state, data, noise, hyper, structure, t0, steps, ω)

    def _take(self, records: List[RunRecord]):
        """Keep the records and their task; (configs, each run's seed, the distinct seeds sorted), and
        self.row: each run's row in the per-seed data (rows U)."""
        self.records = records
        configs = [r.config for r in records]
        self.task = configs[0].task
        seeds = [c.seed for c in configs]
        unique = sorted(set(seeds))
        self.row = np.array([unique.index(s) for s in seeds], dtype=np.int64)
        return configs, seeds, unique

    def _read_hyperparameters(self, configs: List[RunConfig], block: int):
        """Per-run hyperparameters as arrays, the group's structure flags (`block` entries share a
        second moment), and each run's own measure tr(S·H) (SGD's S = I is λ = 0)."""
        runs, opt = len(configs), configs[0].optimizer
        hyper = lambda name: np.array([float(getattr(c.optimizer, name)) for c in configs])  # noqa: E731
        self.lr, self.beta1, self.beta2, self.lam, self.eps = (hyper(k) for k in ("lr", "beta1", "beta2", "lam", "eps"))
        self.delta = np.array([c.task.label_noise for c in configs])
        member = REGISTRY[opt.name]
        heavy_ball = member.momentum == "heavy ball"
        self.block = block
        self._structure = kernels.Structure(heavy_ball, opt.beta1 != 0, member.preconditioned, opt.bias_correction, block)
        self.measure_block = np.full(runs, block if member.preconditioned else 1, dtype=np.int64)
        self.measure_lam = self.lam.copy() if member.preconditioned else np.zeros(runs)

    def _start_noise(self, unique: List[int], task):
        """Each seed's label-noise stream (randomness.LabelNoise), drawn a chunk at a time."""
        self.noise = LabelNoise(unique, task.samples, task.noise_law, task.batch_size, torch.float64, torch.device("cpu"))
        self.zeta = self.batch_weights = None
        self.position = self.noise.chunk

    def _watch(self, configs: List[RunConfig], initial_loss: np.ndarray):
        """What is watched while stepping: divergence (EXPLOSION_FACTOR × the start's loss), the tail
        average's first step, whether Φ(θ_t) is measured."""
        runs = len(configs)
        self.alive = np.ones(runs, dtype=bool)
        self.diverged_at = np.full(runs, -1, dtype=np.int64)
        self.average_from = np.array([c.steps - int(c.tail_average * c.steps) for c in configs], dtype=np.int64)
        self.limit = EXPLOSION_FACTOR * np.maximum(initial_loss, 1.0)
        self.project = any(c.manifold_metrics for c in configs)
        self._hyper = kernels.Hyper(self.lr, self.beta1, self.beta2, self.lam, self.eps, self.limit, self.average_from)

    def _next_noise_chunk(self):
        zeta, batches = self.noise.draw_chunk()  # (K, U, n), (K, U, b)
        self.zeta = np.ascontiguousarray(zeta.permute(1, 0, 2).numpy())
        if batches is None:
            self.batch_weights = np.zeros((0, 0, 0))
        else:
            mask = torch.zeros_like(zeta).scatter_(2, batches, 1.0 / self.noise.batch_size)
            self.batch_weights = np.ascontiguousarray(mask.permute(1, 0, 2).numpy())
        self.position = 0

    def advance(self, steps: int):
        """Take `steps` steps of every alive run, a noise chunk at a time."""
        while steps > 0:
            if self.position >= self.noise.chunk:
                self._next_noise_chunk()
            k = min(steps, self.noise.chunk - self.position)
            self.kernel(self._state, self._data, kernels.Noise(self.zeta, self.batch_weights, self.position, self.delta),
                        self._hyper, self._structure, self.t, k, DENOISING_OMEGA)
            self.position += k
            self.t += k
            steps -= k

    def diverged_steps(self) -> List[int]:
        return self.diverged_at.tolist()

    def stop(self, keep: List[bool]):
        self.alive &= np.array(keep, dtype=bool)
