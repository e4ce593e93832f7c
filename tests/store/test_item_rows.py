"""The SQLite store's related-item rows stay exactly those of its current snapshots.

``items`` rows are found by the days ``item_days`` keeps for each snapshot (schema 12), not
by an index on the snapshot id: every path that replaces or removes a current snapshot
(a new content, a takedown, a copy or restore onto it, a re-key) must take its old rows
with it, or the table grows with rows no snapshot has, and a re-used row id lists items it
does not have.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import date, datetime, timedelta
from pathlib import Path

from newsstore import Snapshot, copy_store
from newsstore._store.sqlite import SQLiteStore
from newsstore._store.sqlite.schema import SCHEMA_VERSION

from ..conftest import BEIJING

DAY = datetime(2023, 11, 14, 10, 0, tzinfo=BEIJING)
EPOCH = date(1970, 1, 1)


def _listing(make: Callable[..., Snapshot], url: str, *days: int, **fields) -> Snapshot:
    return make(
        url=url,
        related=[{"title": f"相关{d}", "published_at": DAY + timedelta(days=d)} for d in days],
        **fields,
    )


def _expected(store: SQLiteStore) -> list[tuple[int, str]]:
    """The (day, key) rows the current snapshots' items give: an item's day is its Beijing
    calendar date, in days since 1970-01-01."""
    rows = set()
    for (key,) in store._db.execute("SELECT key FROM snapshots").fetchall():
        snap = store.get(key)
        for item in snap.related + snap.more_in_category:
            rows.add(((item.published_at.astimezone(BEIJING).date() - EPOCH).days, key))
    return sorted(rows)


def _stored(store: SQLiteStore) -> tuple[list[tuple[int, str]], int, list[int], list[int]]:
    """The items rows by key; all items rows; item_days' ids; the snapshots' ids."""
    db = store._db
    by_key = db.execute(
        "SELECT i.day, s.key FROM items i JOIN snapshots s ON s.id = i.snapshot_id ORDER BY 1, 2"
    ).fetchall()
    total = db.execute("SELECT count(*) FROM items").fetchone()[0]
    kept = [i for (i,) in db.execute("SELECT snapshot_id FROM item_days ORDER BY 1")]
    ids = [i for (i,) in db.execute("SELECT id FROM snapshots ORDER BY 1")]
    return by_key, total, kept, ids


def _assert_in_step(store: SQLiteStore) -> None:
    by_key, total, kept, ids = _stored(store)
    assert by_key == _expected(store)
    assert total == len(by_key)  # no row of a snapshot that is gone
    assert kept == ids


def test_every_path_that_replaces_or_removes_a_snapshot_takes_its_item_rows(
    tmp_path: Path, make: Callable[..., Snapshot], later: Callable[..., datetime]
) -> None:
    a_url, b_url = "https://n.example.com/a.html", "https://n.example.com/b.html"
    with SQLiteStore(tmp_path / "news.db") as store:
        a = _listing(make, a_url, 0, 1)
        store.save(a)
        store.save(_listing(make, b_url, 1, 5, title="乙"))
        _assert_in_step(store)
        # A new content on other days: its old days go, the shared one stays.
        store.save(_listing(make, a_url, 1, 2, paragraphs=["新的"], snapshot_at=later(a, 1)))
        _assert_in_step(store)
        # Two contents of one key in one write group: the later one's days only.
        with store._write_group():
            store.save(_listing(make, a_url, 3, paragraphs=["再新"], snapshot_at=later(a, 2)))
            store.save(_listing(make, a_url, 4, paragraphs=["最新"], snapshot_at=later(a, 3)))
        _assert_in_step(store)
        store.delete(b_url, reason="takedown")
        _assert_in_step(store)
        # The highest row id went: the next snapshot takes it, and none of b's items.
        store.save(_listing(make, "https://n.example.com/c.html", 7, title="丙"))
        _assert_in_step(store)
        assert not list(store.related_on(DAY + timedelta(days=5), DAY + timedelta(days=6)))

        # A copy onto a store holding another content of a key replaces its rows there.
        with SQLiteStore(tmp_path / "other.db") as other:
            other.save(_listing(make, a_url, 9, paragraphs=["别的"], snapshot_at=later(a, 9)))
            _assert_in_step(other)
            assert copy_store(other, store).equal  # c is only in the target: it lacks nothing
        _assert_in_step(store)

        # A re-key merges two keys into one: the one that goes takes its rows.
        store.tracking_params = frozenset()
        store._archive_backend().write_meta(store._archive_target().meta)
        store.save(_listing(make, a_url + "?ref=x", 11, title="丁"))
        _assert_in_step(store)
        store.tracking_params = frozenset(["ref"])
        store.rekey()
        _assert_in_step(store)
        assert store.count() == 2


def test_a_version_11_store_keeps_its_item_days_and_loses_the_index(
    tmp_path: Path, make: Callable[..., Snapshot]
) -> None:
    db = tmp_path / "news.db"
    with SQLiteStore(db) as store:
        store.save(_listing(make, "https://n.example.com/a.html", 0, 1))
        store.save(_listing(make, "https://n.example.com/b.html", 1, 2, title="乙"))
    with closing(sqlite3.connect(db)) as conn:
        # As schema 11 left it: the index by snapshot id, no item_days.
        conn.executescript(
            "DROP TRIGGER items_removed; DROP TABLE item_days;"
            " CREATE INDEX items_snapshot ON items (snapshot_id); PRAGMA user_version = 11;"
        )
    with SQLiteStore(db) as store:
        _assert_in_step(store)
        store.delete("https://n.example.com/a.html", reason="takedown")
        _assert_in_step(store)
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 12
        indexes = {row[1] for row in conn.execute("PRAGMA index_list(items)")}
        assert "items_snapshot" not in indexes
