"""Index rows held back until the commit, then inserted in key order.

``items`` is keyed by (day, snapshot id) and ``lines`` by a random digest: inserted as
records arrive, each row lands on a B-tree page at a random place, and a large store's
commit writes nearly every such page. Held until the commit and inserted sorted, rows on
the same page go in together and each page is written once per commit.

Held rows follow the transaction: a batch's rows are its own until the batch is released
(then the group's) or rolled back (then dropped), so a batch that fails leaves nothing
behind, as its SQL writes leave nothing. Nothing reads ``items`` or ``lines`` between a
write and its commit except the line memory's recall, for which a line seen earlier in
the same transaction is simply not recalled (it is validated again and found unchanged).
"""

from __future__ import annotations

import sqlite3

__all__ = ["RowBuffer"]

# Every item day of every held snapshot, sorted by SQLite itself: {"id": [day, …], …}.
_INSERT_ITEMS = (
    "INSERT OR IGNORE INTO items SELECT d.value, CAST(s.key AS INTEGER)"
    " FROM json_each(?1) s, json_each(s.value) d ORDER BY 1, 2"
)
_INSERT_LINES = "INSERT OR IGNORE INTO lines SELECT ?, id, ? FROM snapshots WHERE key = ?"


class RowBuffer:
    """The ``items`` and ``lines`` rows of one connection's open transaction."""

    def __init__(self) -> None:
        self._items: dict[int, str] = {}  # snapshot id -> its item days, a JSON array
        self._lines: list[tuple[bytes, bytes, str]] = []  # (digest, content hash, key)
        self._batch_items: dict[int, str] = {}
        self._batch_lines: list[tuple[bytes, bytes, str]] = []

    def add_items(self, rows: list[tuple[int, str]]) -> None:
        """Hold the item days of snapshots: a later entry for an id (its snapshot
        replaced) replaces the earlier one."""
        self._batch_items.update(rows)

    def add_lines(self, rows: list[tuple[bytes, bytes, str]]) -> None:
        self._batch_lines.extend(rows)

    def release(self) -> None:
        """The batch succeeded: its rows are the group's."""
        self._items.update(self._batch_items)
        self._lines.extend(self._batch_lines)
        self.rollback()

    def rollback(self) -> None:
        """The batch was undone: so are its rows."""
        self._batch_items = {}
        self._batch_lines = []

    def clear(self) -> None:
        """The transaction was undone."""
        self.rollback()
        self._items = {}
        self._lines = []

    def flush(self, db: sqlite3.Connection) -> None:
        """Insert the released rows, in key order (just before the commit)."""
        if self._items:
            held = ",".join(f'"{sid}":{days}' for sid, days in self._items.items())
            db.execute(_INSERT_ITEMS, ("{" + held + "}",))
            self._items = {}
        if self._lines:
            self._lines.sort()
            db.executemany(_INSERT_LINES, self._lines)
            self._lines = []
