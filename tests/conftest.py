import os
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


APP_SERVICES = {"SHARPNESS_LAB_STORE": None, "SHARPNESS_LAB_WORKERS": "1"}  # None: a folder of the session's


@pytest.fixture(autouse=True, scope="session")
def _app_services_of_the_session(tmp_path_factory):
    """The app's server-wide services (ui/services.py: one store and one job manager per process,
    read from the environment once) use a store of this test session's own and one worker, for
    every test module, whichever runs first: no test writes to a user's store."""
    saved = {name: os.environ.get(name) for name in APP_SERVICES}
    for name, value in APP_SERVICES.items():
        os.environ[name] = value or str(tmp_path_factory.mktemp("store"))
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
