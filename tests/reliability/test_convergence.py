"""Re-runs converge exactly (issue #15, item 21), on both stores.

An import killed midway (simulated: a prefix of the file imported, which is what whole
committed batches leave) and run again ends in the state a clean run gives, field by field:
``seen_count`` counts distinct input records (it used to count the prefix twice), and
``url`` is the least spelling seen with the current content (it used to be the first to
arrive), so the file read in any order gives the same spellings too.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from newsstore import Store
from newsstore._store.mongo import MongoStore
from newsstore._store.sqlite import SQLiteStore

KEYS = 12
SPELLINGS = (
    "https://news.example.com/{k}.html",
    "http://www.news.example.com/{k}.html",
    "https://news.example.com/{k}.html?utm_source=feed",
    "http://NEWS.example.com:80/{k}.html#top",
)


def _lines(seed: int = 7) -> list[str]:
    """Every key under several spellings, with two or three contents, some records twice."""
    rng = random.Random(seed)
    lines = []
    for k in range(KEYS):
        for version in range(1 + k % 3):
            for spelling in rng.sample(SPELLINGS, 2 + k % 3):
                record = {
                    "url": spelling.format(k=k),
                    "title": f"第{k}篇",
                    "paragraphs": [f"版本{version}"],
                    "snapshot_at": f"2023-11-1{version + 1} 10:00:00",
                }
                line = json.dumps(record, ensure_ascii=False)
                lines.extend([line] * (1 + (k + version) % 2))  # some records come twice
    rng.shuffle(lines)
    return lines


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _state(store: Store, *, spelling_order: bool = True) -> dict[str, Any]:
    """Everything a key holds but the times of writing (first/last seen, archived at)."""
    state = {}
    for snapshot in store.find():
        assert snapshot.stored is not None
        stored = snapshot.stored.model_dump(exclude={"first_seen", "last_seen", "archived_at"})
        if not spelling_order:  # urls lists spellings in the order they first came
            stored["urls"] = sorted(stored["urls"])
        history = [
            (h.url, h.stored.content_hash if h.stored else None, h.paragraphs)
            for h in store.history(stored["key"])
        ]
        state[stored["key"]] = {
            "current": snapshot.model_dump(exclude={"stored"}),
            "stored": stored,
            "history": sorted(history, key=repr),
        }
    return state


@pytest.fixture(params=["sqlite", "mongodb"])
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """A factory of fresh, empty stores of one kind (the MongoDB test server when up)."""
    opened: list[Store] = []

    def new() -> Store:
        if request.param == "sqlite":
            store: Store = SQLiteStore(tmp_path / f"s{len(opened)}.db")
        else:
            database = request.getfixturevalue("mongodb")
            for name in database.list_collection_names():
                database.drop_collection(name)
            store = MongoStore(database)
        opened.append(store)
        return store

    yield new
    for store in opened:
        store.close()


def test_an_import_killed_midway_and_run_again_equals_a_clean_run(
    tmp_path: Path, fresh: Callable[[], Store]
) -> None:
    lines = _lines()
    full = _write(tmp_path / "full.ndjson", lines)
    clean = fresh()
    assert clean.import_records([full], batch_size=10).rejected == 0
    expected = _state(clean)
    clean.close()
    # Distinct records: a record read twice counts once.
    records = {(json.loads(x)["url"], json.loads(x)["paragraphs"][0]) for x in lines}
    assert sum(s["stored"]["seen_count"] for s in expected.values()) == len(records)

    for cut in (len(lines) // 3, len(lines) - 1):
        rerun = fresh()
        rerun.import_records([_write(tmp_path / "prefix.ndjson", lines[:cut])], batch_size=10)
        rerun.import_records([full], batch_size=10)
        assert _state(rerun) == expected, cut
        rerun.import_records([full], batch_size=10)  # and once more: nothing moves
        assert _state(rerun) == expected
        rerun.close()


def test_the_url_spelling_does_not_depend_on_arrival_order(
    tmp_path: Path, fresh: Callable[[], Store]
) -> None:
    lines = _lines()
    states = []
    for order in range(3):
        shuffled = lines[:] if order == 0 else random.Random(order).sample(lines, len(lines))
        store = fresh()
        # Batches of 7: records of one content meet both within a batch and across batches.
        store.import_records([_write(tmp_path / f"o{order}.ndjson", shuffled)], batch_size=7)
        states.append(_state(store, spelling_order=False))
        store.close()
    assert states[1] == states[0]
    assert states[2] == states[0]
    # The rule itself: the least spelling seen with the current content.
    state = states[0]["https://news.example.com/0.html"]
    spellings = {
        json.loads(x)["url"]
        for x in lines
        if json.loads(x)["url"].lower().find("/0.html") != -1
        and json.loads(x)["paragraphs"] == state["current"]["paragraphs"]
    }
    assert state["current"]["url"] == min(spellings)
