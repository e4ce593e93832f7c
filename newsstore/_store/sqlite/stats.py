"""The counts ``stats`` reads from a SQLite store, each a scan of one index."""

from __future__ import annotations

import sqlite3

from ..values import QUARTER_MS, Grouped

__all__ = ["grouped", "history_count", "keys_with_versions"]


def grouped(db: sqlite3.Connection) -> Grouped:
    """Snapshots by category, by source and by quarter of publication."""
    # Floor division, exact for times before 1970 too.
    quarter = f"(published_at - ((published_at % {QUARTER_MS}) + {QUARTER_MS}) % {QUARTER_MS})"
    return Grouped(
        dict(db.execute("SELECT category, count(*) FROM snapshots GROUP BY 1")),
        dict(db.execute("SELECT source, count(*) FROM snapshots GROUP BY 1")),
        dict(db.execute(f"SELECT {quarter} / {QUARTER_MS}, count(*) FROM snapshots GROUP BY 1")),
    )


def history_count(db: sqlite3.Connection) -> int:
    """How many earlier contents the store keeps."""
    return int(db.execute("SELECT count(*) FROM history").fetchone()[0])


def keys_with_versions(db: sqlite3.Connection) -> int:
    """How many keys have more than one content."""
    # History holds every content of a key but the current one, so a key has versions when
    # it has history: a scan of history's key index, not of every row.
    return int(db.execute("SELECT count(DISTINCT key) FROM history").fetchone()[0])
