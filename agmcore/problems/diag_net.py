"""Sparse regression with a diagonal linear network, for a group of R runs (docs/science.md §3.1, §4).

    f(z) = ⟨u⊙u − v⊙v, z⟩,   L(θ) = (1/2n) Σ_i (f(z_i) − y_i − ξ_i)²,   y = ⟨w*, z⟩

Gradients and curvature are closed forms, O(nd) per run. With r = f − y (clean residual),
c_j = (1/n) Σ_i r_i z_ij and s_j = (1/n) Σ_i z_ij²:

    ∇_u L = 2 c ⊙ u,  ∇_v L = −2 c ⊙ v
    diag H: 4 s u² + 2c (u) and 4 s v² − 2c (v);   tr H = 4 Σ_j s_j (u_j² + v_j²)

Both input laws are isotropic with unit variance, so the population (test) loss is ½‖w − w*‖².
"""
from __future__ import annotations

import functools
from typing import Dict, List, Optional, Sequence, Tuple

import torch

from agmcore.problems.oracles import min_l1_interpolator, min_lhalf_interpolator
from agmcore.problems.randomness import LabelNoise, generator, signs_or_normals, stack_per_run
from agmcore.problems.regression import LabelNoiseRegression
from agmcore.problems.settings import DiagNetTask
from agmcore.problems.sharpness import trace_of_power

Params = Dict[str, torch.Tensor]


def draw_data(task: DiagNetTask, seed: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """(w*, Z): w* has κ nonzeros at random coordinates with values uniform on ±[0.01, 1);
    Z of shape (n, d) follows the input law."""
    gen = generator(seed, "data")
    support = torch.randperm(task.dim, generator=gen)[: task.sparsity]
    magnitude = 0.01 + 0.99 * torch.rand(task.sparsity, generator=gen, dtype=torch.float64)
    sign = signs_or_normals("rademacher", (task.sparsity,), gen)
    w_star = torch.zeros(task.dim, dtype=torch.float64)
    w_star[support] = sign * magnitude
    return w_star, signs_or_normals(task.input_law, (task.samples, task.dim), gen)


def initial_params(task: DiagNetTask, seed: int) -> Params:
    """Tied (the authors'): u₀ = v₀ = α·g, g ~ N(0, I), so w₀ = 0 exactly. Independent: u₀, v₀ two
    draws of α·N(0, I), so w₀ ≈ 0 with excess loss ½‖w₀‖² ≈ α⁴·d (docs/science.md §3.1)."""
    gen = generator(seed, "init")
    u = task.init_scale * torch.randn(task.dim, generator=gen, dtype=torch.float64)
    if task.init == "tied":
        return {"u": u, "v": u.clone()}
    v = task.init_scale * torch.randn(task.dim, generator=gen, dtype=torch.float64)
    return {"u": u, "v": v}


PROFILE_BINS = 100  # the weight profile keeps at most this many numbers per logged step


def profile_bin_size(dim: int) -> int:
    """Coordinates per bin of the weight profile: 1 up to d = 100, then ⌈d / 100⌉."""
    return -(-dim // PROFILE_BINS)


def binned_max(values: torch.Tensor) -> torch.Tensor:
    """max over consecutive bins of profile_bin_size(d) coordinates: (R, d) -> (R, ≤ 100)."""
    size = profile_bin_size(values.shape[1])
    pad = (-values.shape[1]) % size
    padded = torch.nn.functional.pad(values, (0, pad))
    return padded.view(values.shape[0], -1, size).amax(2)


@functools.lru_cache(maxsize=64)
def oracle_interpolators(task: DiagNetTask, seed: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """(min-ℓ1, min-ℓ^½) interpolators of a dataset (oracles.py), cached per (task, seed)."""
    w_star, z = draw_data(task, seed)
    z_np, y_np = z.numpy(), (z @ w_star).numpy()
    return (torch.from_numpy(min_l1_interpolator(z_np, y_np)),
            torch.from_numpy(min_lhalf_interpolator(z_np, y_np)))


MAX_EXPONENT_STEP = 4.0  # the most one Newton step of Φ may change any 4s_j (u_j² by e^±4)
PROJECTION_TOLERANCE = 1e-13  # Φ stops once max |Zw − y| ≤ this × (1 + max |y|)
PROJECTION_ITERATIONS = 200  # and after at most this many Newton steps


def _backtracked(objective, x: torch.Tensor, direction: torch.Tensor, base: torch.Tensor, slope: torch.Tensor,
                 first: torch.Tensor, active: torch.Tensor, halvings: int = 60) -> torch.Tensor:
    """Per-run Armijo step t ∈ {t₀, t₀/2, t₀/4, …}: objective(x + t·d) ≤ base + 10⁻⁴·t·slope, with
    base = objective(x) and slope = ∇objective·d < 0; 0 for inactive runs or when no halving succeeds."""
    t = torch.where(active, first, torch.zeros_like(first))
    accepted = ~active
    for _ in range(halvings):
        trial = objective(x + t.unsqueeze(1) * direction)
        ok = torch.isfinite(trial) & (trial <= base + 1e-4 * t * slope)
        accepted = accepted | ok
        if bool(accepted.all()):
            break
        t = torch.where(accepted, t, t / 2)
    return torch.where(accepted & active, t, torch.zeros_like(t))


def weights(params: Params) -> torch.Tensor:
    """w = u⊙u − v⊙v."""
    return params["u"] * params["u"] - params["v"] * params["v"]


class DiagNetProblem(LabelNoiseRegression):
    """R runs of one task shape; runs with equal seeds share data, init and noise."""

    exact_flow_limit = True  # gradient_flow_limit: Newton on the dual, to round-off

    def __init__(self, task: DiagNetTask, seeds: Sequence[int], label_noise: Sequence[float],
                 dtype: torch.dtype, device: torch.device, oracles: bool = False):
        self.task, self.seeds, self.dtype, self.device = task, list(seeds), dtype, device
        unique = sorted(set(seeds))
        to = dict(dtype=dtype, device=device)
        data = {s: draw_data(task, s) for s in unique}
        self.w_star = stack_per_run({s: d[0] for s, d in data.items()}, seeds).to(**to)
        inputs = {s: d[1] for s, d in data.items()}
        self.shared_inputs = len(unique) == 1
        if self.shared_inputs:
            self.Z = inputs[unique[0]].to(**to)  # (n, d)
            self.y = self.w_star[:1] @ self.Z.T  # (1, n)
            self.s = (self.Z * self.Z).mean(0).expand(len(seeds), -1)  # (R, d)
        else:
            self.Z = stack_per_run(inputs, seeds).to(**to)  # (R, n, d)
            self.y = torch.einsum("rnd,rd->rn", self.Z, self.w_star)
            self.s = (self.Z * self.Z).mean(1)
        self.delta = torch.tensor(list(label_noise), **to).unsqueeze(1)  # (R, 1)
        self.noise = LabelNoise(seeds, task.samples, task.noise_law, task.batch_size, dtype, device)
        self._init = {s: initial_params(task, s) for s in unique}
        self.oracles = None
        if oracles:
            found = {s: oracle_interpolators(task, s) for s in unique}
            self.oracles = tuple(stack_per_run({s: f[i] for s, f in found.items()}, seeds).to(**to) for i in (0, 1))

    # ---------------------------------------------------------------- model
    def init_params(self) -> Params:
        return {k: stack_per_run({s: p[k] for s, p in self._init.items()}, self.seeds).to(self.dtype).to(self.device)
                for k in ("u", "v")}

    def predict(self, w: torch.Tensor) -> torch.Tensor:
        """f(z_i) for every training input: (R, n)."""
        if self.shared_inputs:
            return w @ self.Z.T
        return torch.einsum("rnd,rd->rn", self.Z, w)

    def correlate(self, r: torch.Tensor) -> torch.Tensor:
        """Zᵀ r per run: (R, d)."""
        if self.shared_inputs:
            return r @ self.Z
        return torch.einsum("rnd,rn->rd", self.Z, r)

    def residual(self, params: Params) -> torch.Tensor:
        return self.predict(weights(params)) - self.y

    def grads_from(self, params: Params, r: torch.Tensor) -> Params:
        c = self.correlate(r)
        return {"u": 2 * c * params["u"], "v": -2 * c * params["v"]}

    def gram(self, q: torch.Tensor) -> torch.Tensor:
        """Z diag(q) Zᵀ per run: (R, n, n) for weights q (R, d)."""
        if self.shared_inputs:
            return torch.einsum("nd,rd,md->rnm", self.Z, q, self.Z)
        return torch.einsum("rnd,rd,rmd->rnm", self.Z, q, self.Z)

    # ---------------------------------------------------------------- projection Φ
    def gradient_flow_limit(self, params: Params, tolerance: float = PROJECTION_TOLERANCE,
                            max_iterations: int = PROJECTION_ITERATIONS) -> Params:
        """Φ(θ): where the clean gradient flow from θ = (u₀, v₀) ends, found exactly.

        Along the flow u' = −2c⊙u, v' = 2c⊙v with c = Zᵀr/n, so u = u₀e^{−2s}, v = v₀e^{2s} with
        s = Zᵀμ in the row space of Z, and the end point interpolates: Z w(μ) = y. That is the
        stationarity of the convex dual G(μ) = ¼ Σ_j (u₀_j² e^{−4s_j} + v₀_j² e^{4s_j}) + μᵀy
        (∇G = y − Zw, ∇²G = 4 Z diag(u² + v²) Zᵀ; μ is `dual` in the code; λ is AdamE's power),
        solved by Newton's method with a backtracking line search on ‖y − Zw‖² until
        max |Zw − y| ≤ tolerance·(1 + max |y|) (or a run's line search finds no decrease:
        round-off). u⊙v is conserved, as on the flow."""
        a, b = params["u"] ** 2, params["v"] ** 2
        y = self.y.expand(a.shape[0], -1)
        limit = tolerance * (1 + y.abs().amax(1))

        def exponent(dual):
            return 4 * self.correlate(dual)

        def flow_point(dual):
            """(u², v², y − Zw) at the flow point of the dual variable μ."""
            s4 = exponent(dual)
            u2, v2 = a * torch.exp(-s4), b * torch.exp(s4)
            return u2, v2, y - self.predict(u2 - v2)

        def merit(dual):
            r = flow_point(dual)[2]
            return (r * r).sum(1)

        dual = torch.zeros_like(y)
        active = torch.ones(y.shape[0], dtype=torch.bool, device=y.device)
        for _ in range(max_iterations):
            u2, v2, r = flow_point(dual)
            active = active & (r.abs().amax(1) > limit)
            if not bool(active.any()):
                break
            hess = 4 * self.gram(u2 + v2)
            jitter = 1e-15 * hess.diagonal(dim1=1, dim2=2).sum(1).clamp_min(1e-300)
            eye = torch.eye(hess.shape[1], dtype=hess.dtype, device=hess.device)
            direction = torch.linalg.solve(hess + jitter[:, None, None] * eye, -r.unsqueeze(2)).squeeze(2)
            # a full step may scale some u_j² by e^{±hundreds}: start from one that moves every
            # exponent 4s_j by at most MAX_EXPONENT_STEP, then backtrack
            first = (MAX_EXPONENT_STEP / exponent(direction).abs().amax(1)).clamp(max=1.0)
            now = (r * r).sum(1)
            step = _backtracked(merit, dual, direction, now, -2 * now, first, active)
            active = active & (step > 0)
            dual = dual + step.unsqueeze(1) * direction
        s2 = exponent(dual) / 2
        return {"u": params["u"] * torch.exp(-s2), "v": params["v"] * torch.exp(s2)}

    # ---------------------------------------------------------------- curvature
    def hessian_diagonal(self, params: Params) -> Params:
        """Exact diag(H) of the clean loss, per parameter (R, d) each."""
        c = self.correlate(self.residual(params)) / self.task.samples
        u, v = params["u"], params["v"]
        return {"u": 4 * self.s * u * u + 2 * c, "v": 4 * self.s * v * v - 2 * c}

    def hessian_trace(self, params: Params) -> torch.Tensor:
        """tr H = 4 Σ s (u² + v²) (residual terms cancel): (R,)."""
        return 4 * (self.s * (params["u"] ** 2 + params["v"] ** 2)).sum(1)

    # ---------------------------------------------------------------- measures
    def test_loss(self, params: Params) -> torch.Tensor:
        diff = weights(params) - self.w_star
        return 0.5 * (diff * diff).sum(1)

    def metrics(self, params: Params, diag: Optional[Params] = None) -> Dict[str, torch.Tensor]:
        """Every per-step measure of the history, each (R,)."""
        w = weights(params)
        diag = self.hessian_diagonal(params) if diag is None else diag  # the caller may have it already
        clean = self.residual(params)
        return {
            "train_loss": 0.5 * (clean * clean).mean(1),
            "test_loss": self.test_loss(params),
            "trace_H": self.hessian_trace(params),
            "trace_sqrt_diag_H": trace_of_power(diag, 0.5),
            "l1": w.abs().sum(1),
            "l_half": w.abs().sqrt().sum(1),
            "weight_profile": binned_max(w.abs()),
            **self._oracle_distances(w),
        }

    def _oracle_distances(self, w: torch.Tensor) -> Dict[str, torch.Tensor]:
        """‖w − w₁‖₂ and ‖w − w½‖₂ to the oracles (only when they were asked for)."""
        if self.oracles is None:
            return {}
        return {"dist_l1_oracle": (w - self.oracles[0]).norm(dim=1),
                "dist_lhalf_oracle": (w - self.oracles[1]).norm(dim=1)}

    def final_extras(self, params: Params) -> Dict[str, torch.Tensor]:
        """Support precision and recall: |w_j| ≥ ½·min_{k∈S*} |w*_k| counts as recovered."""
        w = weights(params)
        truth = self.w_star != 0
        threshold = 0.5 * torch.where(truth, self.w_star.abs(), torch.inf).min(1, keepdim=True).values
        found = w.abs() >= threshold
        hits = (found & truth).sum(1).to(self.dtype)
        return {
            "support_precision": hits / found.sum(1).clamp_min(1).to(self.dtype),
            "support_recall": hits / truth.sum(1).to(self.dtype),
        }

    def arrays(self, params: Params) -> List[Dict[str, list]]:
        """Per run: the parameters, w and w* as lists (for the JSON result)."""
        w = weights(params)
        out = [{"params": {"u": params["u"][i].tolist(), "v": params["v"][i].tolist()},
                "w": w[i].tolist(), "w_star": self.w_star[i].tolist()} for i in range(w.shape[0])]
        if self.oracles is not None:
            for i, run in enumerate(out):
                run.update(w_l1_oracle=self.oracles[0][i].tolist(), w_lhalf_oracle=self.oracles[1][i].tolist())
        return out
