"""A plain autograd loop on the diagonal network: the yardstick for tests and benchmarks.

It draws the same data, init and label noise as the engine (tasks/randomness.py), computes
the loss with autograd and steps a `torch.optim` optimizer, one run at a time, the way one
would write it without agmcore.
"""
from __future__ import annotations

from typing import Dict

import torch

from agmcore.engine.config import RunConfig
from agmcore.engine.device import dtype_of
from agmcore.optimizers.family import REGISTRY
from agmcore.problems.diag_net import draw_data, initial_params
from agmcore.problems.randomness import LabelNoise


def torch_optimizer(config: RunConfig, params):
    """torch.optim's twin of the configured optimizer (with its bias correction)."""
    o = config.optimizer
    twin = REGISTRY[o.name].torch_twin
    optimizer = twin(o, params) if twin is not None else None
    if optimizer is not None:
        return optimizer
    raise ValueError(f"{o.name} (bias_correction={o.bias_correction}) has no torch.optim twin")


def plain_diag_net_run(config: RunConfig, device: str = "cpu") -> Dict[str, torch.Tensor]:
    """Train one diag-net run for config.steps steps; returns the final u and v."""
    dtype = dtype_of(config.dtype)
    dev = torch.device(device)
    task = config.task
    w_star, z = (t.to(dev, dtype) for t in draw_data(task, config.seed))
    y = z @ w_star
    init = initial_params(task, config.seed)
    u = init["u"].to(dev, dtype).requires_grad_()
    v = init["v"].to(dev, dtype).requires_grad_()
    noise = LabelNoise([config.seed], task.samples, task.noise_law, None, dtype, dev)
    opt = torch_optimizer(config, [u, v])
    for _ in range(config.steps):
        zeta, _batch = noise.next()
        loss = 0.5 * ((z @ (u * u - v * v) - y - task.label_noise * zeta[0]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"u": u.detach(), "v": v.detach()}
