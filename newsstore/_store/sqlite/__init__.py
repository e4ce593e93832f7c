"""The embedded store: one SQLite file, no server (the only package that imports sqlite3).

The tables and their upgrades are in :mod:`.schema`, the byte-level NDJSON export in
:mod:`.ndjson`, the line memory's table in :mod:`.lines`, row encoding in :mod:`.rows`;
this module is the adapter, :class:`SQLiteStore`.

Writers run each batch under the write lock (``BEGIN IMMEDIATE``; an import's batches
share a transaction for up to 20 batches or 10 s, see ``_write_group``): the load, the
decision and the write happen under the lock, so concurrent processes serialise and never
lose an update; readers are never blocked (WAL mode).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, tzinfo
from typing import IO, Any

from ..._errors import StoreError, StoreUnavailableError
from ..._export import Tick, counted
from ..._files import FileSet
from ..._linememory import LineBackend
from ..._query import Query
from ..._rules import KeyPlan, KeyState
from ..._schemas import Snapshot
from ..._similar import Fingerprinted
from ..._times import DEFAULT_TIMEZONE, from_ms, to_ms
from ..._types import ExportFormat
from ..._versions import SeenTimes, VersionEntry
from ..base import Store
from ..values import Diagnosis, Grouped, Tombstone
from . import copies, similar, stats, story_times
from .archive import SQLiteArchive
from .buffer import RowBuffer
from .doctor import diagnose
from .lines import LineTable, stream, taken_down
from .ndjson import NDJSONLines, write_lines
from .rows import (
    SELECT,
    archived_of,
    payload,
    payload_of_doc,
    select_sql,
    snapshot_of,
    where,
)
from .schema import connect, create_schema, day_range
from .sql import select_in
from .versions import version_entries, version_times
from .writes import write_plans

__all__ = ["SQLiteStore"]

# A group ends after this many batches (20,000 records by default), which bounds what its
# commit holds back (.buffer), or after _GROUP_SECONDS, which bounds how long another
# writer waits for the lock and how stale a reader's view gets. A commit rewrites most
# index pages of a large store whatever the batch (their rows land at random places), so
# the records a group holds, not its seconds, decide what each record costs: with 1 s
# groups, which hold fewer records as the store grows, the 4th 100k of a 400k import took
# 2.0x the 1st and wrote 146 KB a record; with groups of 20 batches, 65 KB (bench/README.md).
_GROUP_BATCHES = 20
_GROUP_SECONDS = 10.0
_ID_OF = "SELECT id FROM snapshots WHERE key = ?"


class SQLiteStore(Store):
    """Snapshots in one SQLite file (created if missing); ``":memory:"`` for a throwaway store.

    ``create=False`` refuses a file that does not exist or holds no store yet
    (:class:`~newsstore.StoreUnavailableError`) and creates nothing. A SQLite database
    newsstore did not write is refused untouched, whatever ``create`` says. A store whose
    keys were made with another tracking list is refused unless ``rekey`` (see
    :meth:`~newsstore.Store.rekey`).
    """

    _payloads = (payload, payload_of_doc)

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timezone: str | tzinfo = DEFAULT_TIMEZONE,
        timeout: float = 60.0,
        tracking_params: Collection[str] | None = None,
        create: bool = True,
        rekey: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ):
        # timeout: seconds to wait for another writer's lock before "database is locked".
        # progress(done, total): the snapshots an upgrade of an older store goes through.
        super().__init__(timezone=timezone, tracking_params=tracking_params)
        self.path = str(path)
        # When the open transaction of a write group began (see _write_group), if one is.
        self._group_started: float | None = None
        self._group_batches = 0  # the batches in it
        # Items and lines rows, held until the commit (see .buffer).
        self._buffer = RowBuffer()
        try:
            self._db, fresh = connect(self.path, timeout, create=create)
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailableError(f"cannot open SQLite store {self.path}: {exc}") from exc
        if fresh:
            try:
                with self._write_transaction():
                    create_schema(self._db, self.path, progress)
            except BaseException:
                self._db.close()
                raise
        self._lines = LineTable(self._db, self._buffer)
        self._archive = SQLiteArchive(self._db, self._lines, self._buffer, self._errors)
        try:
            self._open_meta(create=create, rekey=rekey)
        except BaseException:
            self._db.close()
            raise

    def _archive_backend(self) -> SQLiteArchive:
        return self._archive

    def __str__(self) -> str:
        return f"the SQLite store {self.path}"

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn sqlite3 errors into newsstore's, keeping the driver's error as the cause."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if "locked" in text or "readonly" in text or "unable to open" in text:
                raise StoreUnavailableError(f"SQLite store {self.path}: {text}") from exc
            raise StoreError(f"SQLite store {self.path}: {text}") from exc
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite store {self.path}: {exc}") from exc

    # -- writing -----------------------------------------------------------------------
    @contextmanager
    def _write_transaction(self) -> Iterator[None]:
        with self._errors():
            grouped = self._group_started is not None
            if not (grouped and self._db.in_transaction):
                self._db.execute("BEGIN IMMEDIATE")
                if grouped:
                    self._group_started = time.monotonic()
                    self._group_batches = 0
            if grouped:
                # A batch that fails is undone alone; the group keeps the batches before it.
                self._db.execute("SAVEPOINT batch")
            try:
                yield
            except BaseException:
                # SQLite may have rolled back already (disk full, I/O error): a second
                # ROLLBACK would fail and hide the real error.
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK TO batch" if grouped else "ROLLBACK")
                    self._buffer.rollback()
                else:
                    self._buffer.clear()
                raise
            self._buffer.release()
            if not grouped:
                self._commit()
                return
            self._db.execute("RELEASE batch")
            self._group_batches += 1
            if (
                self._group_batches >= _GROUP_BATCHES
                or time.monotonic() - (self._group_started or 0.0) >= _GROUP_SECONDS
            ):
                self._commit()

    def _commit(self) -> None:
        try:
            self._buffer.flush(self._db)
            self._db.execute("COMMIT")
        except BaseException:
            self._buffer.clear()
            if self._db.in_transaction:  # a failed COMMIT leaves the transaction open
                self._db.execute("ROLLBACK")
            raise

    @contextmanager
    def _write_group(self) -> Iterator[None]:
        """Let the write batches inside share transactions, each held for up to 20 batches or
        10 s.

        A commit writes every page the transaction changed; index pages (URLs, times) are
        changed at random places, so a large store's commit rewrites most of its index
        pages whatever the batch. Fewer, larger commits write them less often. The lock is
        still released every 10 s at most for other writers. A batch that fails is rolled
        back alone and the batches before it are committed, as when each batch committed.
        """
        if self._group_started is not None:
            yield  # already inside a group
            return
        self._group_started = 0.0
        try:
            yield
        except BaseException:
            # The error that stopped the group is the one to report.
            with suppress(StoreError):
                self._end_group()
            raise
        else:
            self._end_group()
        finally:
            self._group_started = None

    def _end_group(self) -> None:
        if self._db.in_transaction:
            with self._errors():
                self._commit()

    def _load_states(self, keys: list[str]) -> tuple[dict[str, KeyState], set[str]]:
        states: dict[str, KeyState] = {}
        rows = select_in(
            self._db,
            "SELECT key, content_hash, snapshot_at, hashes, rev, urls, url, records"
            " FROM snapshots WHERE key IN ({marks})",
            keys,
        )
        for key, chash, snap_at, hashes, rev, urls, url, records in rows:
            hash_list = json.loads(hashes)
            record_list = json.loads(records)
            # The stored URL, hash and record lists ride with the state to _write_plans, in
            # the same transaction: it neither reads them again nor rewrites them when
            # nothing is new.
            states[key] = KeyState(
                key,
                chash,
                None if snap_at is None else from_ms(snap_at),
                frozenset(hash_list),
                rev,
                stored=(urls, hash_list, record_list),
                url=url,
                records=frozenset(record_list),
            )
        tombstoned = taken_down(self._db, keys)
        return states, tombstoned

    def _write_plans(self, plans: list[KeyPlan], now: datetime) -> set[str]:
        write_plans(self._db, self._buffer, plans, now)
        return set()  # under the write lock there are no lost races

    def files(self) -> tuple[str, ...]:
        if self.path == ":memory:":
            return ()
        return tuple(self.path + suffix for suffix in ("", "-wal", "-shm", "-journal"))

    def is_same_store(self, other: Store) -> bool:
        return isinstance(other, SQLiteStore) and FileSet(self.files()[:1]).holds(other.path)

    def _line_backend(self) -> LineBackend:
        return self._lines

    # -- reading -----------------------------------------------------------------------
    def _snapshot(self, row: tuple[Any, ...]) -> Snapshot:
        return snapshot_of(row, self.zone)

    def _get(self, key: str) -> Snapshot | None:
        with self._errors():
            row = self._db.execute(f"{SELECT} WHERE key = ?", (key,)).fetchone()
        return None if row is None else self._snapshot(row)

    def _history(self, key: str) -> list[Snapshot]:
        with self._errors():
            rows = self._db.execute(
                "SELECT key, url, content_hash, archived_at, content FROM history"
                " WHERE key = ? ORDER BY snapshot_at DESC, content_hash DESC",
                (key,),
            ).fetchall()
        return [archived_of(row, self.zone) for row in rows]

    def _version_times(self, key: str) -> dict[str, SeenTimes]:
        with self._errors():
            return version_times(self._db, key)

    def _version_entries(self, start: datetime | None, end: datetime | None) -> list[VersionEntry]:
        with self._errors():
            return version_entries(self._db, start, end)

    def _url_filter(self, query: Query) -> tuple[str, str, str | None] | None:
        return None if query.url is None else self._url_range(query)

    def _find(self, query: Query) -> Iterator[Snapshot]:
        for row in self._rows(query):
            yield self._snapshot(row)

    def _rows(self, query: Query) -> Iterator[tuple[Any, ...]]:
        """The :data:`~.rows.SELECT` rows matching ``query``, in its order, streamed."""
        sql, params = select_sql(query, self._url_filter(query))
        return stream(self._db, sql, params, self._errors)

    def _export_lines(self, fp: IO[str], query: Query, format: ExportFormat, progress: Tick) -> int:
        # A stored row is already the JSON of its snapshot (times in UTC, no URL or
        # ``stored``): NDJSONLines writes from it the very bytes model_dump_json would,
        # without validating every record back into a model.
        lines = NDJSONLines(self.zone, self._snapshot)
        return write_lines(fp, counted(self._rows(query), progress), lines, format)

    def _count(self, query: Query) -> int:
        clause, params = where(query, self._url_filter(query))
        with self._errors():
            return int(
                self._db.execute(f"SELECT count(*) FROM snapshots{clause}", params).fetchone()[0]
            )

    def _listing_items(self, start: datetime, end: datetime) -> Iterator[Snapshot]:
        with self._errors():
            rows = self._db.execute(
                "SELECT DISTINCT snapshot_id FROM items WHERE day BETWEEN ? AND ?",
                day_range(start, end),
            ).fetchall()
        for (snapshot_id,) in rows:
            row = self._db.execute(f"{SELECT} WHERE id = ?", (snapshot_id,)).fetchone()
            if row is not None:
                yield self._snapshot(row)

    def _key_by_title(self, title: str, published_at: datetime) -> str | None:
        row = self._db.execute(
            "SELECT key FROM snapshots WHERE published_at = ? AND title = ? LIMIT 1",
            (to_ms(published_at), title),
        ).fetchone()
        return None if row is None else str(row[0])

    # -- takedowns ---------------------------------------------------------------------
    def _delete(self, key: str, url: str | None, reason: str, now: datetime) -> Tombstone:
        with self._write_transaction():
            held = self._db.execute(
                "SELECT (SELECT count(*) FROM snapshots WHERE key = ?1)"
                " + (SELECT count(*) FROM history WHERE key = ?1)",
                (key,),
            ).fetchone()[0]
            self._db.execute(
                "INSERT OR IGNORE INTO tombstones VALUES (?, ?, ?, ?)",  # the first stands
                (key, url, reason, to_ms(now)),
            )
            # Before the row whose id they name goes.
            self._lines.forget(key)
            ids = [i for (i,) in self._db.execute(_ID_OF, (key,))]
            similar.forget(self._db, ids, self._buffer, items=True)
            # Its items rows go with the row (schema.ITEM_DAYS).
            self._db.execute("DELETE FROM snapshots WHERE key = ?", (key,))
            self._db.execute("DELETE FROM history WHERE key = ?", (key,))
        return Tombstone(key, url, reason, now.astimezone(self.zone), removed=held > 0)

    def _restore(self, key: str) -> bool:
        with self._write_transaction():
            cursor = self._db.execute("DELETE FROM tombstones WHERE key = ?", (key,))
        return cursor.rowcount > 0

    def diagnose(self) -> Diagnosis:
        with self._errors():
            return diagnose(self._db, self.path)

    # -- near-duplicates (see .similar) ------------------------------------------------
    def _signature_of(self, key: str, asked: str) -> bytes | None:
        with self._errors():
            return similar.signature_of(self._db, key, asked)

    def _sharing_band(self, band_keys: list[int]) -> list[Fingerprinted]:
        with self._errors():
            return similar.sharing_band(self._db, band_keys, self.zone)

    def _near_duplicates(self, max_distance: int) -> int:
        with self._errors():
            return copies.near_duplicates(self._db, max_distance)

    def _fingerprinted(self, start: datetime, end: datetime) -> list[Fingerprinted]:
        with self._errors():
            return story_times.fingerprinted(self._db, start, end, self.zone)

    def _tombstone(self, key: str) -> Tombstone | None:
        with self._errors():
            row = self._db.execute(
                "SELECT key, url, reason, deleted_at FROM tombstones WHERE key = ?", (key,)
            ).fetchone()
        if row is None:
            return None
        key, url, reason, deleted = row
        return Tombstone(key, url, reason, from_ms(deleted).astimezone(self.zone))

    def tombstones(self) -> list[Tombstone]:
        with self._errors():
            rows = self._db.execute(
                "SELECT key, url, reason, deleted_at FROM tombstones ORDER BY deleted_at DESC"
            ).fetchall()
        return [Tombstone(k, u, r, from_ms(d).astimezone(self.zone)) for k, u, r, d in rows]

    # -- stats -------------------------------------------------------------------------
    def _grouped(self) -> Grouped:
        with self._errors():
            return stats.grouped(self._db)

    def _history_count(self) -> int:
        with self._errors():
            return stats.history_count(self._db)

    def _keys_with_versions(self) -> int:
        with self._errors():
            return stats.keys_with_versions(self._db)
