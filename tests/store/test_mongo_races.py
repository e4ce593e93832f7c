"""MongoDB writes lose races gracefully: a concurrent writer between load and write is retried.

The race is staged deterministically: a second store writes the same key right after the
first one loaded its state, so the first one's guarded write must fail and be re-planned.
"""

from __future__ import annotations

from typing import Any

from newsstore._store.mongo import MongoStore

URL = "https://news.example.com/world/2023/11/14/putin.html"


def _racing(store: MongoStore, rival: MongoStore, rival_snapshot: Any) -> None:
    original = store._load_states

    def load_then_let_rival_write(keys: list[str]) -> Any:
        states = original(keys)
        store._load_states = original  # type: ignore[method-assign]
        rival.save(rival_snapshot)
        return states

    store._load_states = load_then_let_rival_write  # type: ignore[method-assign]


def test_concurrent_insert_of_the_same_key_is_retried_not_reported(mongodb, make, later) -> None:
    mine, theirs = MongoStore(mongodb), MongoStore(mongodb)
    a = make()
    b = make(paragraphs=["对手的版本。"], snapshot_at=later(a, 1))
    _racing(mine, theirs, b)

    report = mine.save_many([a])

    assert report.rejected == 0 and report.inserted == 0
    assert report.versioned == 1  # after the retry, a is older than b
    assert mongodb.snapshots.count_documents({}) == 1
    assert mine.get(URL).paragraphs == ["对手的版本。"]
    assert [h.paragraphs for h in mine.history(URL)] == [a.paragraphs]


def test_concurrent_update_bumps_the_revision_and_forces_a_replan(mongodb, make, later) -> None:
    mine, theirs = MongoStore(mongodb), MongoStore(mongodb)
    a = make()
    mine.save(a)
    newest = make(paragraphs=["最新。"], snapshot_at=later(a, 2))
    middle = make(paragraphs=["中间。"], snapshot_at=later(a, 1))
    _racing(mine, theirs, newest)

    assert mine.save(middle) == "versioned"

    assert mine.get(URL).paragraphs == ["最新。"]
    assert sorted(h.paragraphs[0] for h in mine.history(URL)) == ["中间。", "第一段。"]
    assert mine.get(URL).stored.seen_count == 3  # type: ignore[union-attr]
