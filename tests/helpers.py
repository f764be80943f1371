"""What many tests share: polling for a condition, and tiny runs that take well under a second."""
import time

from agmcore.engine.config import DiagNetTask, OptimizerConfig, RunConfig


def wait_until(predicate, timeout: float = 120, every: float = 0.1, what: str = "the condition"):
    """Return predicate()'s first truthy value, polled every `every` s; AssertionError after `timeout` s."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def tiny_runs(names=("adam", "sgd"), steps=300, seeds=(0,), samples=(6,), dim=16, sparsity=2, lr=0.1):
    """Diagonal-network runs of a few hundred steps: one per optimizer, n and seed."""
    return [RunConfig(task=DiagNetTask(dim=dim, samples=n, sparsity=sparsity), optimizer=OptimizerConfig(name=name, lr=lr),
                      steps=steps, log_every=max(1, steps // 3), seed=seed)
            for n in samples for name in names for seed in seeds]
