"""Index rows held back until the commit, then inserted in key order.

``items`` is keyed by (day, snapshot id), ``bands`` by (band, snapshot id) with 21 band
keys a snapshot spread over the whole key space, and ``lines`` by a random digest: inserted as
records arrive, each row lands on a B-tree page at a random place, and a large store's
commit writes nearly every such page. Held until the commit and inserted sorted, rows on
the same page go in together and each page is written once per commit.

Held rows follow the transaction: a batch's rows are its own until the batch is released
(then the group's) or rolled back (then dropped), so a batch that fails leaves nothing
behind, as its SQL writes leave nothing. A snapshot whose rows go (its fingerprint replaced,
the snapshot taken down) has its held rows dropped too (:meth:`RowBuffer.drop`), in step
with the transaction as well. Nothing reads ``items``, ``bands`` or ``lines`` between a
write and its commit except the line memory's recall, for which a line seen earlier in
the same transaction is simply not recalled (it is validated again and found unchanged).
"""

from __future__ import annotations

import sqlite3

from .story_times import INSERT_HELD

__all__ = ["RowBuffer"]

# Every item day of every held snapshot, sorted by SQLite itself: {"id": [day, …], …}.
_INSERT_ITEMS = (
    "INSERT OR IGNORE INTO items SELECT d.value, CAST(s.key AS INTEGER)"
    " FROM json_each(?1) s, json_each(s.value) d ORDER BY 1, 2"
)
_INSERT_BANDS = (
    "INSERT OR IGNORE INTO bands SELECT b.value, CAST(s.key AS INTEGER)"
    " FROM json_each(?1) s, json_each(s.value) b ORDER BY 1, 2"
)
_INSERT_LINES = "INSERT OR IGNORE INTO lines SELECT ?, id, ? FROM snapshots WHERE key = ?"


class RowBuffer:
    """The ``items``, ``bands`` and ``lines`` rows of one connection's open transaction."""

    def __init__(self) -> None:
        # snapshot id -> its item days / band keys, a JSON array
        self._items: dict[int, str] = {}
        self._bands: dict[int, str] = {}
        self._lines: list[tuple[bytes, bytes, str]] = []  # (digest, content hash, key)
        self.rollback()

    def add_items(self, rows: list[tuple[int, str]]) -> None:
        """Hold the item days of snapshots: a later entry for an id (its snapshot
        replaced) replaces the earlier one."""
        self._batch_items.update(rows)

    def add_bands(self, rows: list[tuple[int, str]]) -> None:
        """Hold the band keys of snapshots' new fingerprints."""
        self._batch_bands.update(rows)

    def add_lines(self, rows: list[tuple[bytes, bytes, str]]) -> None:
        self._batch_lines.extend(rows)

    def drop(self, ids: list[int], *, items: bool) -> None:
        """Drop the held band keys (and with ``items`` the item days) of these snapshots:
        their rows are going. Undone with the batch, like the rest."""
        for i in ids:
            self._batch_bands.pop(i, None)
            self._dropped_bands.add(i)
            if items:
                self._batch_items.pop(i, None)
                self._dropped_items.add(i)

    def release(self) -> None:
        """The batch succeeded: its rows are the group's."""
        for i in self._dropped_bands:
            self._bands.pop(i, None)
        for i in self._dropped_items:
            self._items.pop(i, None)
        self._items.update(self._batch_items)
        self._bands.update(self._batch_bands)
        self._lines.extend(self._batch_lines)
        self.rollback()

    def rollback(self) -> None:
        """The batch was undone: so are its rows."""
        self._batch_items: dict[int, str] = {}
        self._batch_bands: dict[int, str] = {}
        self._batch_lines: list[tuple[bytes, bytes, str]] = []
        self._dropped_items: set[int] = set()
        self._dropped_bands: set[int] = set()

    def clear(self) -> None:
        """The transaction was undone."""
        self.rollback()
        self._items = {}
        self._bands = {}
        self._lines = []

    def flush(self, db: sqlite3.Connection) -> None:
        """Insert the released rows, in key order (just before the commit)."""
        for held, statements in (
            (self._items, (_INSERT_ITEMS,)),
            (self._bands, (_INSERT_BANDS, INSERT_HELD)),  # and the fingerprints' story_times
        ):
            if held:
                arg = "{" + ",".join(f'"{i}":{v}' for i, v in held.items()) + "}"
                for sql in statements:
                    db.execute(sql, (arg,))
        self._items = {}
        self._bands = {}
        if self._lines:
            self._lines.sort()
            db.executemany(_INSERT_LINES, self._lines)
            self._lines = []
