"""Every curvature quantity against a dense torch.func.hessian, on and off the manifold."""
import pytest
import torch

from agmcore.engine.config import DiagNetTask, MatrixFactorizationTask
from agmcore.problems.curvature import exact_hessian_diagonal, hutchinson_diagonal, hutchinson_trace
from agmcore.problems.diag_net import DiagNetProblem
from agmcore.problems.matrix_factorization import MatrixFactorizationProblem
from agmcore.problems.projection import gradient_flow_projection, project_to_manifold
from agmcore.problems.sharpness import trace_of_power

CPU = torch.device("cpu")


def _flat(params):
    return torch.cat([p[0].reshape(-1) for p in params.values()])


def _unflat(problem, params, x):
    out, start = {}, 0
    for k, p in params.items():
        n = p[0].numel()
        out[k] = x[start:start + n].view(p.shape[1:]).unsqueeze(0).expand(p.shape[0], *p.shape[1:])
        start += n
    return out


def _dense(problem, params):
    """Dense Hessian of run 0's clean loss."""
    loss = lambda x: problem.clean_loss_and_grads(_unflat(problem, params, x))[0][0]  # noqa: E731
    x = _flat(params)
    return loss, x, torch.func.hessian(loss)(x)


def _perturbed_diag_net(law, seeds, scale):
    """A small diagonal net and its initialisation moved by scale·N(0, I) (off the manifold)."""
    task = DiagNetTask(dim=12, samples=6, sparsity=2, input_law=law)
    problem = DiagNetProblem(task, seeds, [0.5] * len(seeds), torch.float64, CPU)
    g = torch.Generator().manual_seed(5)
    return problem, {k: v + scale * torch.randn(v.shape, generator=g) for k, v in problem.init_params().items()}


def _diag_net_points():
    problem, far = _perturbed_diag_net("gaussian", [0, 0], 0.7)
    init = problem.init_params()
    near = gradient_flow_projection(problem, far, max_steps=20000, tolerance=1e-20)  # on it
    return problem, {"init": init, "off": far, "on": near}


@pytest.mark.parametrize("where", ["init", "off", "on"])
def test_diag_net_closed_forms(where):
    problem, points = _diag_net_points()
    params = points[where]
    loss, x, hessian = _dense(problem, params)
    diag = problem.hessian_diagonal(params)
    torch.testing.assert_close(_flat(diag), hessian.diagonal(), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(problem.hessian_trace(params)[0], hessian.trace(), rtol=1e-10, atol=1e-12)
    dense_sqrt = hessian.diagonal().clamp_min(0).sqrt().sum()
    torch.testing.assert_close(problem.metrics(params)["trace_sqrt_diag_H"][0], dense_sqrt, rtol=1e-10, atol=1e-12)
    if where == "on":
        assert problem.clean_loss_and_grads(params)[0][0] < 1e-20
        u, v = params["u"][0], params["v"][0]
        s = (problem.Z**2).mean(0)
        # on Γ: tr(Diag(H)^½) = 2 Σ √s (|u| + |v|)
        torch.testing.assert_close(dense_sqrt, 2 * (s.sqrt() * (u.abs() + v.abs())).sum(), rtol=1e-8, atol=1e-10)
    if where == "off":
        assert (hessian.diagonal() < 0).any()  # the clamp matters off the manifold


@pytest.mark.parametrize("measurement", ["entries", "gaussian"])
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_matrix_factorization_diagonal(measurement, depth):
    task = MatrixFactorizationTask(size=4, rank=1, depth=depth, samples=10, measurement=measurement)
    problem = MatrixFactorizationProblem(task, [2, 2], [0.5, 0.5], torch.float64, CPU)
    for scale in (1.0, 8.0):  # near init and far from it
        params = {k: scale * v for k, v in problem.init_params().items()}
        loss, x, hessian = _dense(problem, params)
        torch.testing.assert_close(_flat(problem.hessian_diagonal(params)), hessian.diagonal(), rtol=1e-10, atol=1e-13)
        torch.testing.assert_close(problem.hessian_trace(params)[0], hessian.trace(), rtol=1e-10, atol=1e-13)
        grad = torch.func.grad(loss)(x)
        torch.testing.assert_close(_flat(problem.clean_loss_and_grads(params)[1]), grad, rtol=1e-10, atol=1e-13)


def test_matrix_factorization_on_manifold():
    task = MatrixFactorizationTask(size=4, rank=1, depth=2, samples=6, measurement="entries")
    problem = MatrixFactorizationProblem(task, [1], [0.5], torch.float64, CPU)
    params = {k: 5 * v for k, v in problem.init_params().items()}
    near = gradient_flow_projection(problem, params, max_steps=50000, tolerance=1e-18)
    assert problem.clean_loss_and_grads(near)[0][0] < 1e-16
    _, _, hessian = _dense(problem, near)
    torch.testing.assert_close(_flat(problem.hessian_diagonal(near)), hessian.diagonal(), rtol=1e-9, atol=1e-12)


def test_diag_net_gradient_matches_autograd():
    problem, points = _diag_net_points()
    params = points["off"]
    loss, x, _ = _dense(problem, params)
    torch.testing.assert_close(_flat(problem.clean_loss_and_grads(params)[1]), torch.func.grad(loss)(x))


def _test_function():
    a = torch.randn(8, 8, generator=torch.Generator().manual_seed(0))
    a = a @ a.T
    return (lambda x: 0.5 * x @ a @ x + (x**4).sum() + torch.sin(x).prod()), torch.linspace(-1, 1, 8)


def test_generic_exact_diagonal():
    f, x = _test_function()
    torch.testing.assert_close(exact_hessian_diagonal(f, x, chunk=3), torch.func.hessian(f)(x).diagonal())


def test_hutchinson_is_unbiased_within_its_error():
    f, x = _test_function()
    h = torch.func.hessian(f)(x)
    gen = torch.Generator().manual_seed(1)
    tr = hutchinson_trace(f, x, samples=4000, generator=gen)
    assert abs(tr.value - h.trace()) < 4 * tr.stderr
    assert tr.stderr < 0.05 * h.trace().abs()
    diag = hutchinson_diagonal(f, x, samples=4000, generator=gen)
    assert ((diag.value - h.diagonal()).abs() < 4 * diag.stderr + 1e-12).all()


def test_trace_of_power_clamps_negative_entries():
    diag = {"a": torch.tensor([[4.0, -1.0]]), "b": torch.tensor([[9.0]])}
    assert trace_of_power(diag, 0.5).item() == pytest.approx(5.0)
    assert trace_of_power(diag, 1.0).item() == pytest.approx(13.0)


@pytest.mark.parametrize("law,seeds", [("gaussian", [0, 1]), ("rademacher", [3, 3])])
def test_diag_net_exact_projection_interpolates_and_keeps_the_flow_invariant(law, seeds):
    problem, far = _perturbed_diag_net(law, seeds, 0.4)
    exact = project_to_manifold(problem, far)
    assert (problem.clean_loss_and_grads(exact)[0] < 1e-24).all()
    torch.testing.assert_close(exact["u"] * exact["v"], far["u"] * far["v"], rtol=0, atol=1e-14)
    assert not torch.allclose(exact["u"], far["u"], atol=1e-3)  # it did move


def test_diag_net_exact_projection_is_the_gradient_flow_limit():
    """The discrete flow θ − h∇L approaches the exact Φ as h shrinks, with error ∝ h."""
    problem, far = _perturbed_diag_net("gaussian", [0, 1], 0.4)
    exact = project_to_manifold(problem, far)
    step = 1 / problem.hessian_trace(far)
    errors = []
    for fraction in (1.0, 0.1):
        theta = dict(far)
        for _ in range(int(3000 / fraction)):
            _, grads = problem.clean_loss_and_grads(theta)
            theta = {k: p - (fraction * step)[:, None] * grads[k] for k, p in theta.items()}
        errors.append(max((theta[k] - exact[k]).abs().max().item() for k in theta))
    assert errors[1] < 2e-3
    assert 5 < errors[0] / errors[1] < 20  # first order in h: the flow's limit is the exact Φ
