"""What dump, restore, copy and re-key need of the SQLite store (:class:`SQLiteArchive`)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from ..._archive import Current, Merge, StoreMeta, Version
from ..._rules import StoredKey
from ..._times import from_ms, to_ms
from ..values import Tombstone
from . import similar
from .buffer import RowBuffer
from .lines import LineTable, stream, taken_down
from .meta import read_meta, write_meta
from .rows import dumps, hex_list, host_column
from .schema import insert_items
from .sql import select_in
from .stats import count_added

__all__ = ["SQLiteArchive"]

# A key's stored fields, as _state reads them.
_STATE = (
    "content_hash, urls, hashes, first_seen, last_seen, seen_count, snapshot_at, records,"
    " version_first_seen, version_last_seen"
)
_CURRENT = f"SELECT key, url, {_STATE}, content FROM snapshots"


def _time(ms: int | None) -> datetime | None:
    return None if ms is None else from_ms(ms)


def _ms(at: datetime | None) -> int | None:
    return None if at is None else to_ms(at)


def _state(row: tuple[Any, ...]) -> StoredKey:
    chash, urls, hashes, first, last, seen, snap_at, records, v_first, v_last = row
    return StoredKey(
        chash,
        _time(snap_at),
        tuple(json.loads(urls)),
        tuple(json.loads(hashes)),
        from_ms(first),
        from_ms(last),
        seen,
        tuple(json.loads(records)),
        (_time(v_first), _time(v_last)),
    )


class SQLiteArchive:
    """The :class:`~newsstore._archive.ArchiveBackend` of one SQLite connection.

    Writes run inside the store's write transaction, which the caller holds.
    """

    def __init__(
        self,
        db: sqlite3.Connection,
        lines: LineTable,
        buffer: RowBuffer,
        errors: Callable[[], AbstractContextManager[None]],
    ) -> None:
        self._db = db
        self._lines = lines
        self._buffer = buffer
        self._errors = errors

    def read_meta(self) -> StoreMeta | None:
        with self._errors():
            return read_meta(self._db)

    def write_meta(self, meta: StoreMeta) -> None:
        with self._errors():
            write_meta(self._db, meta)

    def counts(self) -> tuple[int, int, int]:
        with self._errors():
            return tuple(  # type: ignore[return-value]
                int(self._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
                for table in ("snapshots", "history", "tombstones")
            )

    def _stream(self, sql: str, params: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
        # (Re-key pages by key instead, so it never reads a table it is changing through
        # one cursor.)
        return stream(self._db, sql, params, self._errors)

    def currents(self, after: str | None = None, limit: int | None = None) -> Iterator[Current]:
        sql = _CURRENT
        params: tuple[str, ...] = ()
        if after is not None:
            sql, params = sql + " WHERE key > ?", (after,)
        sql += " ORDER BY key"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        for key, url, *state, content in self._stream(sql, params):
            yield Current(key, url, _state(tuple(state)), content)

    def versions(self, keys: list[str] | None = None) -> Iterator[Version]:
        sql = (
            "SELECT key, url, content_hash, archived_at, content, first_seen, last_seen"
            " FROM history"
        )
        if keys is None:
            rows: Any = self._stream(sql + " ORDER BY key, content_hash")
        else:
            with self._errors():
                found = select_in(self._db, sql + " WHERE key IN ({marks})", keys)
                rows = sorted(found, key=lambda row: (row[0], row[2]))
        for key, url, chash, archived, content, first, last in rows:
            yield Version(key, url, chash, from_ms(archived), content, _time(first), _time(last))

    def takedowns(self) -> Iterator[Tombstone]:
        for key, url, reason, deleted in self._stream(
            "SELECT key, url, reason, deleted_at FROM tombstones ORDER BY key"
        ):
            yield Tombstone(key, url, reason, from_ms(deleted))

    def load(self, keys: list[str]) -> tuple[dict[str, tuple[StoredKey, int]], set[str]]:
        with self._errors():
            rows = select_in(
                self._db,
                f"SELECT key, rev, {_STATE} FROM snapshots WHERE key IN ({{marks}})",
                keys,
            )
            states = {key: (_state(tuple(rest)), rev) for key, rev, *rest in rows}
            tombstoned = taken_down(self._db, keys)
        return states, tombstoned

    def apply(self, merges: list[Merge], now: datetime) -> set[str]:
        with self._errors():
            self._apply(merges, to_ms(now))
        return set()  # under the write lock there are no lost races

    def _apply(self, merges: list[Merge], now_ms: int | None) -> None:
        db = self._db
        archive = [(now_ms, m.key) for m in merges if m.archive_current]
        if archive:
            # With its content's seen times, as an import archives a current.
            db.executemany(
                "INSERT OR IGNORE INTO history (key, content_hash, url, snapshot_at,"
                " archived_at, content, first_seen, last_seen) SELECT key, content_hash, url,"
                " snapshot_at, ?, content, version_first_seen, version_last_seen"
                " FROM snapshots WHERE key = ?",
                archive,
            )
        history = [
            (
                m.key,
                r.content_hash,
                r.url,
                to_ms(r.snapshot_at),
                to_ms(at),
                r.content,
                *map(_ms, m.seen.get(r.content_hash, (None, None))),
            )
            for m in merges
            for r, at in m.history
        ]
        if history:
            db.executemany(
                "INSERT OR IGNORE INTO history (key, content_hash, url, snapshot_at,"
                " archived_at, content, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                history,
            )
        written = [m for m in merges if m.current is not None and m.state is not None]
        rows = []
        for m in written:
            assert m.current is not None
            assert m.state is not None
            title, category, source, published, snapshot_at = m.current.payload[:5]
            rows.append(
                (
                    m.key,
                    m.current.url,
                    dumps(list(m.state.urls)),
                    host_column(m.key),
                    title,
                    category,
                    source,
                    published,
                    snapshot_at,
                    m.current.content_hash,
                    json.dumps(list(m.state.hashes)),
                    to_ms(m.state.first_seen),
                    to_ms(m.state.last_seen),
                    m.state.seen_count,
                    m.current.content,
                    hex_list(list(m.state.records)),
                    *map(_ms, m.state.version_seen),
                )
            )
        if rows:
            # Those not stored yet are counted (.stats); the others' changes, by a trigger.
            stored = {
                key
                for (key,) in select_in(
                    db, "SELECT key FROM snapshots WHERE key IN ({marks})", [m.key for m in written]
                )
            }
            count_added(
                db,
                [m.current.payload for m in written if m.current and m.key not in stored],
            )
            db.executemany(
                "INSERT INTO snapshots (key, url, urls, host, title, category, source,"
                " published_at, snapshot_at, content_hash, hashes, first_seen, last_seen,"
                " seen_count, rev, content, records, version_first_seen, version_last_seen)"
                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 1, ?15,"
                " ?16, ?17, ?18) ON CONFLICT (key) DO UPDATE SET url = ?2,"
                " urls = ?3, title = ?5, category = ?6, source = ?7, published_at = ?8,"
                " snapshot_at = ?9, content_hash = ?10, hashes = ?11, first_seen = ?12,"
                " last_seen = ?13, seen_count = ?14, rev = rev + 1, content = ?15,"
                " records = ?16, version_first_seen = ?17, version_last_seen = ?18",
                rows,
            )
        fields = [
            (
                dumps(list(m.state.urls)),
                json.dumps(list(m.state.hashes)),
                to_ms(m.state.first_seen),
                to_ms(m.state.last_seen),
                m.state.seen_count,
                hex_list(list(m.state.records)),
                *map(_ms, m.state.version_seen),
                m.key,
            )
            for m in merges
            if m.current is None and m.state is not None
        ]
        if fields:
            db.executemany(
                "UPDATE snapshots SET urls = ?, hashes = ?, first_seen = ?, last_seen = ?,"
                " seen_count = ?, records = ?, version_first_seen = ?, version_last_seen = ?"
                " WHERE key = ?",
                fields,
            )
        unarchived = [(m.key, m.unarchive) for m in merges if m.unarchive is not None]
        if unarchived:
            db.executemany("DELETE FROM history WHERE key = ? AND content_hash = ?", unarchived)
        if written:
            ids = dict(
                select_in(
                    db,
                    "SELECT key, id FROM snapshots WHERE key IN ({marks})",
                    [m.key for m in written],
                )
            )
            current = [(ids[m.key], m.current.payload) for m in written if m.current is not None]
            insert_items(db, [(i, load[5]) for i, load in current])
            replaced = [ids[m.key] for m in written if m.current is not None]
            similar.index(
                db, [(i, load[6], load[7]) for i, load in current], replaced, self._buffer
            )

    def remove(self, keys: list[str]) -> None:
        with self._errors():
            for key in keys:
                self._lines.forget(key)
                ids = self._db.execute("SELECT id FROM snapshots WHERE key = ?", (key,))
                similar.forget(self._db, [i for (i,) in ids.fetchall()], self._buffer, items=True)
                # Its items rows go with the row (schema.ITEM_DAYS).
                self._db.execute("DELETE FROM snapshots WHERE key = ?", (key,))
                self._db.execute("DELETE FROM history WHERE key = ?", (key,))
