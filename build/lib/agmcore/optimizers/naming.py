"""How a configured optimizer is named: in a verdict, as a measure's key, in a legend.

Each takes the optimizer's settings as a mapping (`RunConfig.to_dict()["optimizer"]`, a stored
document's) or an `OptimizerConfig`; what a name shows comes from the descriptor (family.REGISTRY).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Optional

from agmcore.optimizers.family import REGISTRY


def _fields(optimizer: Any) -> Mapping[str, Any]:
    return optimizer if isinstance(optimizer, Mapping) else dataclasses.asdict(optimizer)


def display_name(optimizer: Any) -> str:
    """'Adam', 'SGD', 'AdamE λ=0.25': how a verdict names a run."""
    o = _fields(optimizer)
    member = REGISTRY.get(o["name"])
    if member is None:
        return o["name"]
    return f"{member.label} λ={o['lam']:g}" if member.lam_free else member.label


def measure_name(optimizer: Any) -> str:
    """The key of an optimizer's measure: its name (and λ where λ is free): 'adam', 'adame λ=0.25'."""
    o = _fields(optimizer)
    member = REGISTRY.get(o["name"])
    return f"{o['name']} λ={o['lam']:g}" if member is not None and member.lam_free else o["name"]


def legend_label(optimizer: Any, seed: Optional[int] = None) -> str:
    """A short legend label: 'adam η=0.1 β2=0.9', 'sgd η=0.1 μ=0.9', 'adame η=0.1 β2=0.95 λ=0.25'
    (and ' seed 3' for a seed given and not 0)."""
    o = _fields(optimizer)
    member = REGISTRY.get(o["name"])
    text = f"{o['name']} η={o['lr']:g}"
    if member is None or member.preconditioned:
        text += f" β2={o['beta2']:g}"
    elif o["beta1"]:
        text += f" μ={o['beta1']:g}"
    if member is not None and member.lam_free:
        text += f" λ={o['lam']:g}"
    if seed:
        text += f" seed {seed}"
    return text
