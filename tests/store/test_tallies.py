"""SQLite's ``tallies``: what ``stats`` groups by, kept in step on every write path."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

from newsstore import copy_store
from newsstore._store.sqlite import SQLiteStore
from newsstore._store.sqlite.schema import SCHEMA_VERSION
from newsstore._store.sqlite.stats import grouped
from newsstore._store.values import QUARTER_MS, Grouped

from ..conftest import BEIJING

# The counts as the indexes give them, row by row.
_Q = QUARTER_MS
_SCANS = (
    "SELECT category, count(*) FROM snapshots GROUP BY 1",
    "SELECT source, count(*) FROM snapshots GROUP BY 1",
    f"SELECT (published_at - ((published_at % {_Q}) + {_Q}) % {_Q}) / {_Q}, count(*)"
    " FROM snapshots GROUP BY 1",
)


def _scanned(store: SQLiteStore) -> Grouped:
    db = store._db  # type: ignore[attr-defined]
    return Grouped(*(dict(db.execute(sql).fetchall()) for sql in _SCANS))


def _in_step(store: SQLiteStore) -> Grouped:
    counted = grouped(store._db)  # type: ignore[attr-defined]
    assert counted == _scanned(store)
    return counted


def _url(n: int) -> str:
    return f"https://news.example.com/2023/11/14/{n}.html"


def _pages(make) -> list:
    when = [
        datetime(2023, 11, 14, 11, 19, tzinfo=BEIJING),
        datetime(2023, 11, 14, 11, 29, tzinfo=BEIJING),  # the same quarter hour
        None,
        datetime(1969, 12, 31, 23, 50, tzinfo=timezone.utc),  # before 1970
    ]
    return [
        make(
            url=_url(n),
            title=f"第{n}篇",
            category=[None, "国际", "国际", "军事"][n % 4],
            source=["新华社", None][n % 2],
            published_at=when[n % 4],
        )
        for n in range(8)
    ]


def test_tallies_follow_every_write_path(tmp_path: Path, make, later) -> None:
    with SQLiteStore(tmp_path / "news.db") as store:
        pages = _pages(make)
        store.save_many(pages)
        counted = _in_step(store)
        assert counted.categories == {None: 2, "国际": 4, "军事": 2}
        assert counted.sources == {"新华社": 4, None: 4}
        assert sum(counted.quarters.values()) == 8 and counted.quarters[None] == 2
        # A new current with another category, source and time; an older one, history.
        newer = pages[1].model_copy(
            update={
                "category": "财经",
                "source": "人民网",
                "published_at": None,
                "snapshot_at": later(pages[1], 2),
                "title": "第1篇 新",
            }
        )
        store.save(newer)
        store.save(
            pages[2].model_copy(
                update={"category": "体育", "title": "旧", "snapshot_at": later(pages[2], -2)}
            )
        )
        assert _in_step(store).categories == {None: 2, "国际": 3, "军事": 2, "财经": 1}
        # The older content made current again (policy replace), a takedown, its lift.
        store.save(pages[1], policy="replace")
        store.delete(_url(3), reason="test")
        store.delete(_url(4), reason="test")
        assert _in_step(store).categories == {None: 1, "国际": 4, "军事": 1}
        store.lift_takedown(_url(4))
        store.save(pages[4])
        assert _in_step(store).categories == {None: 2, "国际": 4, "军事": 1}
        # A copy to another store counts the same there.
        with SQLiteStore(tmp_path / "copy.db") as other:
            copy_store(store, other)
            assert _in_step(other) == _in_step(store)
        assert store.stats().snapshots == 7


def test_a_version_10_store_gets_its_tallies(tmp_path: Path, make) -> None:
    db = tmp_path / "news.db"
    with SQLiteStore(db) as store:
        store.save_many(_pages(make))
        before = store.stats()
    with closing(sqlite3.connect(db)) as conn:
        # As version 10 left it: no tallies, no triggers.
        conn.executescript(
            "DROP TRIGGER tallies_removed;"
            " DROP TRIGGER tallies_changed; DROP TABLE tallies; PRAGMA user_version = 10;"
        )
    with SQLiteStore(db) as store:
        assert store.stats() == before
        store.delete(_url(1), reason="test")  # the triggers came with it
        assert _in_step(store).categories == {None: 2, "国际": 3, "军事": 2}
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 12
