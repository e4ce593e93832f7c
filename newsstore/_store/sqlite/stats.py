"""The counts ``stats`` reads from a SQLite store.

Snapshots by category, by source and by quarter hour of publication come from ``tallies``
(schema 11): a row per category, source and quarter with its count. Counted from the
indexes instead, they read every entry of three of them (0.47 s cold on a 1M store, with a
temporary B-tree for its 75k quarters); the table is a few thousand rows. A value is kept
as ``json_quote`` of it, so that NULL (no category) is a value of its own in the key.

The two statements that insert snapshot rows count them (:func:`count_added`, a batch's
counts in one statement); triggers follow the rarer changes: a current replaced with other
values, a takedown's delete. (An insert trigger would make every snapshot insert keep a
statement journal: 75 KB of temporary file a record, measured.) The other counts are a
scan of one index each.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable
from typing import Any

from ..values import QUARTER_MS, Grouped
from .sql import statements

__all__ = ["add_tallies", "count_added", "grouped", "history_count", "keys_with_versions"]

_CATEGORY, _SOURCE, _QUARTER = 0, 1, 2


def _quarter(column: str) -> str:
    # Floor division, exact for times before 1970 too.
    q = QUARTER_MS
    return f"(({column} - (({column} % {q}) + {q}) % {q}) / {q})"


def _counted(row: str) -> list[tuple[int, str]]:
    """Each kind with the SQL value it counts of a snapshot row (``row``: ``NEW.``, ``OLD.``
    or nothing)."""
    return [
        (_CATEGORY, f"{row}category"),
        (_SOURCE, f"{row}source"),
        (_QUARTER, _quarter(f"{row}published_at")),
    ]


_ADD = (
    "INSERT INTO tallies VALUES "
    + ", ".join(f"({kind}, json_quote({value}), 1)" for kind, value in _counted("NEW."))
    + " ON CONFLICT DO UPDATE SET n = n + 1;"
)
# One statement a kind, each a lookup of the key: a row-value IN over the three would
# scan the table (measured: ~0.5 ms an update on a 5k-snapshot store). Rows left at 0 stay
# (a value seen once); they are not read.
_REMOVE = "\n".join(
    f"UPDATE tallies SET n = n - 1 WHERE kind = {kind} AND value = json_quote({value});"
    for kind, value in _counted("OLD.")
)
_TABLE = f"""
CREATE TABLE IF NOT EXISTS tallies (
    kind INTEGER NOT NULL,
    value TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (kind, value)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS tallies_removed AFTER DELETE ON snapshots BEGIN
    {_REMOVE}
END;
CREATE TRIGGER IF NOT EXISTS tallies_changed AFTER UPDATE OF category, source, published_at
    ON snapshots WHEN OLD.category IS NOT NEW.category OR OLD.source IS NOT NEW.source
    OR OLD.published_at IS NOT NEW.published_at
BEGIN
    {_REMOVE}
    {_ADD}
END;
"""


def count_added(db: sqlite3.Connection, payloads: Iterable[tuple[Any, ...]]) -> None:
    """Count the snapshot rows just inserted, by their payloads (.rows.payload)."""
    counts: Counter[tuple[int, Any]] = Counter()
    for _, category, source, published, *_ in payloads:
        counts[_CATEGORY, category] += 1
        counts[_SOURCE, source] += 1
        counts[_QUARTER, None if published is None else published // QUARTER_MS] += 1
    if counts:
        db.executemany(
            "INSERT INTO tallies VALUES (?, json_quote(?), ?)"
            " ON CONFLICT DO UPDATE SET n = n + excluded.n",
            [(kind, value, n) for (kind, value), n in counts.items()],
        )


def add_tallies(db: sqlite3.Connection) -> None:
    """Schema step 11: ``tallies`` and its triggers, counted once from the stored snapshots
    (in the caller's write transaction)."""
    for statement in statements(_TABLE):
        db.execute(statement)
    db.execute("DELETE FROM tallies")
    for kind, expression in _counted(""):
        db.execute(
            f"INSERT INTO tallies SELECT {kind}, json_quote({expression}), count(*)"
            " FROM snapshots GROUP BY 2"
        )


def grouped(db: sqlite3.Connection) -> Grouped:
    """Snapshots by category, by source and by quarter of publication."""
    categories: dict[str | None, int] = {}
    sources: dict[str | None, int] = {}
    quarters: dict[int | None, int] = {}
    for kind, value, n in db.execute("SELECT kind, value, n FROM tallies WHERE n > 0"):
        if kind == _QUARTER:  # tens of thousands on a large store: int() is 5x json.loads
            quarters[None if value == "null" else int(value)] = n
        elif kind == _CATEGORY:
            categories[json.loads(value)] = n
        else:
            sources[json.loads(value)] = n
    return Grouped(categories, sources, quarters)


def history_count(db: sqlite3.Connection) -> int:
    """How many earlier contents the store keeps."""
    return int(db.execute("SELECT count(*) FROM history").fetchone()[0])


def keys_with_versions(db: sqlite3.Connection) -> int:
    """How many keys have more than one content."""
    # History holds every content of a key but the current one, so a key has versions when
    # it has history: a scan of history's key index, not of every row.
    return int(db.execute("SELECT count(DISTINCT key) FROM history").fetchone()[0])
