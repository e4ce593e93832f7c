"""The embedded store: one SQLite file, no server (the only package that imports sqlite3).

The tables and their upgrades are in :mod:`.schema`, the byte-level NDJSON export in
:mod:`.ndjson`, the line memory's table in :mod:`.lines`, row encoding in :mod:`.rows`;
this module is the adapter, :class:`SQLiteStore`.

Writers run each batch under the write lock (``BEGIN IMMEDIATE``; an import's batches
share a transaction for up to a second, see ``_write_group``): the load, the decision and
the write happen under the lock, so concurrent processes serialise and never lose an
update; readers are never blocked (WAL mode).
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
from ..._fastprepare import preparer
from ..._linememory import LineBackend
from ..._query import Query
from ..._rules import Incoming, KeyPlan, KeyState
from ..._schemas import Snapshot
from ..._times import DEFAULT_TIMEZONE, from_ms, to_ms
from ..base import Store
from ..values import QUARTER_MS, Diagnosis, Grouped, Tombstone
from .buffer import RowBuffer
from .doctor import diagnose
from .lines import LineTable, select_in
from .ndjson import NDJSONLines, write_lines
from .rows import (
    SELECT,
    archived_of,
    columns,
    dumps,
    host_column,
    payload,
    payload_of_doc,
    select_sql,
    snapshot_of,
    where,
)
from .schema import connect, create_schema, day_range

__all__ = ["SQLiteStore"]

_GROUP_SECONDS = 1.0


class SQLiteStore(Store):
    """Snapshots in one SQLite file (created if missing); ``":memory:"`` for a throwaway store.

    ``create=False`` refuses a file that does not exist or holds no store yet
    (:class:`~newsstore.StoreUnavailableError`) and creates nothing. A SQLite database
    newsstore did not write is refused untouched, whatever ``create`` says.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timezone: str | tzinfo = DEFAULT_TIMEZONE,
        timeout: float = 60.0,
        tracking_params: Collection[str] | None = None,
        create: bool = True,
    ):
        # timeout: seconds to wait for another writer's lock before "database is locked".
        super().__init__(timezone=timezone, tracking_params=tracking_params)
        self.path = str(path)
        # When the open transaction of a write group began (see _write_group), if one is.
        self._group_started: float | None = None
        # Items and lines rows, held until the commit (see .buffer).
        self._buffer = RowBuffer()
        try:
            self._db, fresh = connect(self.path, timeout, create=create)
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailableError(f"cannot open SQLite store {self.path}: {exc}") from exc
        if fresh:
            try:
                with self._write_transaction():
                    create_schema(self._db, self.path)
            except BaseException:
                self._db.close()
                raise
        self._lines = LineTable(self._db, self._buffer)

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
            if time.monotonic() - (self._group_started or 0.0) >= _GROUP_SECONDS:
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
        """Let the write batches inside share transactions, each held for up to ~1 s.

        A commit writes every page the transaction changed; index pages (URLs, times) are
        changed at random places, so a large store's commit rewrites most of its index
        pages whatever the batch. Fewer, larger commits write them less often. The lock is
        still released every second for other writers. A batch that fails is rolled back
        alone and the batches before it are committed, as when each batch committed.
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
            "SELECT key, content_hash, snapshot_at, hashes, rev, urls FROM snapshots"
            " WHERE key IN ({marks})",
            keys,
        )
        for key, chash, snap_at, hashes, rev, urls in rows:
            hash_list = json.loads(hashes)
            # The stored URL and hash lists ride with the state to _write_plans, in the same
            # transaction: it neither reads them again nor rewrites them when nothing is new.
            states[key] = KeyState(
                key,
                chash,
                None if snap_at is None else from_ms(snap_at),
                frozenset(hash_list),
                rev,
                stored=(urls, hash_list),
            )
        tombstoned = {
            row[0]
            for row in select_in(
                self._db, "SELECT key FROM tombstones WHERE key IN ({marks})", keys
            )
        }
        return states, tombstoned

    def _write_plans(self, plans: list[KeyPlan], now: datetime) -> set[str]:
        now_ms = to_ms(now)
        db = self._db
        archive = [(now_ms, p.key) for p in plans if p.archive_current]
        if archive:
            db.executemany(
                "INSERT OR IGNORE INTO history (key, content_hash, url, snapshot_at,"
                " archived_at, content) SELECT key, content_hash, url, snapshot_at, ?, content"
                " FROM snapshots WHERE key = ?",
                archive,
            )
        history = [
            (p.key, h.content_hash, h.url, to_ms(h.snapshot_at), now_ms, h.content)
            for p in plans
            for h in p.history
        ]
        if history:
            db.executemany(
                "INSERT OR IGNORE INTO history (key, content_hash, url, snapshot_at,"
                " archived_at, content) VALUES (?, ?, ?, ?, ?, ?)",
                history,
            )
        inserts = [p for p in plans if p.expected_rev is None and p.current is not None]
        if inserts:
            db.executemany(
                "INSERT INTO snapshots (key, url, urls, host, title, category, source,"
                " published_at, snapshot_at, content_hash, hashes, first_seen, last_seen,"
                " seen_count, rev, content) VALUES"
                " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
                [
                    (
                        p.key,
                        p.current.url,
                        dumps(p.urls),
                        host_column(p.key),
                        *columns(p.current),
                        json.dumps(p.new_hashes),
                        now_ms,
                        now_ms,
                        p.seen,
                        p.current.content,
                    )
                    for p in inserts
                    if p.current is not None
                ],
            )
        updates = [p for p in plans if p.expected_rev is not None]
        changed: list[KeyPlan] = []
        rewrites: list[tuple[str, str, str]] = []
        for plan in updates:
            # Only the keys with new URLs or hashes need their JSON lists rewritten.
            if plan.urls or plan.new_hashes:
                urls_text, old_hashes = plan.stored
                urls = json.loads(urls_text)
                new_urls = [u for u in plan.urls if u not in urls]
                if new_urls or plan.new_hashes:
                    rewrites.append(
                        (
                            dumps(urls + new_urls),
                            json.dumps(old_hashes + plan.new_hashes),
                            plan.key,
                        )
                    )
            if plan.current is not None:
                changed.append(plan)
        if rewrites:
            db.executemany("UPDATE snapshots SET urls = ?, hashes = ? WHERE key = ?", rewrites)
        if updates:
            db.executemany(
                "UPDATE snapshots SET last_seen = max(last_seen, ?),"
                " seen_count = seen_count + ? WHERE key = ?",
                [(now_ms, p.seen, p.key) for p in updates],
            )
        if changed:
            db.executemany(
                "UPDATE snapshots SET url = ?, title = ?, category = ?, source = ?,"
                " published_at = ?, snapshot_at = ?, content_hash = ?, content = ?,"
                " rev = rev + 1 WHERE key = ?",
                [
                    (p.current.url, *columns(p.current), p.current.content, p.key)
                    for p in changed
                    if p.current is not None
                ],
            )
        unarchived = [(p.key, p.unarchive) for p in plans if p.unarchive is not None]
        if unarchived:
            db.executemany("DELETE FROM history WHERE key = ? AND content_hash = ?", unarchived)
        current = [p for p in plans if p.current is not None]
        if current:
            self._index_items(current)
        return set()  # under the write lock there are no lost races

    def files(self) -> tuple[str, ...]:
        if self.path == ":memory:":
            return ()
        return tuple(self.path + suffix for suffix in ("", "-wal", "-shm", "-journal"))

    def _line_backend(self) -> LineBackend:
        return self._lines

    def _payload(self, snapshot: Snapshot) -> tuple[Any, ...]:
        return payload(snapshot)

    def _raw_preparer(self) -> Callable[[bytes, dict[str, Any]], Incoming | None] | None:
        return preparer(self.tracking_params, payload_of_doc)

    def _index_items(self, plans: list[KeyPlan]) -> None:
        # The row id of every key written (new keys have theirs now).
        ids = dict(
            select_in(
                self._db,
                "SELECT key, id FROM snapshots WHERE key IN ({marks})",
                [p.key for p in plans],
            )
        )
        updated = [(ids[p.key],) for p in plans if p.expected_rev is not None]
        if updated:
            self._db.executemany("DELETE FROM items WHERE snapshot_id = ?", updated)
        # Held until the commit, then inserted sorted (see .buffer); an updated snapshot's
        # new days replace any it had held.
        self._buffer.add_items(
            [(ids[p.key], p.current.payload[-1]) for p in plans if p.current is not None]
        )

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

    def _url_filter(self, query: Query) -> tuple[str, str, str | None] | None:
        return None if query.url is None else self._url_range(query)

    def _find(self, query: Query) -> Iterator[Snapshot]:
        for row in self._rows(query):
            yield self._snapshot(row)

    def _rows(self, query: Query) -> Iterator[tuple[Any, ...]]:
        """The :data:`~.rows.SELECT` rows matching ``query``, in its order, streamed."""
        sql, params = select_sql(query, self._url_filter(query))
        with self._errors():
            cursor = self._db.execute(sql, params)
        while True:
            with self._errors():
                rows = cursor.fetchmany(500)
            if not rows:
                return
            yield from rows

    def _export_ndjson(self, fp: IO[str], query: Query) -> int:
        # A stored row is already the JSON of its snapshot (times in UTC, no URL or
        # ``stored``): NDJSONLines writes from it the very bytes model_dump_json would,
        # without validating every record back into a model.
        lines = NDJSONLines(self.zone, self._snapshot)
        return write_lines(fp, self._rows(query), lines)

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
                "INSERT OR REPLACE INTO tombstones VALUES (?, ?, ?, ?)",
                (key, url, reason, to_ms(now)),
            )
            # Before the row whose id they name goes.
            self._lines.forget(key)
            self._db.execute(
                "DELETE FROM items WHERE snapshot_id IN (SELECT id FROM snapshots WHERE key = ?)",
                (key,),
            )
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
        # Each a scan of one index. Floor division, exact for times before 1970 too.
        quarter = f"(published_at - ((published_at % {QUARTER_MS}) + {QUARTER_MS}) % {QUARTER_MS})"
        with self._errors():
            return Grouped(
                dict(self._db.execute("SELECT category, count(*) FROM snapshots GROUP BY 1")),
                dict(self._db.execute("SELECT source, count(*) FROM snapshots GROUP BY 1")),
                dict(
                    self._db.execute(
                        f"SELECT {quarter} / {QUARTER_MS}, count(*) FROM snapshots GROUP BY 1"
                    )
                ),
            )

    def _history_count(self) -> int:
        with self._errors():
            return int(self._db.execute("SELECT count(*) FROM history").fetchone()[0])

    def _keys_with_versions(self) -> int:
        with self._errors():
            # History holds every content of a key but the current one, so a key has
            # versions when it has history: a scan of history's key index, not of every row.
            row = self._db.execute("SELECT count(DISTINCT key) FROM history").fetchone()
        return int(row[0])
