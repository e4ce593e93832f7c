"""The SQLite store's line memory: the ``lines`` table (see :mod:`newsstore._linememory`).

A row maps a line's digest to the snapshot row its key has and the content hash the line
gave. Rows are keyed by snapshot id, an index that grows at its end as snapshots are
added; a takedown forgets the lines of its key before the snapshot row goes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from .buffer import RowBuffer
from .schema import SCHEMA_VERSION
from .sql import select_in

__all__ = ["LineTable", "stream", "taken_down"]


def stream(
    db: sqlite3.Connection,
    sql: str,
    params: Any,
    errors: Callable[[], AbstractContextManager[None]],
) -> Iterator[tuple[Any, ...]]:
    """The rows of ``sql`` from a cursor of their own, read 500 at a time, each step under
    the store's error translation (the connection may write meanwhile)."""
    with errors():
        cursor = db.execute(sql, params)
    while True:
        with errors():
            rows = cursor.fetchmany(500)
        if not rows:
            return
        yield from rows


def taken_down(db: sqlite3.Connection, keys: list[str]) -> set[str]:
    """Which of ``keys`` have a takedown."""
    sql = "SELECT key FROM tombstones WHERE key IN ({marks})"
    return {row[0] for row in select_in(db, sql, keys)}


class LineTable:
    """The :class:`~newsstore._linememory.LineBackend` of one SQLite connection."""

    line_layout = f"sqlite {SCHEMA_VERSION}"

    def __init__(self, db: sqlite3.Connection, buffer: RowBuffer) -> None:
        self._db = db
        self._buffer = buffer

    def recall_lines(self, digests: list[bytes]) -> dict[bytes, tuple[str, str]]:
        rows = select_in(
            self._db,
            "SELECT l.digest, s.key, l.content_hash FROM lines l"
            " JOIN snapshots s ON s.id = l.snapshot_id WHERE l.digest IN ({marks})",
            digests,
        )
        return {digest: (key, chash.hex()) for digest, key, chash in rows}

    def remember_lines(self, lines: list[tuple[bytes, str, str]]) -> None:
        # Inserted at the commit, in digest order (see .buffer). The row id comes from the
        # key's UNIQUE index inside the insert; a key that is not stored (taken down)
        # selects no row, so its line is not remembered.
        self._buffer.add_lines(
            [(digest, bytes.fromhex(chash), key) for digest, key, chash in lines]
        )

    def forget(self, key: str) -> None:
        """Forget the lines of ``key`` (before its snapshot row is deleted)."""
        self._db.execute(
            "DELETE FROM lines WHERE snapshot_id IN (SELECT id FROM snapshots WHERE key = ?)",
            (key,),
        )
