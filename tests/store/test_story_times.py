"""SQLite's ``story_times``: what ``clusters`` reads, kept in step on every write path."""

from __future__ import annotations

import io
import sqlite3
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

from newsstore import copy_store
from newsstore._store.sqlite import SQLiteStore
from newsstore._store.sqlite.schema import SCHEMA_VERSION

from ..conftest import BEIJING
from ..stories import republished, story_a, story_b, story_url, syndicated_snapshots

DAY = datetime(2023, 11, 14, tzinfo=BEIJING)
# What story_times must hold: every fingerprinted snapshot with a publication time.
_EXPECTED = (
    "SELECT s.published_at, s.id, s.key, s.url, s.source, s.snapshot_at, g.signature"
    " FROM snapshots s JOIN signatures g ON g.snapshot_id = s.id"
    " WHERE s.published_at IS NOT NULL ORDER BY 1, 2"
)
_HELD = (
    "SELECT published_at, snapshot_id, key, url, source, snapshot_at, signature"
    " FROM story_times ORDER BY 1, 2"
)


_url = story_url


def _in_step(store: SQLiteStore) -> int:
    db = store._db  # type: ignore[attr-defined]
    held = db.execute(_HELD).fetchall()
    assert held == db.execute(_EXPECTED).fetchall()
    return len(held)


def _save_stories(store: SQLiteStore, make) -> None:
    # And a copy of story B with no publication time, which no window holds.
    b1 = make(url=_url("b1"), paragraphs=republished(story_b(), 2), published_at=None)
    store.save_many([*syndicated_snapshots(make, DAY), b1])


def test_every_write_path_keeps_story_times_in_step(tmp_path: Path, make, later) -> None:
    with SQLiteStore(tmp_path / "a.db") as store:
        _save_stories(store, make)
        # The short page has no signature, b1 no publication time.
        assert _in_step(store) == 4
        a1 = store.get(_url("a1"))
        # A new current content moves the row to its new time and signature...
        store.save(
            make(
                url=_url("a1"),
                paragraphs=republished(story_b(), 3),
                published_at=DAY + timedelta(hours=20),
                snapshot_at=later(a1, 5),
            )
        )
        assert _in_step(store) == 4
        # ...an older content goes to history and changes nothing...
        store.save(make(url=_url("a1"), paragraphs=story_a(), snapshot_at=later(a1, 1)))
        # ...a lesser spelling of a stored content becomes its URL.
        store.save(
            make(
                url="http://a0.example.com/news/1.html",
                paragraphs=story_a(),
                source="新华社",
                published_at=DAY + timedelta(hours=9),
            )
        )
        assert _in_step(store) == 4
        urls = {row[3] for row in store._db.execute(_HELD)}  # type: ignore[attr-defined]
        assert "http://a0.example.com/news/1.html" in urls
        store.delete(_url("b0"), reason="test")
        assert _in_step(store) == 3
        archive = io.StringIO()
        store.dump(archive)
        (tmp_path / "a.ndjson").write_text(archive.getvalue(), encoding="utf-8")
        with SQLiteStore(tmp_path / "restored.db") as restored:
            restored.restore(tmp_path / "a.ndjson")
            assert _in_step(restored) == 3
            assert restored.clusters(DAY, DAY + timedelta(days=1)) == store.clusters(
                DAY, DAY + timedelta(days=1)
            )
        with SQLiteStore(tmp_path / "copied.db") as copied:
            copy_store(store, copied)
            assert _in_step(copied) == 3
        store.rekey()
        assert _in_step(store) == 3


def test_clusters_read_one_range_of_story_times(tmp_path: Path, make) -> None:
    with SQLiteStore(tmp_path / "a.db") as store:
        _save_stories(store, make)
        statements: list[str] = []
        store._db.set_trace_callback(statements.append)  # type: ignore[attr-defined]
        (story,) = store.clusters(DAY, DAY + timedelta(days=1))
        store._db.set_trace_callback(None)  # type: ignore[attr-defined]
        assert [m.url for m in story.members] == [_url("a0"), _url("a2"), _url("a1")]
        (query,) = [s for s in statements if "story_times" in s]
        plan = store._db.execute("EXPLAIN QUERY PLAN " + query).fetchall()  # type: ignore[attr-defined]
        # A search of the primary key (publication time first): no table row is read.
        assert "SEARCH story_times USING PRIMARY KEY (published_at>? AND published_at<?)" in str(
            plan
        )
        assert not any("snapshots" in s for s in statements)


def test_a_version_8_store_gets_its_story_times(tmp_path: Path, make) -> None:
    db = tmp_path / "news.db"
    with SQLiteStore(db) as store:
        _save_stories(store, make)
        before = store.clusters(DAY, DAY + timedelta(days=1))
    with closing(sqlite3.connect(db)) as conn:
        # As version 8 left it: no story_times, no triggers.
        conn.executescript(
            "DROP TRIGGER story_times_unsigned; DROP TRIGGER story_times_changed;"
            " DROP TRIGGER story_times_removed; DROP TABLE story_times;"
            " DROP TRIGGER copies_unsigned; DROP TABLE copies; DROP TABLE band_heads;"
            " PRAGMA user_version = 8;"
        )
    with SQLiteStore(db) as store:
        assert _in_step(store) == 4
        assert store.clusters(DAY, DAY + timedelta(days=1)) == before
        # The copies of story A and of story B; not the short page.
        assert store.stats().near_duplicates == 5
        # The triggers came with it: takedowns leave the table.
        store.delete(_url("a1"), reason="test")
        store.delete(_url("a2"), reason="test")
        assert _in_step(store) == 2
        assert store.clusters(DAY, DAY + timedelta(days=1)) == []
        assert store.stats().near_duplicates == 2  # b0 and b1
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 12
