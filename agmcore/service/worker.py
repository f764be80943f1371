"""A worker process (`python -m agmcore.service.worker`): runs races and streams their progress.

It speaks JSON lines. In, on stdin:
  {"type": "run", "job": KEY, "configs": [config dicts]}     run a batch
  {"type": "cancel", "job": KEY}                             stop that batch ("cancelled")
Out, on stdout, per job:
  {"job", "type": "snapshot", "step", "total", "elapsed", "runs": [delta per run]}
  {"job", "type": "done"}  |  {"job", "type": "error", "message"}
A run's delta holds its status, steps_done, the history entries added since the last message,
its current arrays and its final values. A separate process (not a thread) keeps the server
responsive, and starting it with `-m` keeps it independent of the server's own entry point.
"""
from __future__ import annotations

import json
import os
import queue
import sys
import threading
import traceback
from typing import Any, Dict, List, Optional

from agmcore.engine.config import RunConfig
from agmcore.engine.results import RunRecord
from agmcore.engine.runner import run_batch, warm_up

ARRAYS_EVERY = 1.0  # seconds between sending a running run's (possibly large) arrays
SEND_EVERY = 0.1  # seconds between progress messages: the engine logs (and snapshots) ~400 times a
# race, and a message per logging point cost the default race 0.8 s of its 1.2 s in the worker; the
# page refreshes once a second. The first logged step and the end are sent at once.


def due(elapsed: float, last_sent: Optional[float], step: int, done: bool) -> bool:
    """Whether a snapshot goes out: the first logged step, the last, and then every SEND_EVERY s
    (those left out are carried by the next message: a delta holds everything not yet sent)."""
    return done or (step > 0 and (last_sent is None or elapsed - last_sent >= SEND_EVERY))


def _delta(record: RunRecord, sent: Dict[str, int], arrays: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """What is new for one run since the last message; `arrays` (its current ones) to send them."""
    new = {}
    for name, values in record.history.items():
        start = sent.get(name, 0)
        new[name] = values[start:]
        sent[name] = len(values)
    delta = {"status": record.status, "steps_done": record.steps_done, "history": new, "final": record.final}
    if record.status != "running":
        delta["arrays"] = record.arrays
    elif arrays is not None:
        delta["arrays"] = arrays
    return delta


def _listen(stream, jobs: "queue.Queue", cancelled: Dict[str, threading.Event]):
    """Read commands; cancel requests act at once, runs are queued for the main loop."""
    for line in stream:
        message = json.loads(line)
        if message["type"] == "cancel":
            cancelled.setdefault(message["job"], threading.Event()).set()
        else:
            jobs.put(message)
    jobs.put(None)  # stdin closed: the server has gone


def main(threads: int, device: str):
    import torch

    torch.set_num_threads(threads)
    warm_up()
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout = sys.stderr  # nothing else may write to the protocol stream

    def send(message):
        out.write(json.dumps(message, allow_nan=False) + "\n")

    jobs: "queue.Queue" = queue.Queue()
    cancelled: Dict[str, threading.Event] = {}
    threading.Thread(target=_listen, args=(sys.stdin, jobs, cancelled), daemon=True).start()
    while True:
        message = jobs.get()
        if message is None:
            return
        job = message["job"]
        cancel = cancelled.setdefault(job, threading.Event())
        try:
            configs = [RunConfig.from_dict(d) for d in message["configs"]]
            sent: List[Dict[str, int]] = [{} for _ in configs]
            last_arrays, last_sent = -ARRAYS_EVERY, None
            for snap in run_batch(configs, device=device, cancel=cancel):
                if not due(snap.elapsed, last_sent, snap.step, snap.done):
                    continue
                last_sent = snap.elapsed
                with_arrays = snap.elapsed - last_arrays >= ARRAYS_EVERY or snap.done
                last_arrays = snap.elapsed if with_arrays else last_arrays
                current = snap.arrays() if with_arrays else [None] * len(snap.records)
                send({"job": job, "type": "snapshot", "step": snap.step, "total": snap.total_steps,
                      "elapsed": snap.elapsed,
                      "runs": [_delta(r, s, a) for r, s, a in zip(snap.records, sent, current)]})
            send({"job": job, "type": "done"})
        except Exception as e:  # reported to the page as a message, never a traceback
            traceback.print_exc()
            send({"job": job, "type": "error", "message": f"{type(e).__name__}: {e}"})
        finally:
            cancelled.pop(job, None)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1, sys.argv[2] if len(sys.argv) > 2 else "auto")
