"""agmcore.optimizers.optim against torch.optim, step for step in float64 on a real model."""
import pytest
import torch

from agmcore.optimizers import optim


def _model():
    torch.manual_seed(1)
    return torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.Tanh(),
                               torch.nn.Linear(16, 1))


def _data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(128, 6, generator=g)
    return x, torch.sin(x.sum(1, keepdim=True)) + 0.1 * torch.randn(128, 1, generator=g)


def _gaps(make_ours, make_ref, steps):
    """(largest parameter difference after each step, how far ours moved from the start)."""
    x, y = _data()
    a, b = _model(), _model()
    oa, ob = make_ours(a.parameters()), make_ref(b.parameters())
    gaps = []
    for _ in range(steps):
        for model, opt in ((a, oa), (b, ob)):
            opt.zero_grad()
            ((model(x) - y) ** 2).mean().backward()
            opt.step()
        gaps.append(max((p - q).abs().max().item() for p, q in zip(a.parameters(), b.parameters())))
    moved = max((p - q).abs().max().item() for p, q in zip(a.parameters(), _model().parameters()))
    return gaps, moved


def _lockstep(make_ours, make_ref, steps=300, tol=1e-12):
    """Largest parameter difference over `steps` steps; float64 round-off from a different
    order of operations (torch: √v/√c, ours: √(v/c)) stays below `tol`. Settings avoid the
    chaotic regime where Adam amplifies round-off exponentially (seen at β = (0.8, 0.95))."""
    gaps, moved = _gaps(make_ours, make_ref, steps)
    assert max(gaps) <= tol, max(gaps)
    assert moved > 1e-3  # the optimizer really trained
    return max(gaps)


CASES = {
    "sgd": (lambda p: optim.SGD(p, lr=0.05), lambda p: torch.optim.SGD(p, lr=0.05)),
    "sgd-momentum": (lambda p: optim.SGD(p, lr=0.02, momentum=0.9),
                     lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.9)),
    "rmsprop": (lambda p: optim.RMSProp(p, lr=1e-4, alpha=0.9),
                lambda p: torch.optim.RMSprop(p, lr=1e-4, alpha=0.9)),
    "adam": (lambda p: optim.Adam(p, lr=1e-3, betas=(0.9, 0.99)),
             lambda p: torch.optim.Adam(p, lr=1e-3, betas=(0.9, 0.99))),
    "adam-eps": (lambda p: optim.Adam(p, lr=3e-3, betas=(0.9, 0.999), eps=1e-6),
                 lambda p: torch.optim.Adam(p, lr=3e-3, betas=(0.9, 0.999), eps=1e-6)),
}


@pytest.mark.parametrize("name", CASES)
def test_matches_torch_optim(name):
    _lockstep(*CASES[name])


def test_adame_half_is_adam():
    _lockstep(lambda p: optim.AdamE(p, lr=1e-3, lam=0.5, betas=(0.9, 0.99)),
              lambda p: optim.Adam(p, lr=1e-3, betas=(0.9, 0.99)), tol=0.0)


def test_adam_mini_with_unit_blocks_is_adam():
    _lockstep(lambda p: optim.AdamMini(p, lr=1e-3, block_size=1),
              lambda p: torch.optim.Adam(p, lr=1e-3), tol=1e-11)


def test_adame_other_power_differs_from_adam():
    """λ = 0.3 is not Adam: the parameters part by more than 1e-6 within five steps (and by the
    first step already, far beyond round-off)."""
    gaps, _ = _gaps(lambda p: optim.AdamE(p, lr=1e-3, lam=0.3), lambda p: optim.Adam(p, lr=1e-3), steps=5)
    assert gaps[0] > 1e-9 and gaps[-1] > 1e-6, gaps


@pytest.mark.parametrize("cls", [optim.AdamMini, optim.Adalayer, optim.Adafactor, optim.Shampoo, optim.AdamE])
def test_family_members_train_a_model(cls):
    x, y = _data()
    model = _model()
    opt = cls(model.parameters(), lr=3e-3)
    first = None
    for _ in range(200):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    assert loss.item() < 0.5 * first
