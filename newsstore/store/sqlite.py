"""The embedded store: one SQLite file, no server (the only module that imports sqlite3).

Layout: ``snapshots`` holds the current snapshot of each key (``key`` is UNIQUE, so the
database itself refuses a second record for a key), with the fields lookups filter on as
indexed columns and the rest as JSON; ``history`` holds other contents per key (unique on
key and content hash); ``tombstones`` the takedowns; ``items`` the dates of related items.
Times are stored as integer milliseconds since the epoch, UTC.

Writers run each batch in a ``BEGIN IMMEDIATE`` transaction: the load, the decision and
the write happen under the write lock, so concurrent processes serialise per batch and
never lose an update; readers are never blocked (WAL mode).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from typing import Any

from ..errors import StoreError, StoreUnavailableError
from ..identity import with_zone
from ..query import Query
from ..schemas import RelatedItem, Snapshot, StoredInfo
from ..settings import DEFAULT_TIMEZONE
from ..urls import host_of, reversed_host
from .base import Store, Tombstone
from .rules import Incoming, KeyPlan, KeyState

__all__ = ["SQLiteStore"]

_UTC = timezone.utc
_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS snapshots (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    url TEXT,
    urls TEXT NOT NULL,
    host TEXT,
    title TEXT NOT NULL,
    category TEXT,
    source TEXT,
    published_at INTEGER,
    snapshot_at INTEGER,
    content_hash TEXT NOT NULL,
    hashes TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    seen_count INTEGER NOT NULL,
    rev INTEGER NOT NULL,
    content BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS snapshots_published ON snapshots (published_at);
CREATE INDEX IF NOT EXISTS snapshots_snapshot ON snapshots (snapshot_at);
CREATE INDEX IF NOT EXISTS snapshots_category ON snapshots (category, published_at);
CREATE INDEX IF NOT EXISTS snapshots_source ON snapshots (source, published_at);
CREATE INDEX IF NOT EXISTS snapshots_host ON snapshots (host);
CREATE TABLE IF NOT EXISTS history (
    key TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    url TEXT,
    snapshot_at INTEGER,
    archived_at INTEGER NOT NULL,
    content BLOB NOT NULL,
    PRIMARY KEY (key, content_hash)
);
CREATE TABLE IF NOT EXISTS tombstones (
    key TEXT PRIMARY KEY,
    url TEXT,
    reason TEXT NOT NULL,
    deleted_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS items (
    published_at INTEGER NOT NULL,
    snapshot_id INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (published_at, snapshot_id, kind, position)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_snapshot ON items (snapshot_id);
"""
_KINDS = ("related", "more_in_category")
_SELECT = (
    "SELECT key, url, urls, content_hash, hashes, first_seen, last_seen, seen_count, content"
    " FROM snapshots"
)


def _ms(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


def _dt(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, _UTC)


def _host(key: str) -> str | None:
    return None if key.startswith("content:") else reversed_host(host_of(key))


class SQLiteStore(Store):
    """Snapshots in one SQLite file (created if missing); ``":memory:"`` for a throwaway store."""

    def __init__(self, path: str | os.PathLike[str], *, timezone: str | tzinfo = DEFAULT_TIMEZONE):
        super().__init__(timezone=timezone)
        self.path = str(path)
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=60.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            # WAL with synchronous=NORMAL never corrupts; a power cut may lose the last batch.
            self._db.execute("PRAGMA synchronous=NORMAL")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailableError(f"cannot open SQLite store {self.path}: {exc}") from exc
        if version < _SCHEMA_VERSION:
            self._create_schema()

    def _create_schema(self) -> None:
        with self._write_transaction():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            self._db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")

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
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _load_states(self, keys: list[str]) -> tuple[dict[str, KeyState], set[str]]:
        states: dict[str, KeyState] = {}
        tombstoned: set[str] = set()
        # 500 keys a statement stays under SQLite's bound-parameter limit on old builds.
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                "SELECT key, content_hash, snapshot_at, hashes, rev FROM snapshots"
                f" WHERE key IN ({marks})",
                chunk,
            )
            for key, chash, snap_at, hashes, rev in rows:
                states[key] = KeyState(
                    key,
                    chash,
                    None if snap_at is None else _dt(snap_at),
                    frozenset(json.loads(hashes)),
                    rev,
                )
            tombstoned.update(
                row[0]
                for row in self._db.execute(
                    f"SELECT key FROM tombstones WHERE key IN ({marks})", chunk
                )
            )
        return states, tombstoned

    def _write_plans(self, plans: list[KeyPlan], now: datetime) -> set[str]:
        now_ms = _ms(now)
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
            (p.key, h.content_hash, h.snapshot.url, _ms(h.snapshot.snapshot_at), now_ms, h.content)
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
                        p.current.snapshot.url,
                        json.dumps(p.urls, ensure_ascii=False),
                        _host(p.key),
                        *self._columns(p.current),
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
        for plan in updates:
            # Only the keys with new URLs or hashes need their JSON lists rewritten.
            if plan.urls or plan.new_hashes:
                row = db.execute(
                    "SELECT urls, hashes FROM snapshots WHERE key = ?", (plan.key,)
                ).fetchone()
                urls = json.loads(row[0])
                urls.extend(u for u in plan.urls if u not in urls)
                hashes = json.loads(row[1]) + plan.new_hashes
                db.execute(
                    "UPDATE snapshots SET urls = ?, hashes = ? WHERE key = ?",
                    (json.dumps(urls, ensure_ascii=False), json.dumps(hashes), plan.key),
                )
            if plan.current is not None:
                changed.append(plan)
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
                    (p.current.snapshot.url, *self._columns(p.current), p.current.content, p.key)
                    for p in changed
                    if p.current is not None
                ],
            )
        current = [p for p in plans if p.current is not None]
        if current:
            self._index_items(current)
        return set()  # under the write lock there are no lost races

    @staticmethod
    def _columns(rec: Incoming) -> tuple[Any, ...]:
        s = rec.snapshot
        return (
            s.title,
            s.category,
            s.source,
            _ms(s.published_at),
            _ms(s.snapshot_at),
            rec.content_hash,
        )

    def _index_items(self, plans: list[KeyPlan]) -> None:
        keys = [p.key for p in plans]
        ids: dict[str, int] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            ids.update(
                self._db.execute(f"SELECT key, id FROM snapshots WHERE key IN ({marks})", chunk)
            )
        updated = [(ids[p.key],) for p in plans if p.expected_rev is not None]
        if updated:
            self._db.executemany("DELETE FROM items WHERE snapshot_id = ?", updated)
        rows = [
            (_ms(item.published_at), ids[p.key], kind, pos)
            for p in plans
            if p.current is not None
            for kind, items in enumerate(
                (p.current.snapshot.related, p.current.snapshot.more_in_category)
            )
            for pos, item in enumerate(items)
        ]
        self._db.executemany("INSERT OR IGNORE INTO items VALUES (?, ?, ?, ?)", rows)

    # -- reading -----------------------------------------------------------------------
    def _snapshot(self, row: tuple[Any, ...]) -> Snapshot:
        key, url, urls, chash, hashes, first, last, seen, content = row
        snap = Snapshot.model_validate_json(content)
        snap.url = url
        snap.stored = StoredInfo(
            key=key,
            content_hash=chash,
            urls=json.loads(urls),
            first_seen=_dt(first),
            last_seen=_dt(last),
            seen_count=seen,
            version_count=len(json.loads(hashes)),
        )
        return with_zone(snap, self.zone)

    def _get(self, key: str) -> Snapshot | None:
        with self._errors():
            row = self._db.execute(f"{_SELECT} WHERE key = ?", (key,)).fetchone()
        return None if row is None else self._snapshot(row)

    def _history(self, key: str) -> list[Snapshot]:
        with self._errors():
            rows = self._db.execute(
                "SELECT h.key, h.url, h.content_hash, h.archived_at, h.content FROM history h"
                " LEFT JOIN snapshots s ON s.key = h.key"
                " WHERE h.key = ? AND h.content_hash IS NOT s.content_hash"
                " ORDER BY h.snapshot_at DESC, h.content_hash DESC",
                (key,),
            ).fetchall()
        out = []
        for key_, url, chash, archived, content in rows:
            snap = Snapshot.model_validate_json(content)
            snap.url = url
            snap.stored = StoredInfo(key=key_, content_hash=chash, archived_at=_dt(archived))
            out.append(with_zone(snap, self.zone))
        return out

    def _where(self, query: Query) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if query.url is not None:
            column, low, high = self._url_range(query)
            if high is None:
                clauses.append(f"{column} = ?")
                params.append(low)
            else:
                clauses.append(f"{column} >= ? AND {column} < ?")
                params += [low, high]
        column = "published_at" if query.time_field == "published" else "snapshot_at"
        if query.start is not None:
            clauses.append(f"{column} >= ?")
            params.append(_ms(query.start))
        if query.end is not None:
            clauses.append(f"{column} < ?")
            params.append(_ms(query.end))
        for name in ("category", "source"):
            value = getattr(query, name)
            if value is not None:
                clauses.append(f"{name} = ?")
                params.append(value)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    def _find(self, query: Query) -> Iterator[Snapshot]:
        where, params = self._where(query)
        column = "published_at" if query.time_field == "published" else "snapshot_at"
        order = "DESC" if query.sort == "newest" else "ASC"
        sql = f"{_SELECT}{where} ORDER BY {column} {order}, key {order}"
        if query.limit is not None or query.offset:
            sql += " LIMIT ? OFFSET ?"
            params += [-1 if query.limit is None else query.limit, query.offset]
        with self._errors():
            cursor = self._db.execute(sql, params)
        while True:
            with self._errors():
                rows = cursor.fetchmany(500)
            if not rows:
                return
            for row in rows:
                yield self._snapshot(row)

    def _count(self, query: Query) -> int:
        where, params = self._where(query)
        with self._errors():
            return int(self._db.execute(f"SELECT count(*) FROM snapshots{where}", params).fetchone()[0])

    def _related_items(
        self, start: datetime, end: datetime
    ) -> Iterator[tuple[str, RelatedItem, Snapshot]]:
        with self._errors():
            rows = self._db.execute(
                "SELECT DISTINCT snapshot_id FROM items WHERE published_at >= ? AND published_at < ?",
                (_ms(start), _ms(end)),
            ).fetchall()
        for (snapshot_id,) in rows:
            row = self._db.execute(f"{_SELECT} WHERE id = ?", (snapshot_id,)).fetchone()
            if row is None:
                continue
            snap = self._snapshot(row)
            for kind in _KINDS:
                for item in getattr(snap, kind):
                    if start <= item.published_at < end:
                        yield kind, item, snap

    def _key_by_title(self, title: str, published_at: datetime) -> str | None:
        row = self._db.execute(
            "SELECT key FROM snapshots WHERE published_at = ? AND title = ? LIMIT 1",
            (_ms(published_at), title),
        ).fetchone()
        return None if row is None else str(row[0])

    # -- takedowns ---------------------------------------------------------------------
    def _delete(self, key: str, url: str | None, reason: str, now: datetime) -> Tombstone:
        with self._write_transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO tombstones VALUES (?, ?, ?, ?)", (key, url, reason, _ms(now))
            )
            self._db.execute(
                "DELETE FROM items WHERE snapshot_id IN (SELECT id FROM snapshots WHERE key = ?)",
                (key,),
            )
            self._db.execute("DELETE FROM snapshots WHERE key = ?", (key,))
            self._db.execute("DELETE FROM history WHERE key = ?", (key,))
        return Tombstone(key, url, reason, now.astimezone(self.zone))

    def _restore(self, key: str) -> bool:
        with self._write_transaction():
            cursor = self._db.execute("DELETE FROM tombstones WHERE key = ?", (key,))
        return cursor.rowcount > 0

    def tombstones(self) -> list[Tombstone]:
        with self._errors():
            rows = self._db.execute(
                "SELECT key, url, reason, deleted_at FROM tombstones ORDER BY deleted_at DESC"
            ).fetchall()
        return [Tombstone(k, u, r, _dt(d).astimezone(self.zone)) for k, u, r, d in rows]

    # -- stats -------------------------------------------------------------------------
    def _facets(self) -> Iterator[tuple[str | None, str | None, datetime | None]]:
        with self._errors():
            cursor = self._db.execute("SELECT category, source, published_at FROM snapshots")
            for category, source, published in cursor:
                yield category, source, None if published is None else _dt(published)

    def _history_count(self) -> int:
        with self._errors():
            return int(self._db.execute("SELECT count(*) FROM history").fetchone()[0])

    def _keys_with_versions(self) -> int:
        with self._errors():
            row = self._db.execute(
                "SELECT count(*) FROM snapshots WHERE json_array_length(hashes) > 1"
            ).fetchone()
        return int(row[0])

