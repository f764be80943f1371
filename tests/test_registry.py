"""One optimizer registry (family.REGISTRY): every way of building a member gives the same updates,
and the modules that know optimizers read it."""
import pytest
import torch

from agmcore.analysis.verdict import display_name
from agmcore.optimizers import family, optim
from agmcore.presentation.playground import DEFAULTS, key_of
from agmcore.problems.sharpness import implied_sharpness

HYPER = dict(lr=1e-2, beta1=0.9, beta2=0.99, eps=1e-8, bias_correction=True)
# name -> (the named constructor, the torch.optim subclass), both from the same hyperparameters
WAYS = {
    "sgd": (lambda: family.sgd(1e-2, 0.9), lambda p: optim.SGD(p, lr=1e-2, momentum=0.9)),
    "rmsprop": (lambda: family.rmsprop(1e-2, 0.99, 1e-8, True),
                lambda p: optim.RMSProp(p, lr=1e-2, alpha=0.99, eps=1e-8, bias_correction=True)),
    "adam": (lambda: family.adam(**HYPER), lambda p: optim.Adam(p, lr=1e-2, betas=(0.9, 0.99), eps=1e-8)),
    "adame": (lambda: family.adame(lam=0.5, **HYPER), lambda p: optim.AdamE(p, lr=1e-2, lam=0.5, betas=(0.9, 0.99))),
    "adam-mini": (lambda: family.adam_mini(block_size=16, **HYPER),
                  lambda p: optim.AdamMini(p, lr=1e-2, block_size=16, betas=(0.9, 0.99))),
    "adalayer": (lambda: family.adalayer(**HYPER), lambda p: optim.Adalayer(p, lr=1e-2, betas=(0.9, 0.99))),
    "adafactor": (lambda: family.adafactor(**HYPER), lambda p: optim.Adafactor(p, lr=1e-2, betas=(0.9, 0.99))),
    "shampoo": (lambda: family.shampoo(**HYPER), lambda p: optim.Shampoo(p, lr=1e-2, betas=(0.9, 0.99))),
}


def _params():
    gen = torch.Generator().manual_seed(0)
    return {"W": torch.randn(1, 4, 3, generator=gen, dtype=torch.float64),
            "b": torch.randn(1, 5, generator=gen, dtype=torch.float64)}


def _functional_steps(transform, steps=5):
    params = _params()
    state = transform.init(params)
    for t in range(steps):
        grads = {k: torch.sin(p * (t + 1)) for k, p in params.items()}  # any smooth gradient field
        updates, state = transform.update(grads, state)
        params = {k: p + updates[k] for k, p in params.items()}
    return params


def _module_steps(make, steps=5):
    tensors = [p[0].clone().requires_grad_(True) for p in _params().values()]
    opt = make(tensors)
    for t in range(steps):
        for p in tensors:
            p.grad = torch.sin(p.detach() * (t + 1))
        opt.step()
    return [p.detach() for p in tensors]


def test_every_member_is_registered_once():
    assert set(WAYS) == set(family.REGISTRY) == set(family.OPTIMIZER_NAMES)


@pytest.mark.parametrize("name", list(family.REGISTRY))
def test_every_way_of_building_a_member_gives_the_same_updates(name):
    named, module = WAYS[name]
    # one set of hyperparameters for all; the registry drops what a member does not take (RMSProp's β1)
    built = family.make_optimizer(name, lam=0.5, block_size=16, **HYPER)
    by_registry, by_name = _functional_steps(built), _functional_steps(named())
    for k in by_registry:
        assert torch.equal(by_registry[k], by_name[k]), (name, k)
    moved = max((by_registry[k] - p).abs().max().item() for k, p in _params().items())
    assert moved > 1e-4  # the steps did something
    by_module = _module_steps(module)
    for mine, theirs in zip(by_registry.values(), by_module):
        assert torch.allclose(mine[0], theirs, rtol=0, atol=1e-15), name


def test_the_modules_that_know_optimizers_read_the_registry():
    diag = {"u": torch.tensor([[4.0, 9.0]]), "v": torch.tensor([[1.0, 0.0]])}
    assert implied_sharpness("sgd", diag).item() == pytest.approx(14.0)  # S = I
    assert implied_sharpness("adam", diag).item() == pytest.approx(6.0)  # Σ √h
    assert implied_sharpness("adame", diag, lam=0.25).item() == pytest.approx(4**0.75 + 9**0.75 + 1)
    with pytest.raises(ValueError, match="full Hessian"):
        implied_sharpness("shampoo", diag)
    for name, member in family.REGISTRY.items():
        assert display_name({"optimizer": {"name": name, "lam": 0.25}}).startswith(member.label)
        assert DEFAULTS[key_of(name, "lr")] == member.defaults["lr"]
