"""A SQLite store written by an earlier version opens, and is upgraded in place."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

from newsstore import Snapshot
from newsstore._store.sqlite import SQLiteStore
from newsstore._store.sqlite.schema import SCHEMA_VERSION

from ..conftest import BEIJING

# The items table of schema versions 1 and 2 (newsstore 0.1.0): one row per item, by time.
_OLD_ITEMS = """
DROP TABLE items;
CREATE TABLE items (
    published_at INTEGER NOT NULL,
    snapshot_id INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (published_at, snapshot_id, kind, position)
) WITHOUT ROWID;
CREATE INDEX items_snapshot ON items (snapshot_id);
PRAGMA user_version = 2;
"""


def test_a_version_2_store_gets_its_related_items_reindexed(tmp_path: Path, make) -> None:
    db = tmp_path / "news.db"
    day = datetime(2023, 8, 2, 18, 16, tzinfo=BEIJING)
    lister: Snapshot = make(
        related=[{"title": "昨天", "published_at": day - timedelta(days=1)}],
        more_in_category=[{"title": "今天", "published_at": day}],
    )
    with SQLiteStore(db) as store:
        store.save(lister)
    with closing(sqlite3.connect(db)) as conn:
        conn.executescript(_OLD_ITEMS)  # as 0.1.0 left it (its rows do not matter here)

    with SQLiteStore(db) as store:
        start = datetime(2023, 8, 2, tzinfo=BEIJING)
        hits = list(store.related_on(start, start + timedelta(days=1)))
        assert [(h.kind, h.item.title) for h in hits] == [("more_in_category", "今天")]
        assert store.get(lister.url or "").title == lister.title
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        columns = [row[1] for row in conn.execute("PRAGMA table_info(items)")]
        assert columns == ["day", "snapshot_id"]


def test_a_version_3_store_loses_history_entries_of_its_current_content(
    tmp_path: Path, make, later
) -> None:
    # Version 3 could keep a content that became current again in history too; its readers
    # filtered it out. Opening the store deletes such entries, so counts and lists agree.
    db = tmp_path / "news.db"
    a = make()
    b = make(paragraphs=["改。"], snapshot_at=later(a, 1))
    with SQLiteStore(db) as store:
        store.save(a)
        store.save(b)
    with closing(sqlite3.connect(db)) as conn:
        conn.execute(
            "INSERT INTO history SELECT key, content_hash, url, snapshot_at, 0, content"
            " FROM snapshots"
        )
        conn.execute("PRAGMA user_version = 3")
        conn.commit()
    with SQLiteStore(db) as store:
        assert [h.paragraphs for h in store.history(a.url or "")] == [a.paragraphs]
        assert store.stats().history == 1


def test_a_version_4_store_gets_its_snapshots_fingerprinted(tmp_path: Path, make) -> None:
    from ..stories import republished, story_a

    db = tmp_path / "news.db"
    with SQLiteStore(db) as store:
        store.save(make(url="https://a.example.com/1.html", paragraphs=story_a()))
        store.save(make(url="https://b.example.com/1.html", paragraphs=republished(story_a())))
        store.save(make(url="https://c.example.com/1.html", paragraphs=["短讯。"]))
    with closing(sqlite3.connect(db)) as conn:
        # As version 4 left it: no fingerprint tables.
        conn.executescript("DROP TABLE signatures; DROP TABLE bands; PRAGMA user_version = 4;")

    seen: list[tuple[int, int]] = []
    with SQLiteStore(db, progress=lambda done, total: seen.append((done, total))) as store:
        assert [h.url for h in store.similar("https://a.example.com/1.html")] == [
            "https://b.example.com/1.html"
        ]
    assert seen[-1] == (3, 3)
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        # The short page has no fingerprint; the two others have theirs.
        assert conn.execute("SELECT count(*) FROM signatures").fetchone()[0] == 2
    seen.clear()
    with SQLiteStore(db, progress=lambda done, total: seen.append((done, total))):
        assert seen == []  # once only
