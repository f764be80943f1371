"""Per-run hyperparameters: a float shared by all runs, or a tensor of shape (R,).

Every tensor the engine steps has a leading "runs" dimension R. A hyperparameter given
as a tensor of shape (R,) is viewed as (R, 1, ..., 1) so that it broadcasts over one
parameter of shape (R, *s); a float broadcasts as it is.
"""
from __future__ import annotations

from typing import Union

import torch

Hyper = Union[float, torch.Tensor]


def column(h: Hyper, like: torch.Tensor) -> Hyper:
    """View a per-run value `h` so it broadcasts against `like` of shape (R, *s)."""
    if isinstance(h, torch.Tensor):
        return h.view(-1, *([1] * (like.dim() - 1)))
    return h


def power_of(base: Hyper, exponent: int) -> Hyper:
    """base**exponent for a float or a per-run tensor (used for bias corrections)."""
    if isinstance(base, torch.Tensor):
        return torch.pow(base, exponent)
    return base**exponent
