"""Compiled (numba) step loop and measures of the diagonal network, one run at a time.

The same arithmetic as `DiagNetProblem` + `transforms.agm` (docs/engine.md):

    w = u⊙u − v⊙v,  r = Z w − y,  q = (r − δζ_t)/n  (a minibatch: q = (r − δζ_t)⊙b_t)
    c = Zᵀq,  g_u = 2c⊙u,  g_v = −2c⊙v
    m ← β1 m + g (heavy ball) or β1 m + (1 − β1) g;   v_B ← β2 v_B + (1 − β2)·mean_B(g⊙g)
    θ ← θ − η/c_m · m / ((v_B / c_v)^λ + ε)

with B a block of consecutive coordinates of u or v (1: Adam, RMSProp, AdamE, Adafactor on a
vector; block_size: Adam-mini; d: Adalayer) and c_m, c_v the bias corrections (else 1).

Batch invariance: every run is stepped by its own loop over its own rows, in an order that does
not depend on which other runs share the call, so a run's bits are the same alone or in any
batch (`fastmath` reassociates sums, but the same way for every run of a shape).
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

# reassociation and FMA contraction let the dot products vectorize; no 'nnan'/'ninf', so the
# divergence check (a non-finite loss) still sees NaN and ∞
FAST = {"reassoc", "contract", "nsz"}  # error_model="numpy": x/0 gives ±∞ or NaN, as torch


@njit(cache=True, fastmath=FAST, error_model="numpy")
def _residual(z, y, u, v, w, out):
    """w = u² − v², out = Z w − y; returns Σ out²."""
    d = u.shape[0]
    for j in range(d):
        w[j] = u[j] * u[j] - v[j] * v[j]
    total = 0.0
    for i in range(z.shape[0]):
        acc = 0.0
        for j in range(d):
            acc += z[i, j] * w[j]
        r = acc - y[i]
        out[i] = r
        total += r * r
    return total


@njit(cache=True, fastmath=FAST, error_model="numpy")
def _correlate(z, q, out):
    """out = Zᵀ q."""
    d = z.shape[1]
    for j in range(d):
        out[j] = 0.0
    for i in range(z.shape[0]):
        qi = q[i]
        for j in range(d):
            out[j] += z[i, j] * qi


@njit(cache=True, fastmath=FAST, error_model="numpy")
def _update(p, g, m, second, t, lr, beta1, beta2, lam, eps, heavy_ball, use_momentum, use_second,
            bias_correction, block):
    """One AGM update of one parameter vector p (in place) from its gradient g."""
    d = p.shape[0]
    m_correction = 1.0
    if bias_correction and use_momentum and not heavy_ball:
        m_correction = 1.0 - beta1 ** float(t)
    scale = lr / m_correction
    for j in range(d):
        if use_momentum:
            if heavy_ball:
                m[j] = m[j] * beta1 + g[j]
            else:
                m[j] = m[j] * beta1 + g[j] * (1.0 - beta1)
        else:
            m[j] = g[j]
    if not use_second:
        for j in range(d):
            p[j] = p[j] + (-m[j]) * scale
        return
    v_correction = 1.0 - beta2 ** float(t) if bias_correction else 1.0
    for b in range(second.shape[0]):
        start = b * block
        stop = min(start + block, d)
        acc = 0.0
        for j in range(start, stop):
            acc += g[j] * g[j]
        second[b] = second[b] * beta2 + (acc / (stop - start)) * (1.0 - beta2)
        v_hat = second[b] / v_correction
        denominator = (np.sqrt(v_hat) if lam == 0.5 else v_hat ** lam) + eps
        for j in range(start, stop):
            p[j] = p[j] + (-(m[j] / denominator)) * scale


@njit(cache=True, fastmath=FAST, error_model="numpy")
def noisy_weights(r, zetas, batch_weights, row, step, delta, q):
    """q = (r − δζ_t)/n, or (r − δζ_t)⊙b_t with a minibatch (batch_weights of shape (0, 0, 0) for
    the full batch): the weights of this step's gradient Σ_i q_i ∇f_i."""
    n = r.shape[0]
    zeta = zetas[row, step]
    if batch_weights.shape[0] > 0:
        weight = batch_weights[row, step]
        for i in range(n):
            q[i] = (r[i] - delta * zeta[i]) * weight[i]
    else:
        for i in range(n):
            q[i] = (r[i] - delta * zeta[i]) / n


# What advance() reads and writes, grouped by what it is (numba passes named tuples of arrays).
RunState = namedtuple("RunState", "u v m_u m_v s_u s_v u_sum v_sum averaged u_bar v_bar alive diverged_at")
"""Per-run state, stepped in place: θ = (u, v) and its moments m, s (R, ·); the tail sums (R, d)
and their count (R,); the running average θ̄ = (u_bar, v_bar) (R, d); whether each run still
steps and the step it diverged at (R,)."""
Data = namedtuple("Data", "z y row")
"""Each seed's inputs z (U, n, d) and clean labels y (U, n); row (R,): each run's seed row."""
Noise = namedtuple("Noise", "zeta batch_weights position delta")
"""ζ (U, K, n); the minibatch weights b (U, K, n), or (0, 0, 0) for full batches; the chunk's next
unused step; each run's label-noise level δ (R,)."""
Hyper = namedtuple("Hyper", "lr beta1 beta2 lam eps limit average_from")
"""Per-run hyperparameters (R,): η, β1, β2, AdamE's power λ, ε, the divergence limit on the clean
loss and the tail average's first step."""
Structure = namedtuple("Structure", "heavy_ball use_momentum use_second bias_correction block")
"""The update rule, the same for every run of a group: heavy-ball momentum or EMA, momentum on,
second moment on, bias correction on, the second moment's block size."""


@njit(cache=True, fastmath=FAST, error_model="numpy")
def advance(state, data, noise, hyper, structure, t0, steps, omega):
    """Step every alive run `steps` times from step t0, in place (RunState, Data, Noise, Hyper,
    Structure above). A run whose clean loss is non-finite or above its limit stops there
    unchanged (diverged_at = that step). With average_from[r] < the step count, θ after each
    counted step is added to u_sum, v_sum. (u_bar, v_bar) is the running average
    θ̄_t ← θ̄_{t−1} + (ω+1)/(t+ω)·(θ_t − θ̄_{t−1}) (observation.denoising_weight)."""
    u, v, m_u, m_v, s_u, s_v, u_sum, v_sum, averaged, u_bar, v_bar, alive, diverged_at = state
    z, y, data_index = data
    zetas, batch_weights, noise_position, delta = noise
    lr, beta1, beta2, lam, eps, limit, average_from = hyper
    heavy_ball, use_momentum, use_second, bias_correction, block = structure
    runs, d = u.shape
    n = z.shape[1]
    w = np.empty(d)
    c = np.empty(d)
    g_u = np.empty(d)
    g_v = np.empty(d)
    r = np.empty(n)
    q = np.empty(n)
    for k in range(runs):
        if not alive[k]:
            continue
        row = data_index[k]
        zk, yk = z[row], y[row]
        for s in range(steps):
            t = t0 + s
            loss = 0.5 * (_residual(zk, yk, u[k], v[k], w, r) / n)
            if not np.isfinite(loss) or loss > limit[k]:
                alive[k] = False
                diverged_at[k] = t
                break
            noisy_weights(r, zetas, batch_weights, row, noise_position + s, delta[k], q)
            _correlate(zk, q, c)
            for j in range(d):
                g_u[j] = 2.0 * c[j] * u[k, j]
                g_v[j] = -2.0 * c[j] * v[k, j]
            _update(u[k], g_u, m_u[k], s_u[k], t + 1, lr[k], beta1[k], beta2[k], lam[k], eps[k],
                    heavy_ball, use_momentum, use_second, bias_correction, block)
            _update(v[k], g_v, m_v[k], s_v[k], t + 1, lr[k], beta1[k], beta2[k], lam[k], eps[k],
                    heavy_ball, use_momentum, use_second, bias_correction, block)
            weight_now = (omega + 1.0) / (t + 1.0 + omega)
            for j in range(d):
                u_bar[k, j] += weight_now * (u[k, j] - u_bar[k, j])
                v_bar[k, j] += weight_now * (v[k, j] - v_bar[k, j])
            if t + 1 > average_from[k]:
                averaged[k] += 1.0
                for j in range(d):
                    u_sum[k, j] += u[k, j]
                    v_sum[k, j] += v[k, j]


@njit(cache=True, fastmath=FAST, error_model="numpy")
def _implied(h, block, lam):
    """Σ_j h⁺_j / mean_B(h⁺)^λ over blocks B of `block` coordinates (0/0 counts 0): tr(S·H)
    of a diagonal preconditioner at its label-noise stationary point (sharpness.py)."""
    d = h.shape[0]
    total = 0.0
    for start in range(0, d, block):
        stop = min(start + block, d)
        acc = 0.0
        for j in range(start, stop):
            acc += max(h[j], 0.0)
        scale = (acc / (stop - start)) ** lam
        for j in range(start, stop):
            value = max(h[j], 0.0) / scale
            if np.isfinite(value):
                total += value
    return total


@njit(cache=True, fastmath=FAST, error_model="numpy")
def measures(u, v, z, y, w_star, s, data_index, block, lam, bins, out, profile):
    """The logged measures of every run at (u, v), one row of `out` per run:
    train loss, test loss, tr H, tr(Diag(H)^½), ‖w‖₁, Σ|w|^½, tr(S·H) of the run's own
    preconditioner (block, lam per run); profile[k] = max |w_j| over bins of `bins` coordinates."""
    runs, d = u.shape
    n = z.shape[1]
    w = np.empty(d)
    r = np.empty(n)
    c = np.empty(d)
    h_u = np.empty(d)
    h_v = np.empty(d)
    for k in range(runs):
        row = data_index[k]
        train = 0.5 * (_residual(z[row], y[row], u[k], v[k], w, r) / n)
        _correlate(z[row], r, c)
        test = l1 = l_half = trace = root = 0.0
        for j in range(d):
            diff = w[j] - w_star[row, j]
            test += diff * diff
            a = abs(w[j])
            l1 += a
            l_half += np.sqrt(a)
            u2, v2, cj = u[k, j] * u[k, j], v[k, j] * v[k, j], c[j] / n
            trace += s[row, j] * (u2 + v2)
            h_u[j] = 4.0 * s[row, j] * u2 + 2.0 * cj
            h_v[j] = 4.0 * s[row, j] * v2 - 2.0 * cj
            root += np.sqrt(max(h_u[j], 0.0)) + np.sqrt(max(h_v[j], 0.0))
        out[k, 0] = train
        out[k, 1] = 0.5 * test
        out[k, 2] = 4.0 * trace
        out[k, 3] = root
        out[k, 4] = l1
        out[k, 5] = l_half
        out[k, 6] = _implied(h_u, block[k], lam[k]) + _implied(h_v, block[k], lam[k])
        for b in range(profile.shape[1]):
            top = 0.0
            for j in range(b * bins, min((b + 1) * bins, d)):
                top = max(top, abs(w[j]))
            profile[k, b] = top


@njit(cache=True, fastmath=FAST, error_model="numpy")
def _flow_point(z, y, a, b, dual, s4, u2, v2, w, r):
    """The flow point of the dual variable μ: s4 = 4 Zᵀμ, u² = a e^{−s4}, v² = b e^{s4},
    r = y − Z(u² − v²); returns Σ r²."""
    _correlate(z, dual, s4)
    for j in range(a.shape[0]):
        s4[j] *= 4.0
        u2[j] = a[j] * np.exp(-s4[j])
        v2[j] = b[j] * np.exp(s4[j])
        w[j] = u2[j] - v2[j]
    total = 0.0
    for i in range(z.shape[0]):
        acc = 0.0
        for j in range(a.shape[0]):
            acc += z[i, j] * w[j]
        r[i] = y[i] - acc
        total += r[i] * r[i]
    return total


@njit(cache=True, fastmath=FAST, error_model="numpy")
def _dual_hessian(z, u2, v2, hess):
    """hess = 4 Z diag(u² + v²) Zᵀ (the Jacobian of −r in μ), plus a jitter of 1e-15·its trace."""
    n, d = z.shape
    trace = 0.0
    for i in range(n):
        for m in range(i + 1):
            acc = 0.0
            for j in range(d):
                acc += z[i, j] * (u2[j] + v2[j]) * z[m, j]
            hess[i, m] = hess[m, i] = 4.0 * acc
        trace += hess[i, i]
    jitter = 1e-15 * max(trace, 1e-300)
    for i in range(n):
        hess[i, i] += jitter


@njit(cache=True, fastmath=FAST, error_model="numpy")
def _line_search(z, y, a, b, dual, direction, t, now, trial, s4, u2, v2, w, scratch):
    """The step t along `direction`, halved until ‖r‖² falls enough (Armijo, c = 1e-4); 0.0 when
    sixty halvings do not find one."""
    for _halving in range(60):
        for i in range(dual.shape[0]):
            trial[i] = dual[i] + t * direction[i]
        merit = _flow_point(z, y, a, b, trial, s4, u2, v2, w, scratch)
        if np.isfinite(merit) and merit <= now + 1e-4 * t * (-2.0 * now):
            return t
        t = t / 2
    return 0.0


@njit(cache=True, fastmath=FAST, error_model="numpy")
def _solve_dual(z, y, a, b, dual, tolerance, max_iterations, max_exponent_step, work):
    """Newton on μ (in place, from its value) until max|r| ≤ tolerance·(1 + max|y|), the first step
    moving no exponent by more than max_exponent_step."""
    n = z.shape[0]
    s4, u2, v2, w, r, trial, scratch, hess = work
    limit = 0.0
    for i in range(n):
        limit = max(limit, abs(y[i]))
    limit = tolerance * (1.0 + limit)
    for _ in range(max_iterations):
        now = _flow_point(z, y, a, b, dual, s4, u2, v2, w, r)
        largest = 0.0
        for i in range(n):
            largest = max(largest, abs(r[i]))
        if not largest > limit:
            return
        _dual_hessian(z, u2, v2, hess)
        for i in range(n):
            scratch[i] = -r[i]
        direction = np.linalg.solve(hess, scratch)
        _correlate(z, direction, s4)
        steepest = 0.0
        for j in range(a.shape[0]):
            steepest = max(steepest, abs(4.0 * s4[j]))
        t = _line_search(z, y, a, b, dual, direction, min(max_exponent_step / steepest, 1.0), now, trial, s4, u2,
                         v2, w, scratch)
        if t == 0.0:
            return
        for i in range(n):
            dual[i] = dual[i] + t * direction[i]


@njit(cache=True, fastmath=FAST, error_model="numpy")
def project(u, v, z, y, data_index, out_u, out_v, tolerance, max_iterations, max_exponent_step, duals):
    """Φ(θ) of every run, the end of the clean gradient flow, into out_u, out_v: the algorithm of
    `DiagNetProblem.gradient_flow_limit` (Newton on the dual μ with a backtracking line search on
    ‖y − Zw‖², _solve_dual), run by run; then u = u₀ e^{−2Zᵀμ}, v = v₀ e^{2Zᵀμ}.
    Newton starts from duals[k] (zeros: a cold start) and leaves the solution there, so a
    projection of a slowly moving point (θ̄ at successive logging points) can start warm."""
    runs, d = u.shape
    n = z.shape[1]
    a, b = np.empty(d), np.empty(d)
    work = (np.empty(d), np.empty(d), np.empty(d), np.empty(d), np.empty(n), np.empty(n), np.empty(n),
            np.empty((n, n)))  # s4, u², v², w, r, trial, scratch, the Hessian
    s4 = work[0]
    for k in range(runs):
        zk, yk = z[data_index[k]], y[data_index[k]]
        for j in range(d):
            a[j] = u[k, j] * u[k, j]
            b[j] = v[k, j] * v[k, j]
        _solve_dual(zk, yk, a, b, duals[k], tolerance, max_iterations, max_exponent_step, work)  # in place
        _correlate(zk, duals[k], s4)
        for j in range(d):
            half = 4.0 * s4[j] / 2
            out_u[k, j] = u[k, j] * np.exp(-half)
            out_v[k, j] = v[k, j] * np.exp(half)


MEASURE_NAMES = ("train_loss", "test_loss", "trace_H", "trace_sqrt_diag_H", "l1", "l_half", "implied_sharpness")
