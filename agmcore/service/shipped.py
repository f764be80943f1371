"""Results that ship with the app, so a fresh install shows something before anything is computed.

`agmcore/assets/` (package data) holds, from this version's code (written by `agmcore ship`):
  races/<race key>.json.gz        the Home presets' races: their run documents, whole (the Gallery
                                  and the Result page show them once `install_races` has put them
                                  in the store, marked shipped);
  experiments/<name>.json         each classroom experiment at its default seeds: the cells' keys,
                                  the summary and the figure (plotly JSON). The cells themselves
                                  are not shipped (the sample-complexity sweep's would be ~15 MB).
A shipped result is a function of its configuration like any other: its keys are content keys of
this schema, so after a change to the science the files no longer match and are ignored until
`agmcore ship` writes them again (docs/architecture.md, "Shipped results").
"""
from __future__ import annotations

import gzip
import importlib.resources
import json
import os
from typing import Callable, Dict, List, Optional, Sequence

from agmcore.engine.config import RunConfig
from agmcore.storage.output_files import write_atomically
from agmcore.storage.store import DamagedEntry, ResultStore, checked_run, race_key

# agmcore/assets: package data (pyproject.toml), so an installed package finds it as a checkout does
ASSETS = str(importlib.resources.files("agmcore") / "assets")
RACES, EXPERIMENTS = "races", "experiments"


def write_race(folder: str, docs: Sequence[Dict]) -> str:
    """Write a finished race's documents to races/<key>.json.gz; returns the key."""
    key = race_key([RunConfig.from_dict(d["config"]) for d in docs])
    path = os.path.join(folder, RACES, f"{key}.json.gz")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    text = json.dumps(list(docs), separators=(",", ":"), allow_nan=False)
    write_atomically(path, gzip.compress(text.encode(), mtime=0), mode="wb")  # mtime 0: the same bytes each time
    return key


def read_race(path: str) -> List[Dict]:
    """A shipped race's documents, each checked like a stored run (DamagedEntry if one is not, or
    if the file's name is not the race's key: written by another version of the science)."""
    try:
        with gzip.open(path, "rt") as f:
            docs = json.load(f)
    except (OSError, ValueError, EOFError) as e:
        raise DamagedEntry(f"the shipped race {os.path.basename(path)} does not read ({e})") from None
    if not isinstance(docs, list) or not docs or not all(isinstance(d, dict) for d in docs):
        raise DamagedEntry(f"the shipped race {os.path.basename(path)} is not a list of run documents")
    docs = [checked_run(str(d.get("key")), d) for d in docs]
    key = race_key([RunConfig.from_dict(d["config"]) for d in docs])
    if os.path.basename(path) != f"{key}.json.gz":
        raise DamagedEntry(f"the shipped race {os.path.basename(path)} holds another race ({key[:12]}…)")
    return docs


def install_races(store: ResultStore, folder: str = ASSETS) -> Dict[str, int]:
    """Put every shipped race that the store lacks into it, marked shipped. Returns counts:
    installed, present (already stored), unusable (damaged, or from another schema)."""
    counts = {"installed": 0, "present": 0, "unusable": 0}
    races = os.path.join(folder, RACES)
    for name in sorted(os.listdir(races)) if os.path.isdir(races) else []:
        if not name.endswith(".json.gz"):
            continue
        if store.usable_race(name[: -len(".json.gz")]) is not None:
            counts["present"] += 1
            continue
        try:
            docs = read_race(os.path.join(races, name))
        except DamagedEntry:
            counts["unusable"] += 1
            continue
        store.put_race([RunConfig.from_dict(d["config"]) for d in docs], docs, shipped=True)
        counts["installed"] += 1
    return counts


def what_ran(configs: Sequence[RunConfig]) -> Dict:
    """What an experiment's cells ran, for a reader of assets/ without the code: the number of
    cells, the seeds, the step budgets and logging, and each distinct task and optimizer setting."""
    def distinct_dicts(items):
        return list({json.dumps(d, sort_keys=True): d for d in items}.values())

    logging = sorted({f"{c.log_points} log-spaced points" if c.log_points else f"every {c.log_every} steps"
                      for c in configs})
    return {"cells": len(configs), "seeds": sorted({c.seed for c in configs}),
            "steps": sorted({c.steps for c in configs}), "logging": logging,
            "tasks": distinct_dicts(c.to_dict()["task"] for c in configs),
            "optimizers": distinct_dicts(c.to_dict()["optimizer"] for c in configs)}


def experiment_file(folder: str, name: str, scale: str = "classroom") -> str:
    """experiments/<name>.json for the classroom scale, experiments/<name>.<scale>.json for another."""
    return os.path.join(folder, EXPERIMENTS, f"{name}.json" if scale == "classroom" else f"{name}.{scale}.json")


def write_experiment(folder: str, name: str, seeds: int, configs: Sequence[RunConfig], summary: Dict,
                     figure_json: str, scale: str = "classroom") -> str:
    """Write one experiment's shipped record (experiment_file); returns the path."""
    path = experiment_file(folder, name, scale)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    record = {"experiment": name, "scale": scale, "seeds": seeds, "cells": [c.key for c in configs],
              "ran": what_ran(configs), "summary": summary, "figure": json.loads(figure_json)}
    write_atomically(path, json.dumps(record, separators=(",", ":"), default=str))
    return path


def shipped_experiment(name: str, cells: Sequence[str], folder: str = ASSETS, scale: str = "classroom"
                       ) -> Optional[Dict]:
    """The shipped record of experiment `name` at `scale` when it was computed from exactly these
    cell keys (so from this science and these seeds); None otherwise, or when the file does not read."""
    path = experiment_file(folder, name, scale)
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("cells") != list(cells):
        return None
    if not isinstance(record.get("summary"), dict) or not isinstance(record.get("figure"), dict):
        return None
    return record


def ship(folder: str, races: Sequence[List[RunConfig]], experiments: Sequence, collect_cells: Callable,
         run_race: Callable, draw: Callable[[str, List[RunConfig], List[Dict]], str],
         report: Callable[[str], None] = lambda line: None, scale: Optional[str] = None) -> Dict[str, List[str]]:
    """Compute and write everything shipped: each race (run_race(configs) -> documents) and each
    experiment at its default seeds and each of its shipped scales (collect_cells(configs) ->
    documents; draw(name, configs, documents) -> its figure as plotly JSON), or at `scale` alone.
    Old race files that are no longer shipped are removed (with no races given, none are)."""
    written: Dict[str, List[str]] = {RACES: [], EXPERIMENTS: []}
    for configs in races:
        key = write_race(folder, run_race(configs))
        written[RACES].append(key)
        report(f"race {key[:12]}… ({', '.join(c.optimizer.name for c in configs)})")
    race_folder = os.path.join(folder, RACES)
    for name in os.listdir(race_folder) if races and os.path.isdir(race_folder) else []:
        if name.endswith(".json.gz") and name[: -len(".json.gz")] not in written[RACES]:
            os.remove(os.path.join(race_folder, name))
    for experiment, at in ((e, at) for e in experiments for at in ([scale] if scale else e.shipped_scales)):
        configs = experiment.build(at, experiment.seeds)
        docs = collect_cells(configs)
        summary = experiment.summarize(configs, docs)
        write_experiment(folder, experiment.name, experiment.seeds, configs, summary,
                         draw(experiment.name, configs, docs), at)
        written[EXPERIMENTS].append(experiment.name if at == "classroom" else f"{experiment.name}.{at}")
        report(f"experiment {experiment.name} at {at} scale ({len(configs)} cells, claim "
               f"{'held' if summary['claim_holds'] else 'did not hold'})")
    return written
