"""Matrix-factorization runs stepped by the compiled loop (problems/matrix_factorization_kernels.py).

Each run is stepped and measured by its own loop, so its result is the same bits alone, in any
batch and in any worker process (docs/engine.md). Covered: the members whose second moment is a
block of a factor's entries (`OptimizerDescriptor.matrix_block`: SGD, RMSProp, Adam, AdamE-λ,
Adam-mini, Adalayer), depths ≥ 1, completion and Gaussian sensing, float64, without the
projection Φ(θ_t) (a discretised flow; such runs stay on the torch path). As on the torch path
the denoised measures are read at θ̄ itself (problems/projection.denoising_point).
"""
from __future__ import annotations

from typing import Dict, List

import numpy as np
import torch

from agmcore import DENOISED
from agmcore.engine.compiled_loop import CompiledLoopGroup
from agmcore.engine.config import MatrixFactorizationTask, RunConfig
from agmcore.engine.observation import json_values
from agmcore.engine.results import RunRecord
from agmcore.optimizers.family import REGISTRY
from agmcore.problems import matrix_factorization_kernels as kernels
from agmcore.problems.matrix_factorization import draw_data, initial_params


def matrix_compiled_supports(config: RunConfig, device: torch.device) -> bool:
    """Whether the compiled matrix loop runs this configuration (else the torch group does)."""
    return (device.type == "cpu" and isinstance(config.task, MatrixFactorizationTask) and config.dtype == "float64"
            and REGISTRY[config.optimizer.name].matrix_block is not None and not config.manifold_metrics)


def singular_value_measures(products: np.ndarray, rank: int) -> Dict[str, np.ndarray]:
    """Nuclear norm, effective rank exp(entropy of σ/Σσ) and the top min(m, 2r + 3) singular
    values of each W (R, m, m), as `MatrixFactorizationProblem.metrics` computes them."""
    sv = np.linalg.svd(products, compute_uv=False)  # (R, m), descending; one LAPACK call a matrix
    tiny = np.finfo(float).tiny
    p = sv / np.maximum(sv.sum(1, keepdims=True), tiny)
    entropy = -(p * np.log(np.maximum(p, tiny))).sum(1)
    return {"nuclear_norm": sv.sum(1), "effective_rank": np.exp(entropy),
            "singular_values": sv[:, : min(products.shape[-1], 2 * rank + 3)]}


class CompiledMatrixGroup(CompiledLoopGroup):
    """R matrix-factorization runs of one shape and optimizer structure, as numpy arrays."""

    kernel = staticmethod(kernels.advance)

    def __init__(self, records: List[RunRecord]):
        configs, seeds, unique = self._take(records)
        self.task: MatrixFactorizationTask
        self._draw_data(unique)
        runs, task, opt = len(configs), self.task, configs[0].optimizer
        shape = (runs, task.depth, task.size, task.size)
        self.factors = np.ascontiguousarray(np.stack([np.stack([p[f"W{k + 1}"].numpy() for k in range(task.depth)])
                                                      for p in (initial_params(task, s) for s in seeds)]))
        block = REGISTRY[opt.name].matrix_block(opt.block_size, task.size**2)
        self._read_hyperparameters(configs, block)
        self.moment, self.sums, self.averaged = np.zeros(shape), np.zeros(shape), np.zeros(runs)
        self.second = np.zeros((runs, task.depth, -(-task.size**2 // block)))
        self.bar = self.factors.copy()  # θ̄ (observation.DENOISING_OMEGA)
        self._start_noise(unique, task)
        self._watch(configs, self._measures(self.factors)[0][:, 0])
        self._state = kernels.MatrixState(self.factors, self.moment, self.second, self.sums, self.averaged, self.bar,
                                          self.alive, self.diverged_at)  # the same arrays
        self._data = kernels.MatrixData(self.rows, self.cols, self.sensing, self.y, self.row)
        self.t = 0

    def _draw_data(self, unique: List[int]):
        """W*, the observed entries or sensing matrices, the clean labels and the test mask of each
        seed (rows U)."""
        task, m = self.task, self.task.size
        data = [draw_data(task, s) for s in unique]
        self.w_star = np.stack([w.numpy() for w, _ in data])  # (U, m, m)
        flat = self.w_star.reshape(len(unique), -1)
        if task.measurement == "entries":
            index = np.stack([a.numpy() for _, a in data])  # (U, n, 2)
            self.rows, self.cols = np.ascontiguousarray(index[..., 0]), np.ascontiguousarray(index[..., 1])
            self.sensing = np.zeros((len(unique), 0, 0, 0))
            self.y = np.take_along_axis(flat, self.rows * m + self.cols, 1)
            held_out = np.ones_like(flat)
            np.put_along_axis(held_out, self.rows * m + self.cols, 0.0, 1)
            self.test_mask = held_out if task.samples < m * m else np.ones_like(flat)
        else:
            self.sensing = np.ascontiguousarray(np.stack([a.numpy() for _, a in data]))  # (U, n, m, m)
            self.rows = self.cols = np.zeros((len(unique), 0), dtype=np.int64)
            self.y = np.einsum("unij,uij->un", self.sensing, self.w_star)
            self.test_mask = np.ones_like(flat)

    # ---------------------------------------------------------------- measures
    def _measures(self, factors: np.ndarray):
        """(R, 5) scalar measures (kernels.MEASURE_NAMES) and the products W (R, m, m) at `factors`."""
        out = np.empty((factors.shape[0], len(kernels.MEASURE_NAMES)))
        products = np.empty(factors.shape[:1] + factors.shape[2:])
        kernels.measures(factors, self.rows, self.cols, self.sensing, self.y, self.w_star, self.test_mask, self.row,
                         self.measure_block, self.measure_lam, out, products)
        return out, products

    def _named_measures(self, factors: np.ndarray, suffix: str, scalars_only: bool = False) -> Dict[str, list]:
        """Every measure at `factors` by name with `suffix`, in the torch path's order (the
        problem's metrics, then tr(S·H)); `scalars_only`: without the singular values and tr(S·H),
        as the torch path's scalar_metrics."""
        out, products = self._measures(factors)
        columns = dict(zip(kernels.MEASURE_NAMES, out.T))
        measures = {name: columns[name] for name in ("train_loss", "test_loss", "trace_H", "trace_sqrt_diag_H")}
        measures.update(singular_value_measures(products, self.task.rank))
        if scalars_only:
            del measures["singular_values"]
        else:
            measures["implied_sharpness"] = columns["implied_sharpness"]
        return {f"{name}{suffix}": json_values(values) for name, values in measures.items()}

    def _arrays(self, factors: np.ndarray) -> List[Dict]:
        products = np.empty(factors.shape[:1] + factors.shape[2:])
        kernels.products(factors, products)
        return [{"params": {f"W{k + 1}": json_values(factors[i, k]) for k in range(self.task.depth)},
                 "W": json_values(products[i]), "W_star": self.w_star[self.row[i]].tolist()}
                for i in range(len(self.records))]

    # ---------------------------------------------------------------- ObservedGroup's hooks
    def logged_metrics(self) -> Dict[str, list]:
        return {**self._named_measures(self.factors, ""), **self._named_measures(self.bar, DENOISED)}

    def run_arrays(self) -> List[Dict]:
        out = self._arrays(self.factors)
        for run, denoised in zip(out, self._arrays(self.bar)):
            run[f"W{DENOISED}"] = denoised["W"]
        return out

    def final_extras(self, i: int) -> Dict[str, float]:
        return {}

    def averaged_results(self):
        count = np.maximum(self.averaged, 1.0)[:, None, None, None]
        counted = (self.averaged > 0)[:, None, None, None]
        theta = np.where(counted, self.sums / count, self.factors)
        return (self._named_measures(theta, "_avg", scalars_only=True),
                {f"W{k + 1}": json_values(theta[:, k]) for k in range(self.task.depth)})
