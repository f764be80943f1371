"""The compiled matrix-factorization loop: equal to the torch path it replaces, and batch-invariant."""
import numpy as np
import pytest

from agmcore.engine.compiled_matrix_group import matrix_compiled_supports
from agmcore.engine.config import DiagNetTask, MatrixFactorizationTask, OptimizerConfig, RunConfig
from agmcore.engine.device import resolve_device
from agmcore.engine.results import dumps, to_document
from agmcore.engine.runner import compiled_group_for, run_all
from agmcore.experiments.sweeps import collect
from agmcore.optimizers.family import REGISTRY

# non-chaotic settings (docs/engine.md, "Round-off"); every member with a compiled matrix form
CASES = [
    ("sgd", dict(lr=0.3)),
    ("sgd", dict(lr=0.1, beta1=0.9)),
    ("rmsprop", dict(lr=0.001, beta2=0.999)),
    ("adam", dict(lr=0.01, beta2=0.999, bias_correction=False, eps=1e-6)),
    ("adam", dict(lr=0.01, beta2=0.99)),
    ("adame", dict(lr=0.01, lam=0.25, beta2=0.99)),
    ("adam-mini", dict(lr=0.01, block_size=7, beta2=0.99)),
    ("adalayer", dict(lr=0.01, beta2=0.99)),
]
SHAPES = [dict(depth=2, measurement="entries"), dict(depth=3, measurement="entries"),
          dict(depth=2, measurement="gaussian"), dict(depth=3, measurement="gaussian"),
          dict(depth=1, measurement="entries")]


def _relative_gap(ours, reference) -> float:
    ours, reference = np.asarray(ours, float), np.asarray(reference, float)
    return float(np.abs(ours - reference).max() / max(np.abs(reference).max(), 1e-300))


def _assert_documents_close(ours, reference, rtol):
    assert ours["status"] == reference["status"] and ours["steps_done"] == reference["steps_done"]
    assert list(ours["history"]) == list(reference["history"])  # the same measures, in the same order
    assert list(ours["final"]) == list(reference["final"])
    assert ours["history"]["step"] == reference["history"]["step"]
    for part in ("history", "final", "params"):
        for name, values in reference[part].items():
            assert _relative_gap(ours[part][name], values) <= rtol, (part, name)


def test_the_diagonal_agms_are_compiled_for_matrices_on_the_cpu():
    cpu, task = resolve_device("cpu"), MatrixFactorizationTask()
    compiled = [n for n, m in REGISTRY.items() if m.matrix_block is not None]
    assert set(compiled) == {"sgd", "rmsprop", "adam", "adame", "adam-mini", "adalayer"}
    for name in compiled:
        assert matrix_compiled_supports(RunConfig(task=task, optimizer=OptimizerConfig(name=name)), cpu)
    for name in ("adafactor", "shampoo"):  # factored and Kronecker moments: the torch path
        assert compiled_group_for(RunConfig(task=task, optimizer=OptimizerConfig(name=name)), cpu) is None
    assert compiled_group_for(RunConfig(task=task, manifold_metrics=True), cpu) is None  # Φ(θ_t) is a torch flow
    assert compiled_group_for(RunConfig(task=task, dtype="float32"), cpu) is None
    assert not matrix_compiled_supports(RunConfig(task=DiagNetTask()), cpu)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"depth{s['depth']}-{s['measurement']}")
@pytest.mark.parametrize("name, hyper", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_compiled_matrix_loop_equals_the_torch_path(name, hyper, shape):
    """Two seeds, 300 steps, every logged measure (at θ_t and θ̄), the tail average and the
    factors: ≤ 1e-12 relative."""
    task = MatrixFactorizationTask(size=8, rank=2, samples=30, **shape)
    configs = [RunConfig(task=task, optimizer=OptimizerConfig(name=name, **hyper), steps=300, log_every=60, seed=s,
                         tail_average=0.2) for s in (0, 1)]
    ours = run_all(configs, device="cpu")
    reference = run_all(configs, device="cpu", reference=True)
    for a, b in zip(ours, reference):
        assert a.status == "finished"
        _assert_documents_close(to_document(a), to_document(b), rtol=1e-12)
        assert _relative_gap(a.arrays["params"]["W1"], np.asarray(a.arrays["params_avg"]["W1"])) > 0  # it averaged


def test_compiled_matrix_loop_equals_the_torch_path_with_minibatches_and_gaussian_noise():
    task = MatrixFactorizationTask(size=10, rank=2, samples=40, batch_size=9, noise_law="gaussian")
    config = RunConfig(task=task, optimizer=OptimizerConfig(name="adam", lr=0.005, beta2=0.999), steps=300,
                       log_every=100)
    _assert_documents_close(to_document(run_all([config])[0]), to_document(run_all([config], reference=True)[0]),
                            rtol=1e-12)


def test_a_matrix_run_diverges_at_the_same_step_as_on_the_torch_path():
    config = RunConfig(task=MatrixFactorizationTask(size=8, rank=2, samples=30, init_scale=1.0),
                       optimizer=OptimizerConfig(name="sgd", lr=300.0), steps=300, log_every=50)
    ours, reference = run_all([config])[0], run_all([config], reference=True)[0]
    assert ours.status == reference.status == "diverged"
    assert ours.steps_done == reference.steps_done < 300
    assert ours.history["step"] == reference.history["step"]


def _mf(seed: int, lr: float = 0.01, steps: int = 3000) -> RunConfig:
    return RunConfig(task=MatrixFactorizationTask(size=12, rank=2, samples=50),
                     optimizer=OptimizerConfig(name="adam", lr=lr, beta2=0.999, bias_correction=False, eps=1e-6),
                     steps=steps, log_every=500, seed=seed, tail_average=0.1)


def test_a_matrix_result_is_the_same_bits_alone_in_any_batch_and_any_worker_count():
    alone = [dumps(to_document(run_all([_mf(s, lr)])[0])) for lr in (0.01, 0.03) for s in (0, 1)]
    batched = [dumps(to_document(r)) for r in run_all([_mf(s, lr) for lr in (0.01, 0.03) for s in (0, 1)])]
    assert batched == alone
    reordered = run_all([_mf(1, 0.03), _mf(5), _mf(0, 0.01)])
    assert dumps(to_document(reordered[2])) == alone[0] and dumps(to_document(reordered[0])) == alone[3]
    in_workers = [dumps(d) for d in collect([_mf(s, lr) for lr in (0.01, 0.03) for s in (0, 1)], None, "cpu", workers=2)]
    assert in_workers == alone
