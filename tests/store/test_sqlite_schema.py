"""A SQLite store written by an earlier version opens, and is upgraded in place."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

from newsstore import Query, Snapshot
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
            "INSERT INTO history (key, content_hash, url, snapshot_at, archived_at, content)"
            " SELECT key, content_hash, url, snapshot_at, 0, content"
            " FROM snapshots"
        )
        conn.execute("PRAGMA user_version = 3")
        conn.commit()
    with SQLiteStore(db) as store:
        assert [h.paragraphs for h in store.history(a.url or "")] == [a.paragraphs]
        assert store.stats().history == 1


def test_a_version_4_store_gets_version_times_and_its_history_indexed_by_time(
    tmp_path: Path, make, later
) -> None:
    db = tmp_path / "news.db"
    a = make()
    b = make(paragraphs=["改。"], snapshot_at=later(a, 1))
    single = make(url="https://news.example.com/one.html", title="一版")
    with SQLiteStore(db) as store:
        store.save_many([a, b, single])
    with closing(sqlite3.connect(db)) as conn:  # as schema 4 left it
        conn.execute("DROP INDEX history_snapshot")
        for table, column in (
            ("history", "first_seen"),
            ("history", "last_seen"),
            ("snapshots", "version_first_seen"),
            ("snapshots", "version_last_seen"),
        ):
            conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        conn.execute("PRAGMA user_version = 4")
        conn.commit()
    with SQLiteStore(db) as store:
        # What schema 4 did not keep is unknown; a key's only content has the key's times.
        old, new = store.versions(a.url or "")
        assert (old.first_seen, old.last_seen, new.first_seen) == (None, None, None)
        (only,) = store.versions(single.url or "")
        assert (
            only.first_seen is not None
            and only.first_seen == store.get(single.url or "").stored.first_seen
        )  # type: ignore[union-attr]
        assert [c.key for c in store.changed()] == [store.key_of(a)]
        store.save(make(paragraphs=["再改。"], snapshot_at=later(a, 2)))
        assert store.versions(a.url or "")[-1].first_seen is not None
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 12
        indexes = {row[1] for row in conn.execute("PRAGMA index_list(history)")}
        assert "history_snapshot" in indexes
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT key FROM history WHERE snapshot_at >= 0 AND snapshot_at < 1"
        ).fetchall()
        assert "history_snapshot" in str(plan)


def test_find_changed_reads_only_covering_indexes(tmp_path: Path, make, later) -> None:
    # On a store larger than memory every table row read is a random read: a day's
    # window on snapshots_snapshot took ~0.4 s on the 1M store, on these indexes ~1 ms.
    db = tmp_path / "news.db"
    with SQLiteStore(db) as store:
        a = make()
        store.save_many([a, make(paragraphs=["改。"], snapshot_at=later(a, 1))])
        plans: list[str] = []
        trace = store._db.set_trace_callback  # type: ignore[attr-defined]
        statements: list[str] = []
        trace(statements.append)
        assert len(store.changed()) == 1
        trace(None)
        for sql in statements:
            if sql.lstrip().upper().startswith("SELECT"):
                plan = store._db.execute("EXPLAIN QUERY PLAN " + sql).fetchall()  # type: ignore[attr-defined]
                plans += [row[3] for row in plan if row[3].startswith("SEARCH")]
    assert plans and all("COVERING INDEX" in step for step in plans), plans


def test_a_version_4_store_keeps_its_counts_and_counts_distinct_records_from_then_on(
    tmp_path: Path, make
) -> None:
    # Version 4 counted every sighting and kept no record ids: its counts stay, and from
    # the upgrade on only records it has not counted since are added.
    db = tmp_path / "news.db"
    a = make()
    with SQLiteStore(db) as store:
        store.save(a)
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("ALTER TABLE snapshots DROP COLUMN records")
        conn.execute("UPDATE snapshots SET seen_count = 7")
        conn.execute("PRAGMA user_version = 4")
        conn.commit()
    with SQLiteStore(db) as store:
        for _ in range(3):
            assert store.save(a) == "unchanged"
        stored = store.get(a.url or "").stored
        assert stored is not None and stored.seen_count == 8
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


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


# ``snapshots`` as schema 1 to 4 created it (the other tables are created as for a new
# store); versions 6 and 7 appended their columns after the content.
_VERSION_1_SNAPSHOTS = """
CREATE TABLE snapshots (
    id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, url TEXT, urls TEXT NOT NULL,
    host TEXT, title TEXT NOT NULL, category TEXT, source TEXT, published_at INTEGER,
    snapshot_at INTEGER, content_hash TEXT NOT NULL, hashes TEXT NOT NULL,
    first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, seen_count INTEGER NOT NULL,
    rev INTEGER NOT NULL, content BLOB NOT NULL
);
PRAGMA user_version = 4;
"""


def test_a_store_upgraded_from_version_4_keeps_its_row_layout_and_behaves_as_a_new_one(
    tmp_path: Path, make, later
) -> None:
    # An upgraded store has the columns of versions 6 and 7 after its content, a new one
    # before it; every statement names its columns, so both keep the same records.
    old, new = tmp_path / "old.db", tmp_path / "new.db"
    with closing(sqlite3.connect(old)) as conn:
        conn.executescript(_VERSION_1_SNAPSHOTS)
    a = make()
    b = make(paragraphs=["改。"], snapshot_at=later(a, 1))
    other = make(url="https://news.example.com/two.html", title="二")
    seen = {}
    for path in (old, new):
        with SQLiteStore(path) as store:
            outcomes = [store.save(a), store.save(a), store.save(b), store.save(other)]
            outcomes.append(store.save(a))  # an earlier version again: history
            stored = store.get(a.url or "").stored
            assert stored is not None
            seen[path] = (
                outcomes,
                stored.seen_count,
                [(v.content_hash, v.current) for v in store.versions(a.url or "")],
                [h.paragraphs for h in store.history(a.url or "")],
                sorted(s.title for s in store.find(Query())),
                store.stats().history,
            )
            notes = store.diagnose().notes
            assert any("older layout" in n for n in notes) is (path == old), notes
    assert seen[old] == seen[new]
    for path, last in ((old, "records"), (new, "content")):
        with closing(sqlite3.connect(path)) as conn:
            columns = [row[1] for row in conn.execute("PRAGMA table_info(snapshots)")]
            assert columns[-1] == last
