"""Second-moment statistics against straightforward dense reference computations."""
import numpy as np
import pytest
import scipy.linalg
import torch

from agmcore.optimizers import family

BETA1, BETA2, LR, EPS = 0.9, 0.95, 0.01, 1e-8


def _grads(shape, steps, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn((1,) + shape, generator=g) for _ in range(steps)]


def _run(transform, grads, whole=False):
    """Apply a transform to a stream of gradients; returns the updates (of run 0 unless whole)."""
    state = transform.init({"p": torch.zeros_like(grads[0])})
    out = []
    for g in grads:
        upd, state = transform.update({"p": g}, state)
        out.append(upd["p"] if whole else upd["p"][0])
    return out


def _reference(grads, stat_of, precondition, bias_correction=True):
    """Loop form of the AGM rule with a dense statistic and a given preconditioner."""
    m = v = None
    out = []
    for t, g in enumerate(grads, start=1):
        g = g[0].numpy()
        m = (1 - BETA1) * g if m is None else BETA1 * m + (1 - BETA1) * g
        s = stat_of(g)
        v = (1 - BETA2) * s if v is None else BETA2 * v + (1 - BETA2) * s
        c1, c2 = (1 - BETA1**t, 1 - BETA2**t) if bias_correction else (1.0, 1.0)
        out.append(-LR * precondition(v / c2, m) / c1)
    return out


def _compare(ours, ref):
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-10, atol=1e-13)


def test_block_mean_matches_dense_loop():
    block = 4
    shape = (3, 5)  # 15 entries: blocks of 4, 4, 4, 3

    def stat(g):
        flat = g.reshape(-1) ** 2
        out = np.empty_like(flat)
        for start in range(0, flat.size, block):
            out[start:start + block] = flat[start:start + block].mean()
        return out.reshape(g.shape)

    grads = _grads(shape, 30)
    ours = _run(family.adam_mini(LR, block_size=block, beta1=BETA1, beta2=BETA2, eps=EPS), grads)
    _compare(ours, _reference(grads, stat, lambda v, m: m / (np.sqrt(v) + EPS)))


def test_layer_mean_matches_dense_loop():
    grads = _grads((4, 6), 30)
    ours = _run(family.adalayer(LR, beta1=BETA1, beta2=BETA2, eps=EPS), grads)
    ref = _reference(grads, lambda g: np.full_like(g, (g**2).mean()), lambda v, m: m / (np.sqrt(v) + EPS))
    _compare(ours, ref)


def test_factored_matches_dense_loop():
    """Adafactor: v̂_ij = r_i c_j / Σr with r, c EMAs of row and column sums of G⊙G."""
    grads = _grads((4, 6), 30)
    ours = _run(family.adafactor(LR, beta1=BETA1, beta2=BETA2, eps=EPS), grads)
    rows = cols = None
    m = None
    for t, (g, upd) in enumerate(zip(grads, ours), start=1):
        g = g[0].numpy()
        m = (1 - BETA1) * g if m is None else BETA1 * m + (1 - BETA1) * g
        r_new, c_new = (g**2).sum(1), (g**2).sum(0)
        rows = (1 - BETA2) * r_new if rows is None else BETA2 * rows + (1 - BETA2) * r_new
        cols = (1 - BETA2) * c_new if cols is None else BETA2 * cols + (1 - BETA2) * c_new
        v = np.array([[rows[i] * cols[j] / rows.sum() for j in range(6)] for i in range(4)]) / (1 - BETA2**t)
        expected = -LR * m / (np.sqrt(v) + EPS) / (1 - BETA1**t)
        np.testing.assert_allclose(upd.numpy(), expected, rtol=1e-10, atol=1e-13)


def test_factored_vector_falls_back_to_adam():
    grads = _grads((7,), 20)
    _compare(_run(family.adafactor(LR, beta1=BETA1, beta2=BETA2, eps=EPS), grads),
             [u.numpy() for u in _run(family.adam(LR, beta1=BETA1, beta2=BETA2, eps=EPS), grads)])


def test_kronecker_matches_fractional_powers():
    """Shampoo: (L + εI)^{-1/4} M (R + εI)^{-1/4} with L, R EMAs of G Gᵀ and Gᵀ G; R is rank-deficient
    until 5 gradients have been seen, which ε keeps well defined."""
    grads = _grads((3, 5), 25)
    ours = _run(family.shampoo(LR, beta1=BETA1, beta2=BETA2, eps=1e-4), grads)
    left = right = m = None
    for t, (g, upd) in enumerate(zip(grads, ours), start=1):
        g = g[0].numpy()
        m = (1 - BETA1) * g if m is None else BETA1 * m + (1 - BETA1) * g
        left = (1 - BETA2) * g @ g.T if left is None else BETA2 * left + (1 - BETA2) * g @ g.T
        right = (1 - BETA2) * g.T @ g if right is None else BETA2 * right + (1 - BETA2) * g.T @ g
        c = 1 - BETA2**t
        lp = np.real(scipy.linalg.fractional_matrix_power(left / c + 1e-4 * np.eye(3), -0.25))
        rp = np.real(scipy.linalg.fractional_matrix_power(right / c + 1e-4 * np.eye(5), -0.25))
        np.testing.assert_allclose(upd.numpy(), -LR * lp @ m @ rp / (1 - BETA1**t), rtol=1e-8, atol=1e-11)


def test_full_matrix_form_on_vectors():
    grads = _grads((4,), 12)
    ours = _run(family.shampoo(LR, beta1=BETA1, beta2=BETA2, eps=1e-4), grads)
    full = m = None
    for t, (g, upd) in enumerate(zip(grads, ours), start=1):
        g = g[0].numpy()
        m = (1 - BETA1) * g if m is None else BETA1 * m + (1 - BETA1) * g
        full = (1 - BETA2) * np.outer(g, g) if full is None else BETA2 * full + (1 - BETA2) * np.outer(g, g)
        p = np.real(scipy.linalg.fractional_matrix_power(full / (1 - BETA2**t) + 1e-4 * np.eye(4), -0.5))
        np.testing.assert_allclose(upd.numpy(), -LR * p @ m / (1 - BETA1**t), rtol=1e-8, atol=1e-11)


def test_full_matrix_bound_is_enforced():
    with pytest.raises(ValueError, match="full-matrix"):
        family.shampoo(LR, max_full_matrix_dim=10).init({"p": torch.zeros(1, 11)})


def test_adame_power_matches_dense_loop():
    lam = 0.25
    grads = _grads((9,), 20)
    ours = _run(family.adame(LR, lam=lam, beta1=BETA1, beta2=BETA2, eps=EPS, bias_correction=False), grads)
    _compare(ours, _reference(grads, lambda g: g**2, lambda v, m: m / (v**lam + EPS), bias_correction=False))


@pytest.mark.parametrize("name", family.OPTIMIZER_NAMES)
def test_per_run_hyperparameters_equal_separate_runs(name):
    """A batch of 3 runs with per-run (R,) hyperparameters equals 3 separate runs."""
    lrs, b2s = [0.01, 0.02, 0.05], [0.9, 0.99, 0.999]
    lam = [0.5, 0.3, 0.7] if name == "adame" else [0.5] * 3
    b1 = [0.0] * 3 if name == "rmsprop" else [0.5, 0.8, 0.9]
    g = torch.Generator().manual_seed(3)
    grads = [torch.randn(3, 4, 5, generator=g) for _ in range(15)]
    batched = family.make_optimizer(name, lr=torch.tensor(lrs), beta1=torch.tensor(b1), beta2=torch.tensor(b2s),
                                    lam=torch.tensor(lam), block_size=3)
    together = _run(batched, grads, whole=True)
    for i in range(3):
        alone = family.make_optimizer(name, lr=lrs[i], beta1=b1[i], beta2=b2s[i], lam=lam[i], block_size=3)
        single = _run(alone, [x[i:i + 1] for x in grads])
        for a, b in zip(together, single):
            torch.testing.assert_close(a[i], b, rtol=1e-9, atol=1e-12)


def test_two_scheme():
    assert family.two_scheme_beta2(0.1) == pytest.approx(0.9)
    assert family.two_scheme_beta2(0.01, c=10, p=2) == pytest.approx(0.999)
    with pytest.raises(ValueError, match="2-scheme"):
        family.two_scheme_beta2(1.0)


def test_unknown_optimizer_is_named():
    with pytest.raises(ValueError, match="unknown optimizer 'adamw'"):
        family.make_optimizer("adamw", lr=0.1)
