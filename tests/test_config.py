"""RunConfig validation, canonical JSON and content keys."""
import json

import pytest

from agmcore.engine.config import (ConfigError, DiagNetTask, MatrixFactorizationTask, OptimizerConfig, RunConfig,
                                   check_memory)


def test_round_trip_and_key_stability():
    config = RunConfig(task=MatrixFactorizationTask(size=10, samples=50), optimizer=OptimizerConfig(name="shampoo", lr=0.01))
    again = RunConfig.from_dict(json.loads(config.canonical_json()))
    assert again == config and again.key == config.key
    assert len(config.key) == 64


def test_key_ignores_int_float_spelling_and_sees_every_setting():
    a = RunConfig(task=DiagNetTask(label_noise=1), optimizer=OptimizerConfig(lr=1))
    b = RunConfig(task=DiagNetTask(label_noise=1.0), optimizer=OptimizerConfig(lr=1.0))
    assert a.key == b.key
    assert RunConfig(seed=1).key != RunConfig(seed=2).key
    assert RunConfig(dtype="float32").key != RunConfig().key
    assert RunConfig(optimizer=OptimizerConfig(eps=1e-6)).key != RunConfig().key


def test_momentum_defaults_per_optimizer():
    assert OptimizerConfig(name="sgd").beta1 == 0.0
    assert OptimizerConfig(name="rmsprop").beta1 == 0.0
    assert OptimizerConfig(name="adam").beta1 == 0.9


@pytest.mark.parametrize("build, message", [
    (lambda: DiagNetTask(dim=0), "dim must be at least 1"),
    (lambda: DiagNetTask(sparsity=200), "sparsity must be between 1 and dim=100"),
    (lambda: DiagNetTask(input_law="uniform"), "unknown input_law 'uniform'"),
    (lambda: DiagNetTask(batch_size=50), "batch_size must be between 1 and samples=20"),
    (lambda: DiagNetTask(dim=2.5), "dim must be an integer"),
    (lambda: DiagNetTask(init="zero"), "unknown init 'zero'; choose one of tied, independent"),
    (lambda: MatrixFactorizationTask(size=5, samples=30), "samples must be between 1 and 25"),
    (lambda: MatrixFactorizationTask(rank=50), "rank must be between 1 and size=20"),
    (lambda: OptimizerConfig(name="adamw"), "unknown optimizer 'adamw'"),
    (lambda: OptimizerConfig(lr=-1), "lr must be > 0"),
    (lambda: OptimizerConfig(beta2=1.0), "beta2 must be in"),
    (lambda: OptimizerConfig(name="adam", lam=0.3), "lam applies to adame only"),
    (lambda: OptimizerConfig(name="rmsprop", beta1=0.9), "rmsprop has no momentum"),
    (lambda: OptimizerConfig(lr=float("nan")), "lr must be finite"),
    (lambda: RunConfig(steps=0), "steps must be at least 1"),
    (lambda: RunConfig(dtype="float16"), "unknown dtype"),
    (lambda: RunConfig(task=DiagNetTask(dim=5000), optimizer=OptimizerConfig(name="shampoo")), "full-matrix"),
    (lambda: check_memory([RunConfig(task=DiagNetTask(dim=10**7, samples=10**5))]), "is available now"),
    (lambda: RunConfig.from_dict({"task": {"name": "mlp"}}), "unknown task 'mlp'"),
    (lambda: RunConfig.from_dict({"optimizer": {"nmae": "adam"}}), "unknown setting 'nmae' for optimizer"),
    (lambda: RunConfig.from_dict([1, 2]), "must be a JSON object"),
])
def test_bad_settings_are_named(build, message):
    with pytest.raises(ConfigError, match=message):
        build()


def test_memory_estimate_grows_with_size():
    small = RunConfig(task=DiagNetTask(dim=100, samples=20)).memory_bytes()
    big = RunConfig(task=DiagNetTask(dim=10_000, samples=800)).memory_bytes()
    assert big > 8 * 10_000 * 800 > small


def test_a_configuration_reads_nothing_from_the_machine(monkeypatch):
    """Constructing a RunConfig is pure; memory is checked where runs are admitted (check_memory)."""
    from agmcore.engine import config as config_module

    def machine(*_):
        raise AssertionError("a RunConfig asked the machine for its memory")

    monkeypatch.setattr(config_module, "available_bytes", machine)
    huge = RunConfig(task=DiagNetTask(dim=20_000, samples=100_000))  # ≈ 16 GB of data, and no error here
    with pytest.raises(ConfigError, match="this run needs about .* reduce dim or samples"):
        config_module.check_memory([huge], have=10**9)
    config_module.check_memory([RunConfig()], have=10**9)  # a small one fits
