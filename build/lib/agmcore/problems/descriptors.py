"""One descriptor per task: everything the code asks of a task by its name.

No module branches on a task's name; it reads the task's descriptor (tests/test_descriptors.py).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

from agmcore.problems.diag_net import DiagNetProblem
from agmcore.problems.matrix_factorization import MatrixFactorizationProblem
from agmcore.problems.settings import DiagNetTask, MatrixFactorizationTask


@dataclass(frozen=True)
class TaskDescriptor:
    name: str
    title: str  # how pages name it
    settings: type  # its settings class (problems/settings.py)
    problem: Callable[..., Any]  # (task, seeds, label_noise, dtype, device, oracles) -> its Problem
    size_field: str  # the settings field the CLI's --dim and the Playground's size set
    size_symbol: str  # how its size is written: "d = 100", "m = 20"
    knobs: Tuple[str, ...]  # the settings fields the Playground sets, in the order it shows them
    knob_labels: Dict[str, str]  # how the Playground labels each knob
    exact_projection: bool  # measures are read at Φ(θ̄), the projection onto the minimizers; else at θ̄
    oracles: bool  # the min-ℓ1 and min-ℓ^½ interpolators exist (oracle_metrics)
    torch_batch_invariant: bool  # on the CPU its torch path gives a run the same bits in any batch
    # measure -> (what it is called, whose bias it is: the optimizer that drives it down)
    verdict_measures: Dict[str, Tuple[str, Optional[str]]]
    bias_measures: Tuple[str, str]  # the implicit-bias panel's two measures
    own_measure_claims: bool  # a race claims SGD lowers tr(H) and ‖w‖₁, Adam tr(Diag(H)^½) and Σ|w|^½
    loss_title: str  # the test-loss panel's title
    profile: str  # what the profile panel draws: "weights" (|w_j| over time) or "singular values"
    shrink: str  # what to reduce when runs do not fit in memory
    knob_help: Dict[str, str] = dataclasses.field(default_factory=dict)  # a knob's help text, where it needs one

    @property
    def denoised_at(self) -> str:
        """Where its denoised measures are read (docs/denoising.md)."""
        return "Φ(θ̄)" if self.exact_projection else "θ̄"

    def fields(self) -> Tuple[str, ...]:
        """Every field of its settings."""
        return tuple(f.name for f in dataclasses.fields(self.settings))


def _diag_net_problem(task, seeds, label_noise, dtype, device, oracles=False):
    return DiagNetProblem(task, seeds, label_noise, dtype, device, oracles=oracles)


def _matrix_factorization_problem(task, seeds, label_noise, dtype, device, oracles=False):
    return MatrixFactorizationProblem(task, seeds, label_noise, dtype, device)


_SHARPNESS = {"test_loss": ("test loss", None), "trace_H": ("tr(H)", "SGD"), "trace_sqrt_diag_H": ("tr(Diag(H)^½)", "Adam")}

TASKS: Dict[str, TaskDescriptor] = {d.name: d for d in (
    TaskDescriptor(
        name=DiagNetTask.name, title="sparse regression (diagonal network)", settings=DiagNetTask,
        problem=_diag_net_problem, size_field="dim", size_symbol="d",
        knobs=("dim", "samples", "sparsity", "label_noise", "init_scale", "init"),
        knob_labels={"dim": "dimension d", "samples": "training samples n", "sparsity": "sparsity κ",
                     "label_noise": "label noise δ", "init_scale": "init scale α", "init": "tied start u₀ = v₀ (the authors')"},
        knob_help={"init": "One Gaussian draw for u and v, so w starts at 0 exactly; unticked, two draws."},
        exact_projection=True, oracles=True, torch_batch_invariant=False,
        verdict_measures={**_SHARPNESS, "l1": ("‖w‖₁", "SGD"), "l_half": ("Σ|w|^½", "Adam")},
        bias_measures=("l1", "l_half"), own_measure_claims=True, loss_title="Test loss ½‖w − w*‖²",
        profile="weights", shrink="dim or samples"),
    TaskDescriptor(
        name=MatrixFactorizationTask.name, title="matrix factorization", settings=MatrixFactorizationTask,
        problem=_matrix_factorization_problem, size_field="size", size_symbol="m",
        knobs=("size", "samples", "rank", "depth", "label_noise", "init_scale"),
        knob_labels={"size": "matrix size m", "samples": "observed entries n", "rank": "rank r", "depth": "depth L",
                     "label_noise": "label noise δ", "init_scale": "init scale α"},
        exact_projection=False, oracles=False, torch_batch_invariant=True,
        verdict_measures={**_SHARPNESS, "nuclear_norm": ("nuclear norm", None), "effective_rank": ("effective rank", None)},
        bias_measures=("nuclear_norm", "effective_rank"), own_measure_claims=False, loss_title="Held-out error of W",
        profile="singular values", shrink="size (the CLI's --dim), depth, rank or samples"),
)}
TASK_NAMES = tuple(TASKS)


def descriptor_of(task: Any) -> TaskDescriptor:
    """The descriptor of a task: its settings, its name, or a document's task dict ({"name": …})."""
    name = task if isinstance(task, str) else task["name"] if isinstance(task, dict) else task.name
    return TASKS[name]


def size_of(task: Any) -> int:
    """The task's size (d or m) from its settings."""
    return getattr(task, descriptor_of(task).size_field)
