"""Common random numbers: every random draw is a pure function of (seed, purpose).

Runs that share a seed share their data, their initialisation and their label-noise stream,
whatever optimizer they use, so differences between them are the optimizers' doing. Draws are
made on the CPU in float64 and then moved, so they are the same on every device.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import torch

PURPOSES = {"data": 1, "init": 2, "noise": 3}


def generator(seed: int, purpose: str) -> torch.Generator:
    """A CPU generator for one purpose of one seed (independent streams per purpose)."""
    return torch.Generator().manual_seed(int(seed) * 1_000_003 + PURPOSES[purpose])


def signs_or_normals(law: str, shape: Tuple[int, ...], gen: torch.Generator) -> torch.Tensor:
    """Rademacher (±1) or standard normal draws, float64 on the CPU."""
    if law == "rademacher":
        return torch.randint(0, 2, shape, generator=gen).double().mul_(2).sub_(1)
    if law == "gaussian":
        return torch.randn(shape, generator=gen, dtype=torch.float64)
    raise ValueError(f"unknown law {law!r}; choose rademacher or gaussian")


class LabelNoise:
    """Fresh label noise every step for R runs, drawn per seed in chunks of steps.

    Step t of a run gets ξ_t = δ·ζ_t, ζ_t from that run's seed stream (shape (n,)), and, with a
    minibatch, the indices of its batch (a uniform subset of size b, without replacement).
    """

    def __init__(self, seeds: Sequence[int], samples: int, law: str, batch_size: Optional[int],
                 dtype: torch.dtype, device: torch.device, chunk: int = 512):
        self.unique = sorted(set(seeds))
        self.index = torch.tensor([self.unique.index(s) for s in seeds], device=device)
        self.gens = [generator(s, "noise") for s in self.unique]
        self.samples, self.law, self.batch_size = samples, law, batch_size
        self.dtype, self.device, self.chunk = dtype, device, chunk
        self._buffer: List[Tuple[torch.Tensor, Optional[torch.Tensor]]] = []
        self._position = 0

    def draw_chunk(self) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """The next `chunk` steps of every seed's stream, on the CPU: ζ of shape (K, U, n) float64
        and, with a minibatch, the batch indices (K, U, b) (U: the distinct seeds, sorted)."""
        noise, batches = [], []
        for gen in self.gens:
            noise.append(signs_or_normals(self.law, (self.chunk, self.samples), gen))
            if self.batch_size is not None:
                order = torch.rand((self.chunk, self.samples), generator=gen).argsort(dim=1)
                batches.append(order[:, : self.batch_size])
        return torch.stack(noise, 1), (torch.stack(batches, 1) if batches else None)

    def _refill(self):
        zeta, batches = self.draw_chunk()
        z = zeta.to(self.device, self.dtype)[:, self.index]  # (K, R, n)
        if batches is None:
            self._buffer = [(z[k], None) for k in range(self.chunk)]
        else:
            b = batches.to(self.device)[:, self.index]  # (K, R, b)
            mask = torch.zeros_like(z).scatter_(2, b, 1.0 / self.batch_size)
            self._buffer = [(z[k], mask[k]) for k in range(self.chunk)]
        self._position = 0

    def next(self) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """(ζ of shape (R, n), batch weights of shape (R, n) or None for the full batch)."""
        if self._position >= len(self._buffer):
            self._refill()
        item = self._buffer[self._position]
        self._position += 1
        return item


def stack_per_run(values: Dict[int, torch.Tensor], seeds: Sequence[int]) -> torch.Tensor:
    """Stack a per-seed tensor into one row per run (runs with a seed share its value)."""
    return torch.stack([values[s] for s in seeds])
