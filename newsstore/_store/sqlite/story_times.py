"""The SQLite store's compact copy of what ``clusters`` reads, in publication order.

``clusters`` asks for the fingerprinted snapshots published in a window. Read from
``snapshots``, each is a row of its own (~11 KB, an overflow page or two), so a day of a
large store is one random page read per snapshot when it is not in the page cache.
``story_times`` holds only what a cluster shows (key, URL, source, times) and the signature,
~250 bytes a snapshot, keyed by ``(published_at, snapshot_id)`` in a ``WITHOUT ROWID``
B-tree: a day is one range of neighbouring rows, a few sequential pages.

A new fingerprint's row is inserted at the commit with its band rows, the transaction's
rows sorted by publication time (see .buffer: inserted as they come, each would land at a
random place of the B-tree, ~30 µs a snapshot at 100k). Triggers keep the rows in step
with the rest: a signature that goes takes its row, a snapshot whose key, URL, source or
times change has its row rewritten, a snapshot deleted loses it. So on every path that
writes a fingerprint (save, import, restore and copy, takedown, re-key, history made
current) a row is there, once committed, exactly when its snapshot has a signature and a
publication time. (A signature is never updated in place: a new content's replaces it,
delete then insert.)
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, tzinfo
from typing import Any

from ..._similar import Fingerprinted
from ..._times import from_ms, to_ms
from .sql import statements

__all__ = ["INSERT_HELD", "add_story_times", "fingerprinted", "fingerprinted_row"]

_COLUMNS = "key, url, source, published_at, snapshot_at, signature"
_SELECT = (
    "SELECT s.published_at, s.id, s.key, s.url, s.source, s.snapshot_at, g.signature"
    " FROM snapshots s JOIN signatures g ON g.snapshot_id = s.id"
)
# The rows of the fingerprints a transaction wrote, inserted at its commit in publication
# order (.buffer): ?1 is the JSON array of their snapshot ids.
INSERT_HELD = (
    f"INSERT OR REPLACE INTO story_times {_SELECT}"
    " JOIN json_each(?1) j ON s.id = j.value"
    " WHERE s.published_at IS NOT NULL ORDER BY 1, 2"
)
_TABLE = """
CREATE TABLE IF NOT EXISTS story_times (
    published_at INTEGER NOT NULL,
    snapshot_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    url TEXT,
    source TEXT,
    snapshot_at INTEGER,
    signature BLOB NOT NULL,
    PRIMARY KEY (published_at, snapshot_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS story_times_snapshot ON story_times (snapshot_id);
CREATE TRIGGER IF NOT EXISTS story_times_unsigned AFTER DELETE ON signatures BEGIN
    DELETE FROM story_times WHERE snapshot_id = OLD.snapshot_id;
END;
CREATE TRIGGER IF NOT EXISTS story_times_changed
    AFTER UPDATE OF key, url, source, published_at, snapshot_at ON snapshots
    WHEN OLD.key IS NOT NEW.key OR OLD.url IS NOT NEW.url OR OLD.source IS NOT NEW.source
        OR OLD.published_at IS NOT NEW.published_at OR OLD.snapshot_at IS NOT NEW.snapshot_at
BEGIN
    DELETE FROM story_times WHERE snapshot_id = OLD.id;
    INSERT OR REPLACE INTO story_times
        SELECT NEW.published_at, NEW.id, NEW.key, NEW.url, NEW.source, NEW.snapshot_at,
            g.signature
        FROM signatures g WHERE g.snapshot_id = NEW.id AND NEW.published_at IS NOT NULL;
END;
CREATE TRIGGER IF NOT EXISTS story_times_removed AFTER DELETE ON snapshots BEGIN
    DELETE FROM story_times WHERE snapshot_id = OLD.id;
END;
"""


def add_story_times(db: sqlite3.Connection) -> None:
    """Schema step 9: ``story_times`` and its triggers, filled from the stored fingerprints.

    Runs in the caller's write transaction; the rows go in publication order, so the new
    B-tree is written from start to end.
    """
    for statement in statements(_TABLE):
        db.execute(statement)
    db.execute(
        f"INSERT OR REPLACE INTO story_times {_SELECT} WHERE s.published_at IS NOT NULL"
        " ORDER BY s.published_at, s.id"
    )


def fingerprinted(
    db: sqlite3.Connection, start: datetime, end: datetime, zone: tzinfo
) -> list[Fingerprinted]:
    """The fingerprinted snapshots published in ``[start, end)``: one range of the table."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM story_times WHERE published_at >= ? AND published_at < ?",
        (to_ms(start), to_ms(end)),
    ).fetchall()
    return [fingerprinted_row(row, zone) for row in rows]


def fingerprinted_row(row: tuple[Any, ...], zone: tzinfo) -> Fingerprinted:
    """A ``(key, url, source, published_at, snapshot_at, signature)`` row as a Fingerprinted."""
    key, url, source, published, snapshot_at, sig = row

    def when(ms: int | None) -> datetime | None:
        return None if ms is None else from_ms(ms).astimezone(zone)

    return Fingerprinted(key, url, source, when(published), when(snapshot_at), bytes(sig))
