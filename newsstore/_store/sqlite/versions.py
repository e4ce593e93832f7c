"""The SQLite store's part of versions: each version's seen times, and keys changed in a window.

``snapshots.version_first_seen``/``version_last_seen`` are the current content's times
(``first_seen``/``last_seen`` are the key's), ``history.first_seen``/``last_seen`` each
earlier content's (schema 6). A window of snapshot times is read on two covering indexes,
``snapshots_versioned`` (partial: keys with several contents) and ``history_snapshot``;
then every content of the keys found, on ``snapshots_versions`` and ``history_versions``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime

from ..._rules import KeyPlan
from ..._times import from_ms, to_ms
from ..._versions import SeenTimes, VersionEntry
from .sql import select_in

__all__ = ["record_reseen", "version_entries", "version_times"]

# The condition of the partial indexes on snapshots: a key with more than one content.
_SEVERAL = "json_array_length(hashes) > 1"


def _time(ms: int | None) -> datetime | None:
    return None if ms is None else from_ms(ms)


def version_times(db: sqlite3.Connection, key: str) -> dict[str, SeenTimes]:
    """First and last seen of each content of ``key``, by content hash (None: unknown)."""
    rows = db.execute(
        "SELECT content_hash, version_first_seen, version_last_seen FROM snapshots WHERE key = ?"
        " UNION ALL SELECT content_hash, first_seen, last_seen FROM history WHERE key = ?",
        (key, key),
    ).fetchall()
    return {chash: (_time(first), _time(last)) for chash, first, last in rows}


def version_entries(
    db: sqlite3.Connection, start: datetime | None, end: datetime | None
) -> list[VersionEntry]:
    """Every content of each key that has a content with its snapshot time in the window,
    and more than one content."""
    clauses, params = [], []
    if start is not None:
        clauses.append("snapshot_at >= ?")
        params.append(to_ms(start))
    if end is not None:
        clauses.append("snapshot_at < ?")
        params.append(to_ms(end))
    window = " AND ".join(clauses) or "snapshot_at IS NOT NULL"
    # Each statement reads only covering indexes (schema.VERSION_INDEX), no table row.
    keys = [
        row[0]
        for row in db.execute(
            f"SELECT key FROM snapshots WHERE {window} AND {_SEVERAL}"
            f" UNION SELECT key FROM history WHERE {window}",
            params * 2,
        )
    ]
    current = select_in(
        db,
        # Without statistics the planner prefers the unique key index, which reads rows.
        "SELECT key, content_hash, snapshot_at, url FROM snapshots INDEXED BY snapshots_versions"
        f" WHERE key IN ({{marks}}) AND {_SEVERAL}",
        keys,
    )
    earlier = select_in(
        db, "SELECT key, content_hash, snapshot_at FROM history WHERE key IN ({marks})", keys
    )
    entries = [VersionEntry(k, h, _time(at), True, url) for k, h, at, url in current]
    entries += [VersionEntry(k, h, _time(at), False) for k, h, at in earlier]
    return entries


def record_reseen(db: sqlite3.Connection, plans: Iterable[KeyPlan], now: datetime) -> None:
    """Stored history contents that came again are seen now (after the plans' history rows
    are written, so that a current content archived in the same batch counts too)."""
    now_ms = to_ms(now)
    rows = [(now_ms, p.key, h) for p in plans for h in p.reseen_history]
    if rows:
        db.executemany(
            "UPDATE history SET last_seen = max(coalesce(last_seen, 0), ?)"
            " WHERE key = ? AND content_hash = ?",
            rows,
        )
