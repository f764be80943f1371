"""A finished (or stopped) run as the JSON document of the CLI schema.

    {"schema": 3, "key", "config", "status", "steps_done", "history": {"step": [...], ...},
     "final": {...}, "params": {...}, and task arrays ("w", "w_denoised", "w_star" or "W",
     "W_denoised", "W_star")}

The one shape of a run's result from the engine to the pages: the CLI writes it, the store keeps
it, the job manager builds it for a race in progress (`document_of`), figures read it.

Runs with tail_average also carry "params_avg" and "<measure>_avg" (and "_avg_proj") finals.
Non-finite numbers are written as null so the document is valid JSON.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict

from agmcore import SCHEMA_VERSION
from agmcore.engine.config import ConfigError, RunConfig


@dataclass
class RunRecord:
    """What one run has produced so far; the engine appends to it in place."""

    config: RunConfig
    status: str = "running"  # running | finished | diverged | cancelled
    steps_done: int = 0
    history: Dict[str, list] = field(default_factory=dict)  # "step" and one list per metric
    final: Dict[str, Any] = field(default_factory=dict)
    arrays: Dict[str, Any] = field(default_factory=dict)  # params, w, w_star once the run has ended
    # (while it runs, Snapshot.arrays() gives them: converting them at every logging point cost
    # more than the measures, docs/benchmarks.md)

    @property
    def key(self) -> str:
        return self.config.key


REQUIRED = ("schema", "key", "config", "status", "steps_done", "history", "final", "params")


def to_document(record: RunRecord, **extra: Any) -> Dict[str, Any]:
    """The JSON-ready dict for one run; `extra` adds fields such as device or wall time."""
    doc = {
        "schema": SCHEMA_VERSION,
        "key": record.key,
        "config": record.config.to_dict(),
        "status": record.status,
        "steps_done": record.steps_done,
        "history": record.history,
        "final": record.final,
    }
    doc.update(record.arrays)
    doc.update(extra)
    return doc


def document_of(config: RunConfig, state: Dict[str, Any], **extra: Any) -> Dict[str, Any]:
    """The document of a run from its state as the job manager merges it (status, steps_done,
    history, final, arrays): the same shape as a finished run's."""
    record = RunRecord(config, status=state["status"], steps_done=state["steps_done"], history=state["history"],
                       final=state["final"], arrays=state["arrays"])
    return to_document(record, **extra)


def dumps(doc: Dict[str, Any]) -> str:
    return json.dumps(doc, allow_nan=False, separators=(",", ":"))


def loads(text: str) -> Dict[str, Any]:
    """Parse and check a result document; the config must rebuild to the stored key."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"not a result document: {e}") from None
    missing = [k for k in REQUIRED if not isinstance(doc, dict) or k not in doc]
    if missing:
        raise ConfigError(f"not a result document: missing {missing[0]!r}")
    if doc["schema"] != SCHEMA_VERSION:
        raise ConfigError(f"result schema {doc['schema']} is not the supported schema {SCHEMA_VERSION}")
    if RunConfig.from_dict(doc["config"]).key != doc["key"]:
        raise ConfigError("result key does not match its configuration")
    return doc
