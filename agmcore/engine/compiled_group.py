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
from agmcore.engine.compiled_loop import CompiledLoopGroup
from agmcore.engine.config import DiagNetTask, RunConfig
from agmcore.engine.observation import clean_arrays, json_values
from agmcore.engine.results import RunRecord
from agmcore.optimizers.family import REGISTRY
from agmcore.problems import diag_net_kernels as kernels
from agmcore.problems.diag_net import (MAX_EXPONENT_STEP, PROJECTION_ITERATIONS, PROJECTION_TOLERANCE, DiagNetProblem,
                                       draw_data, initial_params, oracle_interpolators, profile_bin_size)

COMPILED_OPTIMIZERS = tuple(name for name, member in REGISTRY.items() if member.vector_block is not None)


def compiled_supports(config: RunConfig, device: torch.device) -> bool:
    """Whether the compiled loop runs this configuration (else the torch group does)."""
    return (device.type == "cpu" and isinstance(config.task, DiagNetTask) and config.dtype == "float64"
            and config.optimizer.name in COMPILED_OPTIMIZERS)


def second_moment_block(name: str, block_size: int, dim: int) -> int:
    """Coordinates that share one second moment: 1 (elementwise), Adam-mini's block, or all (Adalayer)."""
    return REGISTRY[name].vector_block(block_size, dim)


class CompiledDiagNetGroup(CompiledLoopGroup):
    """R diagonal-network runs of one shape and optimizer structure, as numpy rows."""

    kernel = staticmethod(kernels.advance)

    def __init__(self, records: List[RunRecord]):
        configs, seeds, unique = self._take(records)
        self.task: DiagNetTask
        self._draw_data(unique)
        self._start(configs, seeds)
        opt = configs[0].optimizer
        self._read_hyperparameters(configs, second_moment_block(opt.name, opt.block_size, self.task.dim))
        self._start_moments(len(configs))
        self._start_noise(unique, self.task)
        self._watch(configs, self._measures(self.u, self.v)[0][:, 0])
        self._state = kernels.RunState(self.u, self.v, self.m_u, self.m_v, self.s_u, self.s_v, self.u_sum, self.v_sum,
                                       self.averaged, self.u_bar, self.v_bar, self.alive, self.diverged_at)  # the same arrays
        self._data = kernels.Data(self.z, self.y, self.row)
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
        runs = len(configs)
        self.m_u, self.m_v = np.zeros_like(self.u), np.zeros_like(self.v)
        self.u_sum, self.v_sum, self.averaged = np.zeros_like(self.u), np.zeros_like(self.v), np.zeros(runs)
        self.u_bar, self.v_bar = self.u.copy(), self.v.copy()  # θ̄ (observation.DENOISING_OMEGA)
        self.duals = np.zeros((runs, self.task.samples))  # Φ(θ̄)'s Newton, warm from the last logging point
        self.denoised_point = None  # Φ(θ̄) at the last logging point

    def _start_moments(self, runs: int):
        """Empty second moments: one per block of `self.block` coordinates of u and of v."""
        blocks = -(-self.task.dim // self.block)
        self.s_u, self.s_v = np.zeros((runs, blocks)), np.zeros((runs, blocks))

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
