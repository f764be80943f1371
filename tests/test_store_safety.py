"""The store runs no code and trusts no damaged entry (agmcore/storage/store.py): planted pickles are
refused unread, corrupt or mismatched documents raise DamagedEntry, the gallery counts them."""
import json
import os

import diskcache
import pytest

from agmcore.engine.config import DiagNetTask, OptimizerConfig, RunConfig
from agmcore.engine.results import to_document
from agmcore.engine.runner import run_all
from agmcore.storage.store import DamagedEntry, ResultStore, race_key


class Payload:
    """Unpickling this creates `path`: the proof that code ran."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.fixture(scope="module")
def race():
    configs = [RunConfig(task=DiagNetTask(dim=12, samples=6), optimizer=OptimizerConfig(name=n, lr=0.05), steps=100,
                         log_every=50, seed=3) for n in ("adam", "sgd")]
    return configs, [to_document(r) for r in run_all(configs)]


@pytest.fixture
def store(tmp_path, race):
    store = ResultStore(str(tmp_path / "store"))
    store.put_race(*race)
    return store


def _plant(store, key, value):
    """Write through diskcache's default (pickling) Disk, as an attacker with the folder would."""
    with diskcache.Cache(store.folder) as raw:
        raw.set(key, value)


@pytest.mark.parametrize("prefix", ["run", "race", "index"])
def test_a_planted_pickle_is_refused_unread(store, race, tmp_path, prefix):
    configs, _ = race
    key = configs[0].key if prefix == "run" else race_key(configs)
    marker = str(tmp_path / f"ran-{prefix}")
    _plant(store, f"{prefix}:{key}", Payload(marker))
    with pytest.raises(DamagedEntry, match="not text"):
        store.get_race(key) if prefix != "index" else store.cache.get(f"index:{key}")
    entries, damaged = store.gallery_report()
    assert not os.path.exists(marker)  # no code ran, whichever way the entry was reached
    if prefix == "index":
        assert entries == [] and damaged == 1


def test_a_planted_pickled_key_is_skipped(store, race, tmp_path):
    marker = str(tmp_path / "ran-key")
    _plant(store, ("index:", Payload(marker)), "{}")  # a tuple key is pickled by diskcache
    entries, damaged = store.gallery_report()
    assert not os.path.exists(marker)
    assert [e["key"] for e in entries] == [race_key(race[0])] and damaged == 1
    assert store.pending() == []  # a restarted job manager lists its records past the pickled key too


def test_the_store_writes_text_only(store):
    with pytest.raises(TypeError, match="JSON text only"):
        store.cache.set("run:x", {"a": 1})


CORRUPT_RACES = {
    "not JSON": "{not json",
    "not an object": "[1,2,3]",
    "no runs": json.dumps({"runs": []}),
    "runs not keys": json.dumps({"runs": ["../../etc"]}),
}


@pytest.mark.parametrize("why", list(CORRUPT_RACES))
def test_a_corrupt_race_is_damaged(store, race, why):
    key = race_key(race[0])
    store.cache.set(f"race:{key}", CORRUPT_RACES[why])
    with pytest.raises(DamagedEntry):
        store.get_race(key)
    assert store.usable_race(key) is None  # what the Playground and the job manager use: compute it again


def _with(doc, **changes):
    out = json.loads(json.dumps(doc))
    out.update(changes)
    return {k: v for k, v in out.items() if v is not None}


@pytest.mark.parametrize("why, change", [
    ("no config", dict(config=None)),
    ("another schema", dict(schema=1)),
    ("history not lists", dict(history={"step": 3})),
    ("config does not read", dict(config={"task": {"name": "mnist"}})),
])
def test_a_corrupt_run_is_damaged(store, race, why, change):
    configs, docs = race
    store.cache.set(f"run:{configs[0].key}", json.dumps(_with(docs[0], **change)))
    with pytest.raises(DamagedEntry, match="damaged"):
        store.get_run(configs[0].key)
    with pytest.raises(DamagedEntry):
        store.get_race(race_key(configs))
    assert store.usable_run(configs[0].key) is None


def test_content_must_match_its_key(store, race):
    """A valid run stored under another run's key, or a race listing other runs, is damaged."""
    configs, docs = race
    store.cache.set(f"run:{configs[0].key}", json.dumps(docs[1]))
    with pytest.raises(DamagedEntry, match="does not match its key"):
        store.get_run(configs[0].key)
    store.put_race(*race)
    other = race_key(configs[::-1])
    store.cache.set(f"race:{other}", json.dumps({"runs": [c.key for c in configs], "created": 1.0}))
    with pytest.raises(DamagedEntry, match="runs do not match its key"):
        store.get_race(other)


def test_a_damaged_gallery_entry_is_skipped_and_counted(store, race):
    key = race_key(race[0])
    configs = [RunConfig(task=DiagNetTask(dim=12, samples=6), optimizer=OptimizerConfig(name="sgd"), steps=50,
                         log_every=50, seed=9)]
    second = store.put_race(configs, [to_document(r) for r in run_all(configs)])
    entry = json.loads(store.cache.get(f"index:{key}"))
    del entry["created"]
    store.cache.set(f"index:{key}", json.dumps(entry))
    entries, damaged = store.gallery_report()
    assert [e["key"] for e in entries] == [second] and damaged == 1


@pytest.mark.parametrize("field, value, damaged", [
    (None, None, False),  # an entry written without documents has no digest: fine
    ("test_loss", [0.1], True),  # one number for a race of two
    ("test_loss", [0.1, "x"], True),
    ("curves", [[0.5, None], 3], True),
    ("curves", [[0.5, None], []], False),
    ("verdict", "Adam lower", True),
    ("shipped", "yes", True),
])
def test_a_gallery_entrys_digest_is_checked_when_present(race, field, value, damaged):
    from agmcore.storage.store import checked_index, summary

    configs, _ = race
    entry = summary(configs, race_key(configs), 1.0)  # no documents: no digest
    if field is not None:
        entry[field] = value
    if damaged:
        with pytest.raises(DamagedEntry, match=field):
            checked_index(race_key(configs), entry)
    else:
        assert checked_index(race_key(configs), entry) == entry
