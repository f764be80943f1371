"""Deep matrix factorization under label noise, for a group of R runs (docs/science.md §3.2).

    W = W_L ⋯ W_1,   f_i = ⟨A_i, W⟩,   L = (1/2n) Σ_i (f_i − y_i − ξ_i)²,   y_i = ⟨A_i, W*⟩

A_i is an indicator e_a e_bᵀ (completion, "entries") or a Gaussian matrix with N(0, 1/m²)
entries (sensing). Writing W = P_k W_k Q_k (P_k = W_L⋯W_{k+1}, Q_k = W_{k−1}⋯W_1) and
G = (1/n) Σ r_i A_i:

    ∇_{W_k} L = P_kᵀ G Q_kᵀ
    diag H over W_k: (1/n) Σ_i (P_kᵀ A_i Q_kᵀ)²   (exact: f is linear in each single entry,
                                                   so the residual term of H has a zero diagonal)

Test loss: ½·mean squared error on the held-out entries (completion; all entries when none
are held out) or the population loss ½‖W − W*‖²_F / m² (sensing).
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import torch

from agmcore.problems.randomness import LabelNoise, generator, stack_per_run
from agmcore.problems.regression import LabelNoiseRegression
from agmcore.problems.settings import MatrixFactorizationTask
from agmcore.problems.sharpness import trace_of_power

Params = Dict[str, torch.Tensor]


def draw_data(task: MatrixFactorizationTask, seed: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """(W*, A): W* = U Vᵀ/√r with U, V ~ N(0, 1) of shape (m, r) (entries of unit variance);
    A is (n, 2) observed (row, column) indices or (n, m, m) Gaussian measurement matrices."""
    m, gen = task.size, generator(seed, "data")
    left = torch.randn(m, task.rank, generator=gen, dtype=torch.float64)
    right = torch.randn(m, task.rank, generator=gen, dtype=torch.float64)
    w_star = left @ right.T / task.rank**0.5
    if task.measurement == "entries":
        flat = torch.randperm(m * m, generator=gen)[: task.samples]
        return w_star, torch.stack([flat // m, flat % m], 1)
    return w_star, torch.randn(task.samples, m, m, generator=gen, dtype=torch.float64) / m


def initial_params(task: MatrixFactorizationTask, seed: int) -> Params:
    """W_k with i.i.d. N(0, α²/m) entries."""
    gen, m = generator(seed, "init"), task.size
    return {f"W{k + 1}": task.init_scale / m**0.5 * torch.randn(m, m, generator=gen, dtype=torch.float64)
            for k in range(task.depth)}


def product(params: Params) -> torch.Tensor:
    """W = W_L ⋯ W_1 (R, m, m)."""
    names = sorted(params, key=lambda k: int(k[1:]))
    out = params[names[0]]
    for k in names[1:]:
        out = params[k] @ out
    return out


def _outer_products(params: Params) -> List[Tuple[str, torch.Tensor, torch.Tensor]]:
    """(name, P_k, Q_k) for each factor, with W = P_k W_k Q_k."""
    names = sorted(params, key=lambda k: int(k[1:]))
    eye = torch.eye(params[names[0]].shape[-1], dtype=params[names[0]].dtype, device=params[names[0]].device)
    eye = eye.expand_as(params[names[0]])
    below, q = [], eye
    for k in names:
        below.append(q)
        q = params[k] @ q
    out, p = [], eye
    for i in range(len(names) - 1, -1, -1):
        out.append((names[i], p, below[i]))
        p = p @ params[names[i]]
    return out[::-1]


class MatrixFactorizationProblem(LabelNoiseRegression):
    """R runs of one task shape; runs with equal seeds share data, init and noise."""

    def __init__(self, task: MatrixFactorizationTask, seeds: Sequence[int], label_noise: Sequence[float],
                 dtype: torch.dtype, device: torch.device):
        self.task, self.seeds, self.dtype, self.device = task, list(seeds), dtype, device
        to = dict(dtype=dtype, device=device)
        unique = sorted(set(seeds))
        data = {s: draw_data(task, s) for s in unique}
        self.w_star = stack_per_run({s: d[0] for s, d in data.items()}, seeds).to(**to)  # (R, m, m)
        m = task.size
        if task.measurement == "entries":
            idx = stack_per_run({s: d[1] for s, d in data.items()}, seeds).to(device)  # (R, n, 2)
            self.flat_index = idx[..., 0] * m + idx[..., 1]  # (R, n)
            held_out = torch.ones(len(seeds), m * m, dtype=torch.bool, device=device)
            held_out.scatter_(1, self.flat_index, False)
            self.test_mask = held_out if bool(held_out.any(1).all()) else torch.ones_like(held_out)
        else:
            self.A = stack_per_run({s: d[1] for s, d in data.items()}, seeds).to(**to)  # (R, n, m, m)
        self.y = self.measure(self.w_star)
        self.delta = torch.tensor(list(label_noise), **to).unsqueeze(1)
        self.noise = LabelNoise(seeds, task.samples, task.noise_law, task.batch_size, dtype, device)
        self._init = {s: initial_params(task, s) for s in unique}

    def init_params(self) -> Params:
        names = self._init[self.seeds[0]].keys()
        return {k: stack_per_run({s: p[k] for s, p in self._init.items()}, self.seeds).to(self.dtype).to(self.device)
                for k in names}

    # ---------------------------------------------------------------- measurement operator
    def measure(self, w: torch.Tensor) -> torch.Tensor:
        """f_i = ⟨A_i, W⟩ per run: (R, n)."""
        if self.task.measurement == "entries":
            return w.reshape(w.shape[0], -1).gather(1, self.flat_index)
        return torch.einsum("rnij,rij->rn", self.A, w)

    def adjoint(self, r: torch.Tensor) -> torch.Tensor:
        """Σ_i r_i A_i per run: (R, m, m)."""
        m = self.task.size
        if self.task.measurement == "entries":
            return r.new_zeros(r.shape[0], m * m).scatter_add_(1, self.flat_index, r).view(-1, m, m)
        return torch.einsum("rn,rnij->rij", r, self.A)

    def residual(self, params: Params) -> torch.Tensor:
        return self.measure(product(params)) - self.y

    def grads_from(self, params: Params, r: torch.Tensor) -> Params:
        g = self.adjoint(r)
        return {k: p.transpose(-1, -2) @ g @ q.transpose(-1, -2) for k, p, q in _outer_products(params)}

    # ---------------------------------------------------------------- curvature
    def hessian_diagonal(self, params: Params) -> Params:
        """Exact diag(H) of the clean loss (see module docstring)."""
        n, out = self.task.samples, {}
        for k, p, q in _outer_products(params):
            if self.task.measurement == "entries":
                m = self.task.size
                rows, cols = self.flat_index // m, self.flat_index % m
                p_rows = torch.gather(p, 1, rows.unsqueeze(-1).expand(-1, -1, m))  # (R, n, m): P[a_i, :]
                q_cols = torch.gather(q.transpose(-1, -2), 1, cols.unsqueeze(-1).expand(-1, -1, m))  # Q[:, b_i]
                out[k] = (p_rows * p_rows).transpose(-1, -2) @ (q_cols * q_cols) / n
            else:
                j = p.transpose(-1, -2).unsqueeze(1) @ self.A @ q.transpose(-1, -2).unsqueeze(1)  # (R, n, m, m)
                out[k] = (j * j).mean(1)
        return out

    def hessian_trace(self, params: Params) -> torch.Tensor:
        return trace_of_power(self.hessian_diagonal(params), 1.0)

    # ---------------------------------------------------------------- measures
    def test_loss(self, params: Params) -> torch.Tensor:
        diff = (product(params) - self.w_star).reshape(len(self.seeds), -1)
        if self.task.measurement == "entries":
            mask = self.test_mask.to(diff.dtype)
            return 0.5 * (diff * diff * mask).sum(1) / mask.sum(1)
        return 0.5 * (diff * diff).mean(1)

    def metrics(self, params: Params, diag: Optional[Params] = None) -> Dict[str, torch.Tensor]:
        w = product(params)
        clean = self.residual(params)
        diag = self.hessian_diagonal(params) if diag is None else diag  # the caller may have it already
        sv = torch.linalg.svdvals(w)  # (R, m), descending
        p = sv / sv.sum(1, keepdim=True).clamp_min(torch.finfo(sv.dtype).tiny)
        entropy = -(p * torch.log(p.clamp_min(torch.finfo(sv.dtype).tiny))).sum(1)
        return {
            "train_loss": 0.5 * (clean * clean).mean(1),
            "test_loss": self.test_loss(params),
            "trace_H": trace_of_power(diag, 1.0),
            "trace_sqrt_diag_H": trace_of_power(diag, 0.5),
            "nuclear_norm": sv.sum(1),
            "effective_rank": torch.exp(entropy),
            "singular_values": sv[:, : min(self.task.size, 2 * self.task.rank + 3)],
        }

    def final_extras(self, params: Params) -> Dict[str, torch.Tensor]:
        return {}

    def arrays(self, params: Params) -> List[Dict[str, list]]:
        w = product(params)
        return [{"params": {k: v[i].tolist() for k, v in params.items()}, "W": w[i].tolist(),
                 "W_star": self.w_star[i].tolist()} for i in range(w.shape[0])]
