"""Where runs execute: CUDA when present, else CPU (MPS with float32 only)."""
from __future__ import annotations

import os

import torch

DEVICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' picks CUDA, then MPS, then CPU; an explicit choice must be available."""
    if name not in DEVICES:
        raise ValueError(f"unknown device {name!r}; choose one of {', '.join(DEVICES)}")
    if name == "auto":
        accelerator = torch.accelerator.current_accelerator(check_available=True)
        return torch.device(accelerator.type if accelerator is not None and accelerator.type in ("cuda", "mps") else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda was asked for but no CUDA GPU is available; use --device cpu or auto")
    if name == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device mps was asked for but MPS is not available; use --device cpu or auto")
    return torch.device(name)


def dtype_of(name: str) -> torch.dtype:
    """The torch dtype of a configuration's dtype name ("float64" or "float32")."""
    return {"float64": torch.float64, "float32": torch.float32}[name]


def resolve_dtype(name: str, device: torch.device) -> torch.dtype:
    """float64 by default; MPS has no float64, so it asks for float32."""
    dtype = dtype_of(name)
    if device.type == "mps" and dtype == torch.float64:
        raise ValueError("MPS has no float64: use --dtype float32 or --device cpu")
    return dtype


def cpu_cores() -> int:
    """CPU cores this process may use (its affinity where the system reports one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
