"""Diagonal-network runs stepped by the compiled loop (tasks/diag_net_kernels.py) on the CPU.

Each run is stepped and measured by its own loop, so its result is the same bits alone, in any
batch and in any worker process (docs/engine.md). The diagonal members of the AGM family are
covered: SGD (heavy ball), RMSProp, Adam, AdamE-λ, Adam-mini, Adalayer and Adafactor (which is
elementwise on vectors); float64 only. The projection Φ is compiled too; support recovery, taken
once a run, uses a one-run `DiagNetProblem`, which is batch-invariant for the same reason.
"""
from __future__ import annotations

from typing import Dict, List

import numpy as np
import torch

from agmcore import DENOISED
from agmcore.engine.config import DiagNetTask, RunConfig
from agmcore.engine.observation import DENOISING_OMEGA, EXPLOSION_FACTOR, ObservedGroup, clean_arrays, json_values
from agmcore.engine.results import RunRecord
from agmcore.optimizers.family import REGISTRY
from agmcore.problems import diag_net_kernels as kernels
from agmcore.problems.diag_net import (MAX_EXPONENT_STEP, PROJECTION_ITERATIONS, PROJECTION_TOLERANCE, DiagNetProblem,
                                       draw_data, initial_params, oracle_interpolators, profile_bin_size)
from agmcore.problems.randomness import LabelNoise

COMPILED_OPTIMIZERS = tuple(name for name, member in REGISTRY.items() if member.vector_block is not None)


def compiled_supports(config: RunConfig, device: torch.device) -> bool:
    """Whether the compiled loop runs this configuration (else the torch group does)."""
    return (device.type == "cpu" and isinstance(config.task, DiagNetTask) and config.dtype == "float64"
            and config.optimizer.name in COMPILED_OPTIMIZERS)


def warm_up() -> None:
    """Load (or compile, on a fresh install) the kernels and numba's CPU target: a second or more
    that a worker pays at start rather than at its first race."""
    group = CompiledDiagNetGroup([RunRecord(RunConfig(task=DiagNetTask(dim=2, samples=1, sparsity=1), steps=1))])
    group.advance(1)
    group.logged_metrics()


def second_moment_block(name: str, block_size: int, dim: int) -> int:
    """Coordinates that share one second moment: 1 (elementwise), Adam-mini's block, or all (Adalayer)."""
    return REGISTRY[name].vector_block(block_size, dim)


class CompiledDiagNetGroup(ObservedGroup):
    """R diagonal-network runs of one shape and optimizer structure, as numpy rows."""

    check_every = 2048  # steps between looks at the cancel event

    def __init__(self, records: List[RunRecord]):
        self.records = records
        configs = [r.config for r in records]
        self.task: DiagNetTask = configs[0].task
        seeds = [c.seed for c in configs]
        unique = sorted(set(seeds))
        self.row = np.array([unique.index(s) for s in seeds], dtype=np.int64)  # each run's seed's row of the data
        self._draw_data(unique)
        self._start(configs, seeds)
        self._read_hyperparameters(configs)
        self.noise = LabelNoise(unique, self.task.samples, self.task.noise_law, self.task.batch_size,
                                torch.float64, torch.device("cpu"))
        self.zeta = self.batch_weights = None
        self.position = self.noise.chunk
        self._watch(configs)
        self._state = kernels.RunState(self.u, self.v, self.m_u, self.m_v, self.s_u, self.s_v, self.u_sum, self.v_sum,
                                       self.averaged, self.u_bar, self.v_bar, self.alive, self.diverged_at)  # the same arrays
        self._data = kernels.Data(self.z, self.y, self.row)
        self._hyper = kernels.Hyper(self.lr, self.beta1, self.beta2, self.lam, self.eps, self.limit, self.average_from)
        self.oracles = None
        if any(c.oracle_metrics for c in configs):
            found = [oracle_interpolators(self.task, s) for s in unique]
            self.oracles = tuple(np.stack([f[i].numpy() for f in found]) for i in (0, 1))
        self._single: Dict[int, DiagNetProblem] = {}
        self.t = 0

    def _draw_data(self, unique: List[int]):
        """w*, the inputs and the clean labels of each seed (rows U)."""
        data = [draw_data(self.task, s) for s in unique]
        self.w_star = np.stack([w.numpy() for w, _ in data])  # (U, d)
        self.z = np.ascontiguousarray(np.stack([z.numpy() for _, z in data]))  # (U, n, d)
        self.y = np.stack([z @ w for w, z in zip(self.w_star, self.z)])  # (U, n), per seed
        self.s = (self.z * self.z).mean(1)  # (U, d)

    def _start(self, configs: List[RunConfig], seeds: List[int]):
        """Each run's initial u, v and its empty optimizer state, averages and Φ(θ̄)'s warm start."""
        init = [initial_params(self.task, s) for s in seeds]
        self.u = np.stack([p["u"].numpy() for p in init])
        self.v = np.stack([p["v"].numpy() for p in init])
        runs, opt = len(configs), configs[0].optimizer
        self.m_u, self.m_v = np.zeros_like(self.u), np.zeros_like(self.v)
        self.block = second_moment_block(opt.name, opt.block_size, self.task.dim)
        blocks = -(-self.task.dim // self.block)
        self.s_u, self.s_v = np.zeros((runs, blocks)), np.zeros((runs, blocks))
        self.u_sum, self.v_sum, self.averaged = np.zeros_like(self.u), np.zeros_like(self.v), np.zeros(runs)
        self.u_bar, self.v_bar = self.u.copy(), self.v.copy()  # θ̄ (observation.DENOISING_OMEGA)
        self.duals = np.zeros((runs, self.task.samples))  # Φ(θ̄)'s Newton, warm from the last logging point
        self.denoised_point = None  # Φ(θ̄) at the last logging point

    def _read_hyperparameters(self, configs: List[RunConfig]):
        """Per-run hyperparameters as arrays, the group's structure flags, and each run's own measure."""
        runs, opt = len(configs), configs[0].optimizer
        hyper = lambda name: np.array([float(getattr(c.optimizer, name)) for c in configs])  # noqa: E731
        self.lr, self.beta1, self.beta2, self.lam, self.eps = (hyper(k) for k in ("lr", "beta1", "beta2", "lam", "eps"))
        self.delta = np.array([c.task.label_noise for c in configs])
        member = REGISTRY[opt.name]
        heavy_ball = member.momentum == "heavy ball"
        self._structure = kernels.Structure(heavy_ball, opt.beta1 != 0, member.preconditioned, opt.bias_correction, self.block)
        # the measure tr(S·H) of each run's own preconditioner: SGD's S = I is λ = 0
        self.measure_block = np.full(runs, self.block if member.preconditioned else 1, dtype=np.int64)
        self.measure_lam = self.lam.copy() if member.preconditioned else np.zeros(runs)

    def _watch(self, configs: List[RunConfig]):
        """What is watched while stepping: divergence (EXPLOSION_FACTOR × the start's loss), the tail
        average's first step, whether Φ(θ_t) is measured."""
        runs = len(configs)
        self.alive = np.ones(runs, dtype=bool)
        self.diverged_at = np.full(runs, -1, dtype=np.int64)
        self.average_from = np.array([c.steps - int(c.tail_average * c.steps) for c in configs], dtype=np.int64)
        self.limit = EXPLOSION_FACTOR * np.maximum(self._measures(self.u, self.v)[0][:, 0], 1.0)
        self.project = any(c.manifold_metrics for c in configs)

    # ---------------------------------------------------------------- stepping
    def _next_noise_chunk(self):
        zeta, batches = self.noise.draw_chunk()  # (K, U, n), (K, U, b)
        self.zeta = np.ascontiguousarray(zeta.permute(1, 0, 2).numpy())
        if batches is None:
            self.batch_weights = np.zeros((0, 0, 0))
        else:
            mask = torch.zeros_like(zeta).scatter_(2, batches, 1.0 / self.task.batch_size)
            self.batch_weights = np.ascontiguousarray(mask.permute(1, 0, 2).numpy())
        self.position = 0

    def advance(self, steps: int):
        """Take `steps` steps of every alive run, a noise chunk at a time."""
        while steps > 0:
            if self.position >= self.noise.chunk:
                self._next_noise_chunk()
            k = min(steps, self.noise.chunk - self.position)
            kernels.advance(self._state, self._data, kernels.Noise(self.zeta, self.batch_weights, self.position, self.delta),
                            self._hyper, self._structure, self.t, k, DENOISING_OMEGA)
            self.position += k
            self.t += k
            steps -= k

    # ---------------------------------------------------------------- measures
    def _measures(self, u: np.ndarray, v: np.ndarray):
        """(R, 7) measures (kernels.MEASURE_NAMES) and the (R, bins) weight profile at (u, v)."""
        bins = profile_bin_size(self.task.dim)
        out = np.empty((u.shape[0], len(kernels.MEASURE_NAMES)))
        profile = np.empty((u.shape[0], -(-self.task.dim // bins)))
        kernels.measures(u, v, self.z, self.y, self.w_star, self.s, self.row, self.measure_block, self.measure_lam,
                         bins, out, profile)
        return out, profile

    def _named_measures(self, u: np.ndarray, v: np.ndarray, suffix: str) -> Dict[str, list]:
        """Every measure at (u, v) by name with `suffix`, the weight profile last."""
        out, profile = self._measures(u, v)
        named = {f"{name}{suffix}": column for name, column in zip(kernels.MEASURE_NAMES, json_values(out.T))}
        named[f"weight_profile{suffix}"] = json_values(profile)
        return named

    def _scalar_metrics(self, u: np.ndarray, v: np.ndarray, suffix: str) -> Dict[str, list]:
        """The per-run scalar measures of the history at (u, v), with the oracle distances."""
        metrics = self._named_measures(u, v, suffix)
        del metrics[f"implied_sharpness{suffix}"], metrics[f"weight_profile{suffix}"]
        return {**metrics, **self._oracle_distances(u, v, suffix)}

    def _oracle_distances(self, u: np.ndarray, v: np.ndarray, suffix: str) -> Dict[str, list]:
        """‖w − w₁‖₂ and ‖w − w½‖₂ to the oracles (only when they were asked for)."""
        if self.oracles is None:
            return {}
        w = u * u - v * v
        return {f"{name}{suffix}": json_values(np.sqrt(((w - oracle[self.row]) ** 2).sum(1)))
                for name, oracle in zip(("dist_l1_oracle", "dist_lhalf_oracle"), self.oracles)}

    def _single_problem(self, i: int) -> DiagNetProblem:
        """A one-run problem for run i (its support measures are then batch-invariant)."""
        if i not in self._single:
            c = self.records[i].config
            self._single[i] = DiagNetProblem(self.task, [c.seed], [c.task.label_noise], torch.float64,
                                             torch.device("cpu"))
        return self._single[i]

    def _projected(self, u: np.ndarray, v: np.ndarray, duals=None):
        """Φ of every run's (u, v), run by run (kernels.project); Newton starts cold, or from
        `duals` (updated in place)."""
        out_u, out_v = np.empty_like(u), np.empty_like(v)
        duals = np.zeros((u.shape[0], self.task.samples)) if duals is None else duals
        kernels.project(u, v, self.z, self.y, self.row, out_u, out_v, PROJECTION_TOLERANCE, PROJECTION_ITERATIONS,
                        MAX_EXPONENT_STEP, duals)
        return out_u, out_v

    # ---------------------------------------------------------------- ObservedGroup's hooks
    def diverged_steps(self) -> List[int]:
        return self.diverged_at.tolist()

    def logged_metrics(self) -> Dict[str, list]:
        metrics = self._named_measures(self.u, self.v, "")
        implied = metrics.pop("implied_sharpness")  # after the oracle distances, as the torch path orders them
        metrics.update(self._oracle_distances(self.u, self.v, ""), implied_sharpness=implied)
        self.denoised_point = self._projected(self.u_bar, self.v_bar, self.duals)
        metrics.update(self._named_measures(*self.denoised_point, DENOISED))
        if self.project:
            metrics.update(self._scalar_metrics(*self._projected(self.u, self.v), "_proj"))
        return metrics

    def run_arrays(self) -> List[Dict]:
        w = self.u * self.u - self.v * self.v
        u_bar, v_bar = self.denoised_point if self.denoised_point is not None else (self.u, self.v)
        w_bar = u_bar * u_bar - v_bar * v_bar
        out = [{"params": {"u": json_values(self.u[i]), "v": json_values(self.v[i])}, "w": json_values(w[i]),
                f"w{DENOISED}": json_values(w_bar[i]), "w_star": self.w_star[self.row[i]].tolist()}
               for i in range(len(self.records))]
        if self.oracles is not None:
            for i, run in enumerate(out):
                run.update(w_l1_oracle=self.oracles[0][self.row[i]].tolist(),
                           w_lhalf_oracle=self.oracles[1][self.row[i]].tolist())
        return out

    def final_extras(self, i: int) -> Dict[str, float]:
        params = {"u": torch.from_numpy(self.u[i:i + 1]), "v": torch.from_numpy(self.v[i:i + 1])}
        return clean_arrays({k: v.item() for k, v in self._single_problem(i).final_extras(params).items()})

    def averaged_results(self):
        count = np.maximum(self.averaged, 1.0)[:, None]
        counted = (self.averaged > 0)[:, None]
        u = np.where(counted, self.u_sum / count, self.u)
        v = np.where(counted, self.v_sum / count, self.v)
        out = self._scalar_metrics(u, v, "_avg")
        if self.project:
            out.update(self._scalar_metrics(*self._projected(u, v), "_avg_proj"))
        return out, {"u": json_values(u), "v": json_values(v)}

    def stop(self, keep: List[bool]):
        self.alive &= np.array(keep, dtype=bool)
