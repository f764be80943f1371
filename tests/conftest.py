import sys

import pytest
import torch


@pytest.fixture(autouse=True)
def _float64_default():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


@pytest.fixture(autouse=True)
def _real_main_module():
    """AppTest runs a page as `__main__` and leaves it in sys.modules. A spawned process (the
    sweeps' pool) re-imports its parent's `__main__`, so every pool started after an AppTest test
    died and its sweep quietly ran in one process. Put the real one back after each test."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main
