"""Start `streamlit run app.py` on a free local port with its own store (browser tests and benchmarks)."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import Iterator, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(workers: int = 1, timeout: float = 90, root: str = ROOT,
              store: Optional[str] = None) -> Tuple[subprocess.Popen, str]:
    """(the server process, its URL) once /_stcore/health answers ok; raises RuntimeError if it does not.
    `root`: the checkout to serve (another one, e.g. a git worktree of a baseline, imports its own agmcore);
    `store`: the server's store folder (a fresh temporary one by default)."""
    port = _free_port()
    env = dict(os.environ, SHARPNESS_LAB_STORE=store or tempfile.mkdtemp(prefix="sharpness-lab-browser-"),
               SHARPNESS_LAB_WORKERS=str(workers))
    if root != ROOT:
        env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    log = open(os.path.join(tempfile.gettempdir(), f"streamlit-{port}.log"), "w")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true",
                             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"streamlit did not start within {timeout} s (log: {log.name})")


@contextlib.contextmanager
def running_app(workers: int = 1, root: str = ROOT) -> Iterator[Tuple[subprocess.Popen, str]]:
    """start_app for the length of a `with` block, then stop the server."""
    proc, url = start_app(workers=workers, root=root)
    try:
        yield proc, url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@contextlib.contextmanager
def app_page(workers: int, path: str, viewport=(1400, 1000)):
    """running_app with one headless Chromium page opened at `path`: yields (the server process,
    its URL, the page, playwright's sync_api)."""
    from playwright import sync_api

    with running_app(workers=workers) as (proc, url), sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        page.goto(f"{url}{path}")
        try:
            yield proc, url, page, sync_api
        finally:
            browser.close()
