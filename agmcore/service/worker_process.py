"""One persistent worker process (agmcore/service/worker.py) and the thread that reads it: the
job manager's end of the wire (JSON lines: a race in, snapshots and its end out)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from typing import Any, Dict, Optional

import agmcore


def package_parent() -> str:
    """The folder holding the agmcore package: a child `python -m agmcore…` process runs there."""
    return os.path.dirname(os.path.dirname(os.path.abspath(agmcore.__file__)))


class WorkerProcess:
    """One persistent worker process (agmcore/service/worker.py) and the thread that reads it."""

    def __init__(self, manager):
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")  # write nothing into the app's folder
        self.process = subprocess.Popen(
            [sys.executable, "-m", "agmcore.service.worker", str(manager.threads), manager.device],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1, env=env, cwd=package_parent())
        self.job: Optional[str] = None
        self.reader = threading.Thread(target=manager._read, args=(self,), daemon=True, name="job-reader")
        self.reader.start()

    def send(self, message: Dict[str, Any]) -> bool:
        """False when the worker is gone (its reader thread then fails its job)."""
        try:
            self.process.stdin.write(json.dumps(message) + "\n")
            self.process.stdin.flush()
            return True
        except (BrokenPipeError, OSError, ValueError):
            return False

    def alive(self) -> bool:
        return self.process.poll() is None
