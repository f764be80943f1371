"""The result store: finished runs and races in a diskcache folder, JSON text only.

What is guaranteed (README, "How results are stored"):

- **No code runs from the store.** It is read and written through `TextOnlyDisk`, which keeps
  keys and values as text and refuses, rather than unpickles, anything else found in the folder
  (diskcache's default Disk unpickles whatever it finds: a pickled value planted by whoever can
  write the folder would run code, CVE-2025-69872).
- **A damaged entry is reported, not trusted.** Every document read is checked: its shape, its
  schema, and that its key is its content's key (a run's configuration hashes to it; a race's
  runs hash to it). Anything else raises `DamagedEntry`, which pages show as "this stored entry
  is damaged"; the gallery skips such entries and counts them.
- The folder lives outside the repository (SHARPNESS_LAB_STORE, default
  ~/.cache/sharpness-lab/store), is created with mode 0700, and is bounded by a size limit with
  least-recently-used eviction.

Keys: "run:<key>" (one run, the CLI schema), "race:<key>" (runs compared together: their keys
and when), "index:<key>" (a small summary of a race for the gallery), "pending:<key>" (a race
queued or running in the app, with the step it reached: what a restarted server reports as
interrupted).
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any, Dict, List, Optional, Sequence

import diskcache
from diskcache.core import MODE_RAW, MODE_TEXT, UNKNOWN

from agmcore import SCHEMA_VERSION, settings
from agmcore.analysis.verdict import digest
from agmcore.engine.config import ConfigError, RunConfig
from agmcore.problems.descriptors import size_of

DEFAULT_FOLDER = os.path.join(os.path.expanduser("~"), ".cache", "sharpness-lab", "store")


def race_key(configs: Sequence[RunConfig]) -> str:
    """Content key of an ordered list of runs compared together."""
    keys = ",".join(c.key for c in configs)
    return hashlib.sha256(f"schema={SCHEMA_VERSION};race;{keys}".encode()).hexdigest()


def is_key(text: Any) -> bool:
    """A well-formed content key: 64 lowercase hex digits."""
    return isinstance(text, str) and len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def summary(configs: Sequence[RunConfig], key: str, created: float, docs: Sequence[Dict[str, Any]] = (),
            shipped: bool = False) -> Dict[str, Any]:
    """What the gallery lists for a race: its settings, and from its documents the key numbers
    (verdict.digest); `shipped` marks a race that came with the app (agmcore.service.shipped)."""
    first = configs[0]
    size = size_of(first.task)
    return {"key": key, "created": created, "task": first.task.name, "size": size,
            "samples": first.task.samples, "steps": max(c.steps for c in configs),
            "optimizers": [c.optimizer.name for c in configs], "seeds": sorted({c.seed for c in configs}),
            "shipped": shipped, **(digest(docs) if docs else {})}


class DamagedEntry(Exception):
    """A stored entry that is not what this store writes (unreadable, wrong shape, or its key
    not its content's); the message says which and why."""


class TextOnlyDisk(diskcache.Disk):
    """diskcache's Disk for text keys and values only: storing anything else is a TypeError, and
    a pickled (or binary) key or value found in the folder raises DamagedEntry unread."""

    def store(self, value, read, key=UNKNOWN):
        if not isinstance(value, str) or read:
            raise TypeError("the result store keeps JSON text only")
        return super().store(value, read, key=key)

    def fetch(self, mode, filename, value, read):
        if mode not in (MODE_RAW, MODE_TEXT):
            raise DamagedEntry("a stored value is not text (pickled or binary): refused unread")
        value = super().fetch(mode, filename, value, read)
        if not isinstance(value, str):
            raise DamagedEntry("a stored value is not text: refused")
        return value

    def get(self, key, raw):
        if not raw:
            raise DamagedEntry("a stored key is pickled: refused unread")
        return super().get(key, raw)


def _require(condition: bool, key: str, why: str):
    if not condition:
        raise DamagedEntry(f"the stored entry {key} is damaged: {why}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_number_or_none(value: Any) -> bool:
    return value is None or _is_number(value)


def _list_of(entry: Dict[str, Any], field: str, item_ok, length: Optional[int] = None) -> bool:
    """Whether entry[field] is absent, or a list (of `length` items if given) whose items pass item_ok."""
    if field not in entry:
        return True
    value = entry[field]
    return isinstance(value, list) and (length is None or len(value) == length) and all(map(item_ok, value))


def checked_run(key: str, doc: Any) -> Dict[str, Any]:
    """A run document whose shape, schema and key hold (else DamagedEntry)."""
    name = f"run:{key[:12]}…"
    _require(isinstance(doc, dict), name, "not a JSON object")
    _require(doc.get("schema") == SCHEMA_VERSION, name, f"schema {doc.get('schema')!r}, not {SCHEMA_VERSION}")
    for field, kind in (("config", dict), ("history", dict), ("final", dict), ("status", str)):
        _require(isinstance(doc.get(field), kind), name, f"'{field}' missing or not a {kind.__name__}")
    _require(all(isinstance(v, list) for v in doc["history"].values()), name, "a history that is not lists")
    try:
        config = RunConfig.from_dict(doc["config"])
    except (ConfigError, KeyError, TypeError, ValueError) as e:
        raise DamagedEntry(f"the stored entry {name} is damaged: its configuration does not read ({e})") from None
    _require(config.key == key and doc.get("key") == key, name, "its content does not match its key")
    return doc


def checked_index(key: str, entry: Any) -> Dict[str, Any]:
    """A gallery entry of the shape `summary` writes (else DamagedEntry)."""
    name = f"index:{key[:12]}…"
    _require(isinstance(entry, dict) and entry.get("key") == key, name, "not an entry for this key")
    _require(_is_number(entry.get("created")), name, "no time of creation")
    for field, kind in (("task", str), ("size", int), ("samples", int), ("steps", int)):
        _require(isinstance(entry.get(field), kind), name, f"'{field}' missing or not a {kind.__name__}")
    _require(isinstance(entry.get("optimizers"), list) and all(isinstance(o, str) for o in entry["optimizers"]),
             name, "no list of optimizers")
    _require(isinstance(entry.get("seeds"), list) and all(isinstance(x, int) for x in entry["seeds"]),
             name, "no list of seeds")
    # the digest's fields (verdict.digest), absent where no documents were given
    runs = len(entry["optimizers"])
    _require(_list_of(entry, "test_loss", _is_number_or_none, runs), name, "'test_loss' is not one number per run")
    _require(_list_of(entry, "curves", lambda c: isinstance(c, list) and all(map(_is_number_or_none, c)), runs),
             name, "'curves' are not one list of numbers per run")
    _require(_list_of(entry, "verdict", lambda v: isinstance(v, str)), name, "'verdict' is not a list of sentences")
    _require(isinstance(entry.get("shipped", False), bool), name, "'shipped' is not true or false")
    return entry


class ResultStore:
    """Runs and races by content key (see module docstring)."""

    def __init__(self, folder: Optional[str] = None, size_limit: Optional[int] = None):
        self.folder = folder or os.environ.get("SHARPNESS_LAB_STORE", DEFAULT_FOLDER)
        limit = size_limit or settings.store_limit()
        os.makedirs(self.folder, mode=0o700, exist_ok=True)
        os.chmod(self.folder, 0o700)
        self.cache = diskcache.Cache(self.folder, size_limit=limit, eviction_policy="least-recently-used",
                                     disk=TextOnlyDisk)

    def _get(self, key: str) -> Optional[Any]:
        """The JSON stored under `key`, None if there is none; DamagedEntry if it is not JSON text."""
        text = self.cache.get(key)
        if text is None:
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise DamagedEntry(f"the stored entry {key[:18]}… is damaged: not JSON") from None

    def _put(self, key: str, value: Dict[str, Any]):
        self.cache.set(key, json.dumps(value, allow_nan=False, separators=(",", ":")))

    # runs
    def put_run(self, doc: Dict[str, Any]):
        self._put(f"run:{doc['key']}", doc)

    def get_run(self, key: str) -> Optional[Dict[str, Any]]:
        """The run stored under `key`; None if there is none; DamagedEntry if it is damaged."""
        if not is_key(key):
            return None
        doc = self._get(f"run:{key}")
        return None if doc is None else checked_run(key, doc)

    def usable_run(self, key: str) -> Optional[Dict[str, Any]]:
        """The run, or None when it is missing or damaged (a caller that can compute it again)."""
        try:
            return self.get_run(key)
        except DamagedEntry:
            return None

    # races
    def put_race(self, configs: Sequence[RunConfig], docs: Sequence[Dict[str, Any]], shipped: bool = False):
        """Store each run, then the race that lists them and its gallery entry."""
        for doc in docs:
            self.put_run(doc)
        return self.put_race_entry(configs, docs, shipped)

    def put_race_entry(self, configs: Sequence[RunConfig], docs: Sequence[Dict[str, Any]], shipped: bool = False,
                       listed: bool = True):
        """Store the race that lists these runs (stored already) and, if `listed`, its gallery
        entry (a swept knob's races are opened from their Playground, not listed one by one)."""
        key, created = race_key(configs), time.time()
        self._put(f"race:{key}", {"schema": SCHEMA_VERSION, "key": key, "runs": [c.key for c in configs],
                                  "created": created})
        if listed:
            self._put(f"index:{key}", summary(configs, key, created, docs, shipped))
        return key

    def get_race(self, key: str) -> Optional[List[Dict[str, Any]]]:
        """The run documents of a race, or None when unknown, malformed or (partly) evicted;
        DamagedEntry if the race or one of its runs is damaged. A run key is accepted too and
        gives a race of one."""
        if not is_key(key):
            return None
        race = self._get(f"race:{key}")
        if race is None:
            run = self.get_run(key)
            return [run] if run is not None else None
        name = f"race:{key[:12]}…"
        _require(isinstance(race, dict) and isinstance(race.get("runs"), list) and race["runs"]
                 and all(is_key(k) for k in race["runs"]), name, "no list of run keys")
        docs = [self.get_run(k) for k in race["runs"]]
        if any(d is None for d in docs):
            return None
        configs = [RunConfig.from_dict(d["config"]) for d in docs]
        _require(race_key(configs) == key, name, "its runs do not match its key")
        return docs

    def usable_race(self, key: str) -> Optional[List[Dict[str, Any]]]:
        """The race, or None when it is missing or damaged (a caller that can compute it again)."""
        try:
            return self.get_race(key)
        except DamagedEntry:
            return None

    def _text_keys(self, prefix: str):
        """(the text keys starting with `prefix`, how many pickled keys were skipped unread)."""
        try:
            keys, pickled = list(self.cache.iterkeys()), 0
        except DamagedEntry:  # a pickled key: list the text keys straight from diskcache's table
            keys = [k for (k,) in self.cache._sql("SELECT key FROM Cache WHERE raw = 1").fetchall()]
            pickled = 1
        return [k for k in keys if isinstance(k, str) and k.startswith(prefix)], pickled

    # races in progress (jobs.JobManager records them, so a restart can say what it interrupted)
    def put_pending(self, configs: Sequence[RunConfig], step: int):
        key = race_key(configs)
        self._put(f"pending:{key}", {"key": key, "configs": [c.to_dict() for c in configs], "step": int(step),
                                     "updated": time.time()})

    def drop_pending(self, key: str):
        self.cache.delete(f"pending:{key}")

    def pending(self) -> List[Dict[str, Any]]:
        """Races recorded as queued or running: {"key", "configs" (RunConfig), "step"}; damaged
        records are dropped."""
        out = []
        for k in self._text_keys("pending:")[0]:
            try:
                entry = self._get(k)
                configs = [RunConfig.from_dict(c) for c in entry["configs"]]
                if race_key(configs) != k[8:] or not isinstance(entry.get("step"), int):
                    raise DamagedEntry(f"{k[:20]}…: not a record of this race")
                out.append({"key": k[8:], "configs": configs, "step": entry["step"]})
            except (DamagedEntry, ConfigError, KeyError, TypeError, ValueError):
                self.cache.delete(k)
        return out

    def gallery(self) -> List[Dict[str, Any]]:
        """Summaries of stored races, newest first (entries whose race was evicted, and damaged
        ones, are skipped: `gallery_report` counts those)."""
        return self.gallery_report()[0]

    def gallery_report(self):
        """(the gallery's entries newest first, how many entries were damaged and skipped)."""
        keys, damaged = self._text_keys("index:")
        out = []
        for k in keys:
            if f"race:{k[6:]}" in self.cache:
                try:
                    entry = self._get(k)
                    if entry is not None:
                        out.append(checked_index(k[6:], entry))
                except DamagedEntry:
                    damaged += 1
        return sorted(out, key=lambda e: e["created"], reverse=True), damaged

    def close(self):
        self.cache.close()
