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

The commit also pairs the transaction's new fingerprints, once their band rows are in, and
those whose partner's fingerprint went (see .copies): so a transaction's pairs are made
with the bands it leaves, in one statement.
"""

from __future__ import annotations

import json
import sqlite3

from .copies import pair
from .story_times import INSERT_HELD

__all__ = ["RowBuffer", "python_sorted_pairs", "sorted_pairs"]

# The (value, snapshot id) rows of one table, sorted here and inserted in that order, a text
# of PAIRS_A_TEXT at a time: SQLite then needs no sorter (with ORDER BY, a 20,000-record
# commit's sorter and its one JSON parse of every row took ~40 MB), and holds one text's
# parse at a time.
PAIRS_A_TEXT = 50_000
# json_extract, not ->> (SQLite 3.38): the same speed (0.58 against 0.60 µs a row).
_PAIRS = "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?1)"
_INSERT_ITEMS = f"INSERT OR IGNORE INTO items {_PAIRS}"
_INSERT_BANDS = f"INSERT OR IGNORE INTO bands {_PAIRS}"


def python_sorted_pairs(held: dict[int, str], limit: int) -> list[str]:
    """The distinct ``(value, id)`` pairs of ``{id: JSON array of integers}``, sorted, as
    JSON texts ``[[value,id],…]`` of at most ``limit`` pairs: the reference of the compiled
    ``sorted_pairs`` (``newsstore/_heldrows.c``), and its stand-in without a C compiler."""
    rows = sorted({(value, i) for i, text in held.items() for value in json.loads(text)})
    return [
        json.dumps(rows[start : start + limit], separators=(",", ":"))
        for start in range(0, len(rows), limit)
    ]


try:  # compiled where setup.py found a C compiler
    from ..._heldrows import sorted_pairs
except ImportError:  # pragma: no cover - an install without the extension
    sorted_pairs = python_sorted_pairs

_INSERT_LINES = "INSERT OR IGNORE INTO lines SELECT ?, id, ? FROM snapshots WHERE key = ?"


class RowBuffer:
    """The ``items``, ``bands`` and ``lines`` rows of one connection's open transaction,
    and the fingerprints to pair (.copies) at its commit."""

    def __init__(self) -> None:
        # snapshot id -> its item days, a JSON array / its signature and band keys
        self._items: dict[int, str] = {}
        self._bands: dict[int, tuple[bytes, str]] = {}
        # snapshot id -> signature of stored fingerprints to pair again (their partner went)
        self._repair: dict[int, bytes] = {}
        self._lines: list[tuple[bytes, bytes, str]] = []  # (digest, content hash, key)
        self.rollback()

    def add_items(self, rows: list[tuple[int, str]]) -> None:
        """Hold the item days of snapshots: a later entry for an id (its snapshot
        replaced) replaces the earlier one."""
        self._batch_items.update(rows)

    def add_bands(self, rows: list[tuple[int, bytes, str]]) -> None:
        """Hold snapshots' new fingerprints: (id, signature, band keys)."""
        self._batch_bands.update((i, (sig, keys)) for i, sig, keys in rows)

    def add_lines(self, rows: list[tuple[bytes, bytes, str]]) -> None:
        self._batch_lines.extend(rows)

    def add_repairs(self, rows: list[tuple[int, bytes]]) -> None:
        """Pair these stored fingerprints again at the commit (id, signature)."""
        self._batch_repair.update(rows)

    def drop(self, ids: list[int], *, items: bool) -> None:
        """Drop the held band keys (and with ``items`` the item days) of these snapshots,
        and their pairing again: their rows are going. Undone with the batch, like the
        rest."""
        for i in ids:
            self._batch_bands.pop(i, None)
            self._batch_repair.pop(i, None)  # nor is it paired again
            self._dropped_bands.add(i)
            if items:
                self._batch_items.pop(i, None)
                self._dropped_items.add(i)

    def release(self) -> None:
        """The batch succeeded: its rows are the group's."""
        for i in self._dropped_bands:
            self._bands.pop(i, None)
            self._repair.pop(i, None)
        for i in self._dropped_items:
            self._items.pop(i, None)
        self._items.update(self._batch_items)
        self._bands.update(self._batch_bands)
        self._lines.extend(self._batch_lines)
        self._repair.update(self._batch_repair)
        self.rollback()

    def rollback(self) -> None:
        """The batch was undone: so are its rows."""
        self._batch_items: dict[int, str] = {}
        self._batch_bands: dict[int, tuple[bytes, str]] = {}
        self._batch_lines: list[tuple[bytes, bytes, str]] = []
        self._batch_repair: dict[int, bytes] = {}
        self._dropped_items: set[int] = set()
        self._dropped_bands: set[int] = set()

    def clear(self) -> None:
        """The transaction was undone."""
        self.rollback()
        self._items = {}
        self._bands = {}
        self._lines = []
        self._repair = {}

    def flush(self, db: sqlite3.Connection) -> None:
        """Insert the released rows, in key order, and pair the new fingerprints (just
        before the commit)."""
        for text in sorted_pairs(self._items, PAIRS_A_TEXT):
            db.execute(_INSERT_ITEMS, (text,))
        if self._bands:
            band_keys = {i: keys for i, (_, keys) in self._bands.items()}
            for text in sorted_pairs(band_keys, PAIRS_A_TEXT):
                db.execute(_INSERT_BANDS, (text,))
            db.execute(INSERT_HELD, (str(list(band_keys)),))  # the fingerprints' story_times
        # With their band rows in (see .copies).
        pair(db, {**self._repair, **{i: sig for i, (sig, _) in self._bands.items()}})
        self._items = {}
        self._bands = {}
        self._repair = {}
        if self._lines:
            self._lines.sort()
            db.executemany(_INSERT_LINES, self._lines)
            self._lines = []
