"""Task data, common random numbers and label noise."""
import torch

from agmcore.engine.config import DiagNetTask, MatrixFactorizationTask
from agmcore.problems.diag_net import DiagNetProblem, draw_data
from agmcore.problems.matrix_factorization import MatrixFactorizationProblem
from agmcore.problems.randomness import LabelNoise

CPU = torch.device("cpu")


def test_ground_truth_law():
    task = DiagNetTask(dim=500, sparsity=40)
    w_star, z = draw_data(task, 3)
    nonzero = w_star[w_star != 0]
    assert len(nonzero) == 40
    assert nonzero.abs().min() >= 0.01 and nonzero.abs().max() < 1
    assert (nonzero > 0).any() and (nonzero < 0).any()
    assert z.shape == (task.samples, 500) and set(z.unique().tolist()) == {-1.0, 1.0}


def test_same_seed_same_everything_other_seed_differs():
    task = DiagNetTask(dim=30, samples=8)
    a = DiagNetProblem(task, [4, 4, 5], [0.5, 0.1, 0.5], torch.float64, CPU)
    b = DiagNetProblem(task, [4], [0.5], torch.float64, CPU)
    torch.testing.assert_close(a.w_star[0], b.w_star[0])
    torch.testing.assert_close(a.Z[0], b.Z)
    assert not torch.equal(a.w_star[0], a.w_star[2])
    pa, pb = a.init_params(), b.init_params()
    torch.testing.assert_close(pa["u"][0], pb["u"][0])
    torch.testing.assert_close(pa["u"][0], pa["u"][1])
    assert not torch.equal(pa["u"][0], pa["u"][2])
    for _ in range(3):  # the same noise stream, step after step
        za, zb = a.noise.next()[0], b.noise.next()[0]
        torch.testing.assert_close(za[0], zb[0])
        torch.testing.assert_close(za[0], za[1])
        assert not torch.equal(za[0], za[2])


def test_label_noise_is_fresh_every_step():
    noise = LabelNoise([0], 50, "rademacher", None, torch.float64, CPU, chunk=4)
    draws = torch.stack([noise.next()[0][0] for _ in range(10)])  # crosses chunk boundaries
    assert set(draws.unique().tolist()) == {-1.0, 1.0}
    assert len({tuple(d.tolist()) for d in draws}) == 10


def test_minibatch_weights():
    noise = LabelNoise([0, 1], 20, "gaussian", 5, torch.float64, CPU)
    for _ in range(5):
        zeta, weights = noise.next()
        assert weights.shape == (2, 20)
        torch.testing.assert_close(weights.sum(1), torch.ones(2, dtype=torch.float64))
        assert ((weights == 0) | (weights == 0.2)).all()


def test_population_loss_is_half_squared_distance():
    """½‖w − w*‖² equals the mean test loss on fresh inputs of either law."""
    for law in ("rademacher", "gaussian"):
        task = DiagNetTask(dim=40, samples=10, input_law=law)
        problem = DiagNetProblem(task, [0], [0.5], torch.float64, CPU)
        params = {k: v + 0.3 for k, v in problem.init_params().items()}
        gen = torch.Generator().manual_seed(9)
        z = torch.randint(0, 2, (200_000, 40), generator=gen).double() * 2 - 1 if law == "rademacher" \
            else torch.randn(200_000, 40, generator=gen)
        w = params["u"][0] ** 2 - params["v"][0] ** 2
        empirical = 0.5 * ((z @ (w - problem.w_star[0])) ** 2).mean()
        assert abs(empirical / problem.test_loss(params)[0] - 1) < 0.02


def test_support_recovery_measures():
    task = DiagNetTask(dim=20, samples=5, sparsity=3)
    problem = DiagNetProblem(task, [0], [0.5], torch.float64, CPU)
    w_star = problem.w_star[0]
    exact = {"u": w_star.clamp_min(0).sqrt().unsqueeze(0), "v": (-w_star).clamp_min(0).sqrt().unsqueeze(0)}
    extras = problem.final_extras(exact)
    assert extras["support_precision"].item() == 1.0 and extras["support_recall"].item() == 1.0
    assert problem.test_loss(exact).item() < 1e-28


def test_matrix_factorization_data():
    task = MatrixFactorizationTask(size=8, rank=2, samples=30)
    problem = MatrixFactorizationProblem(task, [0], [0.5], torch.float64, CPU)
    assert torch.linalg.matrix_rank(problem.w_star[0]) == 2
    assert len(set(problem.flat_index[0].tolist())) == 30  # entries without repetition
    assert problem.test_mask.sum() == 64 - 30


def test_the_start_is_tied_by_default_and_independent_on_request():
    """The authors' protocol: one draw g for both, u₀ = v₀ = α·g, so w₀ = u⊙u − v⊙v = 0 exactly;
    "independent" draws v₀ apart (and keeps u₀: the same first draw of the seed's stream)."""
    from agmcore.problems.diag_net import initial_params

    tied = initial_params(DiagNetTask(dim=50), 7)
    assert torch.equal(tied["u"], tied["v"]) and torch.equal(tied["u"] ** 2 - tied["v"] ** 2, torch.zeros(50, dtype=torch.float64))
    loose = initial_params(DiagNetTask(dim=50, init="independent"), 7)
    assert torch.equal(loose["u"], tied["u"]) and not torch.equal(loose["u"], loose["v"])
    assert 0.1 * 0.5 < loose["v"].std() < 0.1 * 1.5  # α·N(0, I) with α = 0.1
