"""Compiled (numba) step loop and measures of deep matrix factorization, one run at a time.

The same arithmetic as `MatrixFactorizationProblem` + `transforms.agm` (docs/engine.md):

    W = W_L ⋯ W_1 = P_k W_k Q_k,   f_i = ⟨A_i, W⟩,   r = f − y,   q = (r − δζ_t)/n  (a minibatch: ⊙b_t)
    G = Σ_i q_i A_i,   ∇_{W_k} = P_kᵀ G Q_kᵀ,   then the diagonal AGM update of each factor

with Q_k = W_{k−1}⋯W_1 ("below") and P_k = W_L⋯W_{k+1} ("above"). For completion A_i = e_a e_bᵀ
is never formed: f_i is row a of W_L dotted with column b of Q_L, and G is applied entry by entry,
so a depth-2 step costs O(n·m) plus the update's O(m²). The update is the diagonal network's
(`diag_net_kernels._update`) on each factor flattened row-major, so Adam-mini's blocks are runs
of `block` consecutive entries and Adalayer's block is the whole factor, as `moments.block_mean`
and `moments.layer_mean` read them.

Batch invariance: each run is stepped by its own loop over its own arrays, in an order that does
not depend on which other runs share the call (docs/engine.md).
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from agmcore.problems.diag_net_kernels import FAST, _implied, _update, noisy_weights

MatrixState = namedtuple("MatrixState", "factors moment second sums averaged bar alive diverged_at")
"""Per-run state, stepped in place: the factors (R, L, m, m), their momenta (R, L, m, m) and
second moments (R, L, blocks); the tail sums (R, L, m, m) and their count (R,); the running
average θ̄ (R, L, m, m); whether each run still steps and the step it diverged at (R,)."""
MatrixData = namedtuple("MatrixData", "rows cols sensing y row")
"""Each seed's observed entries (rows, cols: (U, n) int64) or sensing matrices (U, n, m, m; for
completion (U, 0, 0, 0)); the clean labels y (U, n); row (R,): each run's seed row."""


@njit(cache=True, fastmath=FAST, error_model="numpy")
def _matmul(a, b, out):
    """out = a @ b (m×m)."""
    m = a.shape[0]
    for i in range(m):
        for j in range(m):
            out[i, j] = 0.0
        for k in range(m):
            aik = a[i, k]
            for j in range(m):
                out[i, j] += aik * b[k, j]


@njit(cache=True, fastmath=FAST, error_model="numpy")
def _matmul_tn(a, b, out):
    """out = aᵀ @ b (m×m)."""
    m = a.shape[0]
    for i in range(m):
        for j in range(m):
            out[i, j] = 0.0
    for k in range(m):
        for i in range(m):
            aki = a[k, i]
            for j in range(m):
                out[i, j] += aki * b[k, j]


@njit(cache=True, fastmath=FAST, error_model="numpy")
def _transpose(a, out):
    """out = aᵀ (m×m)."""
    m = a.shape[0]
    for i in range(m):
        for j in range(m):
            out[j, i] = a[i, j]


@njit(cache=True, fastmath=FAST, error_model="numpy")
def _chain(factors, below, above, below_t):
    """below[l] = W_l ⋯ W_1 (W_0 ⋯ = I, not written) and its transpose below_t[l] (so that its
    columns are contiguous rows), above[l] = W_L ⋯ W_{l+2} (above[L−1] = I, not written),
    associated as `matrix_factorization._outer_products` does."""
    depth = factors.shape[0]
    if depth > 1:
        below[1, :, :] = factors[0]
        above[depth - 2, :, :] = factors[depth - 1]
    for l in range(2, depth):
        _matmul(factors[l - 1], below[l - 1], below[l])
    for l in range(depth - 3, -1, -1):
        _matmul(above[l + 1], factors[l + 1], above[l])
    for l in range(1, depth):
        _transpose(below[l], below_t[l])


@njit(cache=True, fastmath=FAST, error_model="numpy")
def _forward(factors, below, below_t, rows, cols, sensing, w, f):
    """f_i = ⟨A_i, W⟩ with W = W_L · below[L−1]; W is written only for sensing."""
    depth, m = factors.shape[0], factors.shape[1]
    last = factors[depth - 1]
    n = f.shape[0]
    if sensing.shape[0] == 0:
        for i in range(n):
            a, b = rows[i], cols[i]
            if depth == 1:
                f[i] = last[a, b]
                continue
            q_t = below_t[depth - 1]
            acc = 0.0
            for p in range(m):
                acc += last[a, p] * q_t[b, p]
            f[i] = acc
        return
    if depth == 1:
        w[:, :] = last
    else:
        _matmul(last, below[depth - 1], w)
    for i in range(n):
        acc = 0.0
        for a in range(m):
            for b in range(m):
                acc += sensing[i, a, b] * w[a, b]
        f[i] = acc


@njit(cache=True, fastmath=FAST, error_model="numpy")
def _gradients(factors, below, above, below_t, rows, cols, sensing, q, grads, dense, scratch):
    """grads[l] = P_lᵀ G Q_lᵀ with G = Σ_i q_i A_i (entry by entry for completion)."""
    depth, m = factors.shape[0], factors.shape[1]
    n = q.shape[0]
    completion = sensing.shape[0] == 0
    if not completion:
        for a in range(m):
            for b in range(m):
                dense[a, b] = 0.0
        for i in range(n):
            qi = q[i]
            for a in range(m):
                for b in range(m):
                    dense[a, b] += qi * sensing[i, a, b]
    for l in range(depth):
        out = grads[l]
        top, bottom = l == depth - 1, l == 0  # P_l = I, Q_l = I
        if completion and top and bottom:
            out[:, :] = 0.0
            for i in range(n):
                out[rows[i], cols[i]] += q[i]
        elif completion and top:  # G Q_lᵀ: row a_i gains q_i · Q_l[:, b_i]
            out[:, :] = 0.0
            q_t = below_t[l]
            for i in range(n):
                a, b, qi = rows[i], cols[i], q[i]
                for c in range(m):
                    out[a, c] += qi * q_t[b, c]
        elif completion and bottom:  # P_lᵀ G: column b_i gains q_i · P_l[a_i, :], kept transposed
            scratch[:, :] = 0.0
            pk = above[l]
            for i in range(n):
                a, b, qi = rows[i], cols[i], q[i]
                for c in range(m):
                    scratch[b, c] += qi * pk[a, c]
            _transpose(scratch, out)
        else:
            if completion:  # X = G Q_lᵀ, entry by entry
                scratch[:, :] = 0.0
                q_t = below_t[l]
                for i in range(n):
                    a, b, qi = rows[i], cols[i], q[i]
                    for c in range(m):
                        scratch[a, c] += qi * q_t[b, c]
            elif bottom:
                scratch[:, :] = dense
            else:  # X = G Q_lᵀ
                for a in range(m):
                    for c in range(m):
                        acc = 0.0
                        for b in range(m):
                            acc += dense[a, b] * below[l][c, b]  # rows of both: contiguous
                        scratch[a, c] = acc
            if top:
                out[:, :] = scratch
            else:
                _matmul_tn(above[l], scratch, out)


@njit(cache=True, fastmath=FAST, error_model="numpy")
def advance(state, data, noise, hyper, structure, t0, steps, omega):
    """Step every alive run `steps` times from step t0, in place (MatrixState, MatrixData, and the
    diagonal network's Noise, Hyper, Structure: diag_net_kernels). A run whose clean loss is
    non-finite or above its limit stops there unchanged (diverged_at = that step); θ̄ and the tail
    sums follow `diag_net_kernels.advance`."""
    factors, moment, second, sums, averaged, bar, alive, diverged_at = state
    rows, cols, sensing, y, data_index = data
    zetas, batch_weights, noise_position, delta = noise
    lr, beta1, beta2, lam, eps, limit, average_from = hyper
    heavy_ball, use_momentum, use_second, bias_correction, block = structure
    runs, depth, m = factors.shape[0], factors.shape[1], factors.shape[2]
    n = y.shape[1]
    size = m * m
    below = np.empty((depth, m, m))
    above = np.empty((depth, m, m))
    below_t = np.empty((depth, m, m))
    grads = np.empty((depth, m, m))
    w = np.empty((m, m))
    dense = np.empty((m, m))
    scratch = np.empty((m, m))
    f = np.empty(n)
    q = np.empty(n)
    for k in range(runs):
        if not alive[k]:
            continue
        row = data_index[k]
        rk, ck, yk = rows[row], cols[row], y[row]
        ak = sensing[row]
        for s in range(steps):
            t = t0 + s
            _chain(factors[k], below, above, below_t)
            _forward(factors[k], below, below_t, rk, ck, ak, w, f)
            total = 0.0
            for i in range(n):
                f[i] -= yk[i]
                total += f[i] * f[i]
            loss = 0.5 * (total / n)
            if not np.isfinite(loss) or loss > limit[k]:
                alive[k] = False
                diverged_at[k] = t
                break
            noisy_weights(f, zetas, batch_weights, row, noise_position + s, delta[k], q)
            _gradients(factors[k], below, above, below_t, rk, ck, ak, q, grads, dense, scratch)
            for l in range(depth):
                _update(factors[k, l].reshape(size), grads[l].reshape(size), moment[k, l].reshape(size),
                        second[k, l], t + 1, lr[k], beta1[k], beta2[k], lam[k], eps[k], heavy_ball, use_momentum,
                        use_second, bias_correction, block)
            weight_now = (omega + 1.0) / (t + 1.0 + omega)
            flat, flat_bar = factors[k].reshape(depth * size), bar[k].reshape(depth * size)
            for j in range(depth * size):
                flat_bar[j] += weight_now * (flat[j] - flat_bar[j])
            if t + 1 > average_from[k]:
                averaged[k] += 1.0
                flat_sum = sums[k].reshape(depth * size)
                for j in range(depth * size):
                    flat_sum[j] += flat[j]


@njit(cache=True, fastmath=FAST, error_model="numpy")
def _hessian_diagonal(p, qk, rows, cols, sensing, out, work):
    """diag H over one factor: (1/n) Σ_i (P_lᵀ A_i Q_lᵀ)² (entries: P[a_i, :]² ⊗ Q[:, b_i]²)."""
    m = p.shape[0]
    n = rows.shape[0] if sensing.shape[0] == 0 else sensing.shape[0]
    out[:, :] = 0.0
    if sensing.shape[0] == 0:
        for i in range(n):
            a, b = rows[i], cols[i]
            for c in range(m):
                left = p[a, c] * p[a, c]
                for e in range(m):
                    out[c, e] += left * (qk[e, b] * qk[e, b])
    else:
        left, jac = work
        for i in range(n):
            _matmul_tn(p, sensing[i], left)
            for c in range(m):
                for e in range(m):
                    acc = 0.0
                    for b in range(m):
                        acc += left[c, b] * qk[e, b]
                    jac[c, e] = acc
            for c in range(m):
                for e in range(m):
                    out[c, e] += jac[c, e] * jac[c, e]
    for c in range(m):
        for e in range(m):
            out[c, e] /= n


@njit(cache=True, fastmath=FAST, error_model="numpy")
def _product(factors, below, above, below_t, w):
    """w = W_L · (W_{L−1} ⋯ W_1) of one run, associated as `matrix_factorization.product`."""
    depth = factors.shape[0]
    _chain(factors, below, above, below_t)
    if depth == 1:
        w[:, :] = factors[0]
    else:
        _matmul(factors[depth - 1], below[depth - 1], w)


@njit(cache=True, fastmath=FAST, error_model="numpy")
def products(factors, out):
    """out[k] = W of run k (R, m, m): what a run's arrays list, without the measures."""
    runs, depth, m = factors.shape[0], factors.shape[1], factors.shape[2]
    below, above, below_t = np.empty((depth, m, m)), np.empty((depth, m, m)), np.empty((depth, m, m))
    for k in range(runs):
        _product(factors[k], below, above, below_t, out[k])


@njit(cache=True, fastmath=FAST, error_model="numpy")
def measures(factors, rows, cols, sensing, y, w_star, test_mask, data_index, block, lam, out, products):
    """The logged scalar measures of every run at `factors` (R, L, m, m), one row of `out` per run:
    train loss, test loss (½ mean squared error over test_mask's entries), tr H, tr(Diag(H)^½),
    tr(S·H) of the run's own diagonal preconditioner (block, lam per run); products[k] = W."""
    runs, depth, m = factors.shape[0], factors.shape[1], factors.shape[2]
    n = y.shape[1]
    below = np.empty((depth, m, m))
    above = np.empty((depth, m, m))
    below_t = np.empty((depth, m, m))
    eye = np.zeros((m, m))
    for c in range(m):
        eye[c, c] = 1.0
    below[0, :, :] = eye
    above[depth - 1, :, :] = eye
    h = np.empty((m, m))
    w = np.empty((m, m))
    f = np.empty(n)
    work = (np.empty((m, m)), np.empty((m, m)))
    for k in range(runs):
        row = data_index[k]
        ak = sensing[row]
        _product(factors[k], below, above, below_t, w)
        products[k, :, :] = w
        _forward(factors[k], below, below_t, rows[row], cols[row], ak, w, f)
        train = 0.0
        for i in range(n):
            r = f[i] - y[row, i]
            train += r * r
        test = count = 0.0
        for a in range(m):
            for b in range(m):
                weight = test_mask[row, a * m + b]
                diff = w[a, b] - w_star[row, a, b]
                test += weight * diff * diff
                count += weight
        trace = root = implied = 0.0
        for l in range(depth):
            _hessian_diagonal(above[l], below[l], rows[row], cols[row], ak, h, work)
            for c in range(m):
                for e in range(m):
                    trace += max(h[c, e], 0.0)
                    root += np.sqrt(max(h[c, e], 0.0))
            implied += _implied(h.reshape(m * m), block[k], lam[k])
        out[k, 0] = 0.5 * (train / n)
        out[k, 1] = 0.5 * test / count
        out[k, 2] = trace
        out[k, 3] = root
        out[k, 4] = implied


MEASURE_NAMES = ("train_loss", "test_loss", "trace_H", "trace_sqrt_diag_H", "implied_sharpness")
