"""A finished (or stopped) run as the JSON document of the CLI schema.

    {"schema": 2, "key", "config", "status", "steps_done", "history": {"step": [...], ...},
     "final": {...}, "params": {...}, and task arrays ("w", "w_star" or "W", "W_star")}

Runs with tail_average also carry "params_avg" and "<measure>_avg" (and "_avg_proj") finals.
Non-finite numbers are written as null so the document is valid JSON.
"""
from __future__ import annotations

import json
from typing import Any, Dict

from . import SCHEMA_VERSION
from .config import ConfigError, RunConfig
from .observation import RunRecord

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
