"""Simulated viewers of a Streamlit page: each opens the app's websocket as a browser does, asks
for a page, and reruns every live fragment at the interval the server asks for (what the browser's
timer does). No browser: thirty of them cost the machine little, so the server's own CPU can be
measured (bench/bench_viewers.py, tests/test_browser.py).
"""
from __future__ import annotations

import re
import threading
import time
from typing import Optional

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect


def long_race(seed: int, dim: int = 2000) -> str:
    """The Playground URL query of a race that runs for minutes on one core (d = 2000 at 5·10⁶
    steps), so a classroom can watch it live; each bench or test takes its own seed. A smaller
    `dim` logs its points faster (d = 200: several a second)."""
    return f"pg_dim={dim}&pg_samples=40&pg_sparsity=5&pg_steps=5000000&pg_seed={seed}"


def step_of(progress: str) -> Optional[int]:
    """The step a live race's progress text shows ("step 12,500 of 5,000,000 · …"), None if none."""
    found = re.search(r"step ([\d,]+) of", progress)
    return int(found.group(1).replace(",", "")) if found else None


class Viewer(threading.Thread):
    """One viewer of `page` (e.g. "playground") with URL query `query`. Counts what it received:
    `charts` (plotly charts drawn), `runs` (script runs finished), `first_chart` (seconds from
    connecting to the first chart, None before one), `views` (the chart ids of each run)."""

    def __init__(self, url: str, page: str, query: str = ""):
        super().__init__(daemon=True)
        self.ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
        self.page, self.query = page, query
        self.charts, self.runs, self.first_chart = 0, 0, None
        self.fragments: dict = {}  # fragment id -> rerun interval (seconds), as the server asked
        self.buttons: dict = {}  # label -> widget id of the buttons drawn
        self.progress: list = []  # the progress bar's texts, in the order received ("step 1,200 of …")
        self.views: list = []  # per script or fragment run that drew charts: the ids of those charts (an id
        # changes with its figure)
        self._drawn: list = []
        self._ws = None
        self.error: Optional[str] = None
        self._stop, self._send_lock = threading.Event(), threading.Lock()

    def _rerun(self, ws, fragment_id: str = "", pressed: str = "") -> None:
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string, state.page_name = self.query, self.page
        if fragment_id:
            state.fragment_id, state.is_auto_rerun = fragment_id, True
        if pressed:
            widget = state.widget_states.widgets.add()
            widget.id, widget.trigger_value = self.buttons[pressed], True
        with self._send_lock:
            ws.send(msg.SerializeToString())

    def press(self, label: str, timeout: float = 60) -> None:
        """Click the button labelled `label` once it has been drawn (as a browser click does)."""
        deadline = time.monotonic() + timeout
        while label not in self.buttons or self._ws is None:
            if time.monotonic() > deadline or self.error:
                raise RuntimeError(f"no button {label!r} within {timeout} s ({self.error or 'not drawn'})")
            time.sleep(0.1)
        self._rerun(self._ws, pressed=label)

    def _timer(self, ws) -> None:
        due: dict = {}
        while not self._stop.is_set():
            now = time.monotonic()
            for fragment, interval in list(self.fragments.items()):
                if now >= due.setdefault(fragment, now + interval):
                    due[fragment] = now + interval
                    try:
                        self._rerun(ws, fragment)
                    except Exception:  # the socket closed: the reader ends too
                        return
            time.sleep(0.05)

    def run(self) -> None:
        start = time.monotonic()
        try:
            with connect(self.ws_url, subprotocols=["streamlit"], max_size=None, open_timeout=30) as ws:
                self._ws = ws
                self._rerun(ws)
                threading.Thread(target=self._timer, args=(ws,), daemon=True).start()
                while not self._stop.is_set():
                    try:
                        data = ws.recv(timeout=0.5)
                    except TimeoutError:
                        continue
                    msg = ForwardMsg()
                    msg.ParseFromString(data)
                    kind = msg.WhichOneof("type")
                    if kind == "auto_rerun":
                        self.fragments[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
                    elif kind == "stop_auto_rerun":
                        self.fragments.clear()
                    elif kind == "script_finished":
                        self.runs += 1
                        if self._drawn:
                            self.views.append(tuple(self._drawn))
                        self._drawn = []
                    elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                        element = msg.delta.new_element
                        if element.WhichOneof("type") == "plotly_chart":
                            self.charts += 1
                            self._drawn.append(element.plotly_chart.id)
                            if self.first_chart is None:
                                self.first_chart = time.monotonic() - start
                        elif element.WhichOneof("type") == "button":
                            self.buttons[element.button.label] = element.button.id
                        elif element.WhichOneof("type") == "progress":
                            self.progress.append(element.progress.text)
        except Exception as e:  # reported, not raised: the benchmark counts viewers that failed
            self.error = f"{type(e).__name__}: {e}"

    def stop(self) -> None:
        self._stop.set()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far (Linux /proc)."""
    import os

    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
