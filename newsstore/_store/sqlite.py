"""The embedded store: one SQLite file, no server (the only module that imports sqlite3).

Layout: ``snapshots`` holds the current snapshot of each key (``key`` is UNIQUE, so the
database itself refuses a second record for a key), with the fields lookups filter on as
indexed columns and the rest as JSON; ``history`` holds other contents per key (unique on
key and content hash); ``tombstones`` the takedowns; ``items`` the dates of related items;
``lines`` the digests of imported NDJSON lines, with the snapshot and content hash each
gave (so that a line imported again is known without validating it; see ``_line_memory``).
Times are stored as integer milliseconds since the epoch, UTC.

Writers run each batch under the write lock (``BEGIN IMMEDIATE``; an import's batches
share a transaction for up to a second, see ``_write_group``): the load, the decision and
the write happen under the lock, so concurrent processes serialise and never lose an
update; readers are never blocked (WAL mode).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import os
import re
import sqlite3
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta, timezone, tzinfo
from itertools import chain
from operator import add
from pathlib import Path
from typing import IO, Any

from pydantic_core import to_json

from .._errors import StoreError, StoreUnavailableError
from .._export import ExportFormat, Utf8Output
from .._query import Query
from .._schemas import Image, RelatedItem, Snapshot, StoredInfo, to_zone
from .._times import DEFAULT_TIMEZONE, in_zone
from .._urls import host_of, reversed_host
from .base import Remembered, Store, Tombstone
from .rules import Incoming, KeyPlan, KeyState

__all__ = ["SQLiteStore"]

_UTC = timezone.utc
# 2 added ``lines``; opening a version 1 store adds it (every statement is IF NOT EXISTS).
# 3 indexes related items by day instead of by time, and keeps lines by snapshot id (an
# index that grows at its end) instead of by key (one that grows at random places);
# opening an older store rebuilds ``items`` from the stored snapshots and starts ``lines``
# afresh (it only saves re-validation).
_SCHEMA_VERSION = 3
_CACHE_KIB = 32 * 1024
_GROUP_SECONDS = 1.0
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
    day INTEGER NOT NULL,
    snapshot_id INTEGER NOT NULL,
    PRIMARY KEY (day, snapshot_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_snapshot ON items (snapshot_id);
CREATE TABLE IF NOT EXISTS lines (
    digest BLOB PRIMARY KEY,
    snapshot_id INTEGER NOT NULL,
    content_hash BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS lines_snapshot ON lines (snapshot_id);
"""
# What decides the key and content hash an NDJSON line gives: a change to any of these
# modules (or to the version) is a new line memory.
_LINE_MODULES = ("_records", "_schemas", "_identity", "_urls")
_KINDS = ("related", "more_in_category")
_SELECT = (
    "SELECT key, url, urls, content_hash, hashes, first_seen, last_seen, seen_count, content"
    " FROM snapshots"
)


def _ms(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


def _dt(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, _UTC)


# Related items are indexed by the calendar day of their time at UTC+8, the crawler's zone
# (Beijing time): a snapshot's items fall on far fewer days than there are items, and a day
# asked in Beijing time is one bucket. A range in any other zone reads the buckets it
# overlaps and the items are then checked against the range itself.
_ORDINAL_ZERO = datetime(1970, 1, 1).toordinal()


def _day_of(t: datetime) -> int:
    """The day bucket of ``t``: its calendar date at UTC+8, in days since 1970-01-01."""
    if t.tzinfo is not _UTC:
        t = t.astimezone(_UTC)  # a snapshot being saved has its times in UTC already
    # The UTC+8 date is the UTC date, or the next one from 16:00 UTC.
    return t.toordinal() - _ORDINAL_ZERO + (t.hour >= 16)


def _item_days(times: Iterable[datetime]) -> str:
    """The day buckets of item times in UTC (aware or naive), as the JSON array items takes."""
    # _day_of inlined, the times being in UTC: it runs for some forty items a record.
    days = {t.toordinal() + (t.hour >= 16) for t in times}
    return str([day - _ORDINAL_ZERO for day in days])


_INSERT_ITEMS = "INSERT OR IGNORE INTO items SELECT value, ?1 FROM json_each(?2)"


def _day_range(start: datetime, end: datetime) -> tuple[int, int]:
    """The first and last day bucket that ``[start, end)`` overlaps."""
    return _day_of(start), _day_of(end - timedelta(microseconds=1))


# json.dumps(..., ensure_ascii=False) builds an encoder per call; this one is made once.
_dumps = json.JSONEncoder(ensure_ascii=False).encode


class _NDJSONLines:
    """Export lines written from stored rows: the bytes ``model_dump_json`` gives, faster.

    A row's ``content`` is the snapshot's JSON with every time in UTC, without ``url`` and
    ``stored`` (:func:`~newsstore._identity.utc_content`). The line is ``{"url":…,`` + that
    JSON with its times rewritten in ``zone`` + ``,"stored":{…}}``. Times are the values of
    ``"published_at"`` and ``"snapshot_at"`` keys (in a JSON string a quote is escaped, so
    the pattern only meets real keys); each is rewritten as pydantic writes that time in
    ``zone`` as :func:`~newsstore._schemas.in_zone` gives it. A row whose JSON lacks a field
    of today's model (written by an older version) goes through the model instead, so the
    output never differs from the model path's.
    """

    # A time is split into its UTC hour ("YYYY-MM-DDTHH") and the rest. The pattern starts
    # with a literal, which re finds fastest; "_at" keys are the two time fields alone
    # (checked in _LAYOUT_OK).
    _TIME = re.compile(rb'(_at":")([0-9][0-9T:.-]{12})([0-9T:.-]*)Z"')
    _NAMES = tuple(Snapshot.model_fields)
    # Every field whose key _TIME can meet: it must be one of the two times.
    _AT_FIELDS = frozenset(
        name
        for model in (Snapshot, RelatedItem, Image)
        for name in model.model_fields
        if name.endswith("_at")
    )
    _STORED = (
        "key",
        "content_hash",
        "urls",
        "first_seen",
        "last_seen",
        "seen_count",
        "version_count",
        "archived_at",
    )
    # The splice puts "url" first and "stored" last, where the model has them, and writes
    # "stored" from a dict of _STORED's fields, in that order.
    _LAYOUT_OK = (
        _AT_FIELDS.issubset({"published_at", "snapshot_at"})
        and (_NAMES[0], _NAMES[-1]) == ("url", "stored")
        and tuple(StoredInfo.model_fields) == _STORED
    )
    # Today's stored fields in order: the first opens the object; found in order, they
    # show the row was written with all of them (nested objects come after the names
    # they share with the top level).
    _FIELDS = tuple(f'"{name}":'.encode() for name in _NAMES[1:-1])

    def __init__(self, zone: tzinfo, slow: Callable[[tuple[Any, ...]], Snapshot]) -> None:
        self.zone = zone
        self.slow = slow
        self._days: dict[bytes, tuple[int, bytes] | None] = {}
        # UTC hour -> that hour in the zone, and the offset that follows the time, for the
        # hours of days the zone shifts by whole hours (some 9,000 hours a year).
        self._local_hour = _Lookup(self._learn_hour)
        self._suffix = _Lookup(self._learn_hour)
        self._seen: dict[int, datetime] = {}

    def line(self, row: tuple[Any, ...]) -> bytes:
        key, url, urls, chash, hashes, first, last, seen, content = row
        if not self._fits(content):
            return self.slow(row).model_dump_json().encode() + b"\n"
        parts = self._TIME.split(content)
        # split gives [text, key, hour, rest, text, key, hour, rest, …, text]. A whole-hour
        # shift moves the hour alone; the offset goes after the rest. Both are looked up
        # from C (map), a Python call only for an hour not seen before.
        hours = parts[2::4]
        try:
            parts[2::4] = map(self._local_hour.__getitem__, hours)
            parts[3::4] = map(add, parts[3::4], map(self._suffix.__getitem__, hours))
        except _UnevenShift:  # parts is unchanged: map is consumed before it is assigned
            times = [hour + rest for hour, rest in zip(hours, parts[3::4], strict=True)]
            parts[2::4] = [self._time(t) for t in times]
            parts[3::4] = [b""] * len(times)
        # StoredInfo's fields in their order (checked in _LAYOUT_OK): pydantic writes this
        # dict as it writes the model.
        stored = {
            "key": key,
            "content_hash": chash,
            "urls": json.loads(urls),
            "first_seen": self._when(first),
            "last_seen": self._when(last),
            "seen_count": seen,
            # A list of hex digests: two quotes each (json.loads would cost more).
            "version_count": hashes.count('"') // 2,
            "archived_at": None,
        }
        parts[0] = parts[0][1:]  # the content's "{" and "}" give way to url and stored
        parts[-1] = parts[-1][:-1]
        return b"".join(
            (b'{"url":', to_json(url), b",", *parts, b',"stored":', to_json(stored), b"}\n")
        )

    def _fits(self, content: bytes) -> bool:
        if not self._LAYOUT_OK or not content.startswith(b"{" + self._FIELDS[0]):
            return False
        pos = 0
        for name in self._FIELDS:
            pos = content.find(name, pos)
            if pos < 0:
                return False
        return True

    def _when(self, ms: int) -> datetime:
        # first/last seen are the batch's clock: a few values shared by many rows.
        found = self._seen.get(ms)
        if found is None:
            if len(self._seen) > 10_000:
                self._seen.clear()
            found = self._seen[ms] = in_zone(_dt(ms), self.zone)
        return found

    def _shift(self, day: bytes) -> tuple[int, bytes] | None:
        try:
            return self._days[day]
        except KeyError:
            shift = self._days[day] = _day_shift(self.zone, day)
            return shift

    def _learn_hour(self, hour: bytes) -> None:
        """Fill both lookups for UTC ``hour`` ("YYYY-MM-DDTHH"), or raise _UnevenShift."""
        shift = self._shift(hour[:10])
        if shift is None or shift[0] % 3600:
            raise _UnevenShift
        seconds, suffix = shift
        try:
            moved = datetime.fromisoformat(hour.decode() + ":00") + timedelta(seconds=seconds)
        except (ValueError, OverflowError):
            raise _UnevenShift from None  # _time has the exact answer (or error)
        if len(self._suffix) >= 100_000:
            self._local_hour.clear()
            self._suffix.clear()
        self._local_hour[hour] = moved.isoformat().encode()[:13]
        self._suffix[hour] = suffix

    def _time(self, utc: bytes) -> bytes:
        """``2023-11-14T03:19:00`` (UTC) -> ``2023-11-14T11:19:00+08:00"`` in the zone."""
        shift = self._shift(utc[:10])
        if shift is not None:
            seconds, suffix = shift
            moved = datetime.fromisoformat(utc.decode()) + timedelta(seconds=seconds)
            return moved.isoformat().encode() + suffix
        exact = datetime.fromisoformat(utc.decode()).replace(tzinfo=_UTC)
        return to_json(in_zone(exact, self.zone))[1:]


class _UnevenShift(Exception):
    """A UTC hour that the zone does not shift by whole hours (or not one shift all day)."""


class _Lookup(dict[bytes, bytes]):
    """A dict that calls ``learn(key)`` for a missing key, which fills it (or raises)."""

    def __init__(self, learn: Callable[[bytes], None]) -> None:
        super().__init__()
        self._learn = learn

    def __missing__(self, key: bytes) -> bytes:
        self._learn(key)
        return self[key]


@functools.lru_cache(maxsize=16)
def _line_salt(zone: str) -> hashlib._Hash:
    """The start of every line digest in ``zone``: version, schema and the deciding code."""
    from .. import __version__

    salt = hashlib.sha256(f"newsstore {__version__} {_SCHEMA_VERSION} {zone}".encode())
    for name in _LINE_MODULES:
        module = importlib.import_module(f"newsstore.{name}")
        try:
            salt.update(Path(module.__file__ or "").read_bytes())
        except OSError:
            salt.update(name.encode())  # no source to read: the version stands for it
    return salt


@functools.lru_cache(maxsize=1 << 16)
def _day_shift(zone: tzinfo, day: bytes) -> tuple[int, bytes] | None:
    """A zone's offset all through a UTC day and how pydantic writes it (None: it varies).

    Checked on every hour and at the day's last instant: zones change offset at most a few
    times a year, never there and back within an hour. Cached across exports.
    """
    start = datetime.fromisoformat(day.decode()).replace(tzinfo=_UTC)
    checks = [start + timedelta(hours=h) for h in range(24)]
    checks.append(start + timedelta(days=1) - timedelta(microseconds=1))
    offset = start.astimezone(zone).utcoffset()
    if offset is None or any(t.astimezone(zone).utcoffset() != offset for t in checks):
        return None
    if offset % timedelta(minutes=1):
        offset = timedelta(0)  # as in_zone: local mean time is written in UTC
    # pydantic writes "Z" for a zero offset.
    sample = to_json(datetime(2000, 1, 1, tzinfo=timezone(offset)))
    return int(offset.total_seconds()), sample[20:]


def _host(key: str) -> str | None:
    return None if key.startswith("content:") else reversed_host(host_of(key))


class SQLiteStore(Store):
    """Snapshots in one SQLite file (created if missing); ``":memory:"`` for a throwaway store."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timezone: str | tzinfo = DEFAULT_TIMEZONE,
        timeout: float = 60.0,
        tracking_params: Collection[str] | None = None,
    ):
        # timeout: seconds to wait for another writer's lock before "database is locked".
        super().__init__(timezone=timezone, tracking_params=tracking_params)
        self.path = str(path)
        self._lists: dict[str, tuple[str, list[str]]] = {}
        self._ids: dict[str, int] = {}
        # When the open transaction of a write group began (see _write_group), if one is.
        self._group_started: float | None = None
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=timeout)
            # Takes effect on a new file only: a snapshot's JSON (~11 KB) then fits one page.
            self._db.execute("PRAGMA page_size=16384")
            self._db.execute("PRAGMA journal_mode=WAL")
            # WAL with synchronous=NORMAL never corrupts; a power cut may lose the last batch.
            self._db.execute("PRAGMA synchronous=NORMAL")
            # Index pages are updated at random places (URLs, times); 32 MiB (the default is
            # 2 MiB) keeps those of a large store's import in memory between batches.
            self._db.execute(f"PRAGMA cache_size={-_CACHE_KIB}")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailableError(f"cannot open SQLite store {self.path}: {exc}") from exc
        if version < _SCHEMA_VERSION:
            self._create_schema()

    def _create_schema(self) -> None:
        with self._write_transaction():
            # Another process may have upgraded the file while this one waited for the lock.
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version >= _SCHEMA_VERSION:
                return
            # Version 1 and 2 tables: items by time, lines by key.
            rebuild_items = "published_at" in self._table_columns("items")
            if rebuild_items:
                self._db.execute("DROP TABLE items")
            if "key" in self._table_columns("lines"):
                self._db.execute("DROP TABLE lines")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            if rebuild_items:
                self._reindex_items()
            self._db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")

    def _table_columns(self, table: str) -> set[str]:
        return {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}

    def _reindex_items(self) -> None:
        """Fill ``items`` from the stored snapshots (their JSON holds the items' UTC times)."""
        cursor = self._db.execute("SELECT id, content FROM snapshots")
        while rows := cursor.fetchmany(1000):
            batch = []
            for snapshot_id, content in rows:
                data = json.loads(content)
                # Stored times are UTC, written "…Z" (which fromisoformat reads from 3.11 on).
                times = [
                    datetime.fromisoformat(item["published_at"].removesuffix("Z"))
                    for kind in _KINDS
                    for item in data.get(kind) or ()
                ]
                utc = [t if t.tzinfo is None else t.astimezone(_UTC) for t in times]
                batch.append((snapshot_id, _item_days(utc)))
            self._db.executemany(_INSERT_ITEMS, batch)

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
                raise
            if not grouped:
                self._commit()
                return
            self._db.execute("RELEASE batch")
            if time.monotonic() - (self._group_started or 0.0) >= _GROUP_SECONDS:
                self._commit()

    def _commit(self) -> None:
        try:
            self._db.execute("COMMIT")
        except BaseException:
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
        tombstoned: set[str] = set()
        # The stored URL and hash lists, for _write_plans in the same transaction: it then
        # neither reads them again nor rewrites them when nothing is new (a re-import).
        lists: dict[str, tuple[str, list[str]]] = {}
        self._lists = lists
        rows = self._select_in(
            "SELECT key, content_hash, snapshot_at, hashes, rev, urls FROM snapshots"
            " WHERE key IN ({marks})",
            keys,
        )
        for key, chash, snap_at, hashes, rev, urls in rows:
            hash_list = json.loads(hashes)
            states[key] = KeyState(
                key,
                chash,
                None if snap_at is None else _dt(snap_at),
                frozenset(hash_list),
                rev,
            )
            lists[key] = (urls, hash_list)
        tombstoned.update(
            row[0]
            for row in self._select_in("SELECT key FROM tombstones WHERE key IN ({marks})", keys)
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
            (p.key, h.content_hash, h.url, _ms(h.snapshot_at), now_ms, h.content)
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
                        _dumps(p.urls),
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
        rewrites: list[tuple[str, str, str]] = []
        for plan in updates:
            # Only the keys with new URLs or hashes need their JSON lists rewritten.
            if plan.urls or plan.new_hashes:
                urls_text, old_hashes = self._lists[plan.key]
                urls = json.loads(urls_text)
                new_urls = [u for u in plan.urls if u not in urls]
                if new_urls or plan.new_hashes:
                    rewrites.append(
                        (
                            _dumps(urls + new_urls),
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
                    (p.current.url, *self._columns(p.current), p.current.content, p.key)
                    for p in changed
                    if p.current is not None
                ],
            )
        # The row id of every key written, for items and lines (new keys have theirs now).
        self._ids = self._snapshot_ids([p.key for p in plans])
        current = [p for p in plans if p.current is not None]
        if current:
            self._index_items(current)
        return set()  # under the write lock there are no lost races

    def _snapshot_ids(self, keys: list[str]) -> dict[str, int]:
        return dict(self._select_in("SELECT key, id FROM snapshots WHERE key IN ({marks})", keys))

    def _select_in(self, sql: str, values: list[Any]) -> Iterator[Any]:
        """The rows of ``sql``, whose ``IN ({marks})`` takes ``values``, a chunk at a time.

        500 values a statement stay under SQLite's bound-parameter limit on old builds.
        """
        for i in range(0, len(values), 500):
            chunk = values[i : i + 500]
            yield from self._db.execute(sql.format(marks=",".join("?" * len(chunk))), chunk)

    def _line_memory(self, zone: str | tzinfo) -> Callable[[bytes], bytes] | None:
        name = zone if isinstance(zone, str) else getattr(zone, "key", None)
        if not isinstance(name, str):
            return None  # a zone without a name cannot be part of a digest
        # The key of a line depends on the tracking-parameter list too.
        params = "" if self.tracking_params is None else ",".join(sorted(self.tracking_params))
        salt = _line_salt(f"{name}|{params}")

        def digest(raw: bytes) -> bytes:
            h = salt.copy()
            h.update(raw)
            return h.digest()[:16]

        return digest

    def _recall_lines(self, digests: list[bytes]) -> dict[bytes, tuple[str, str, str | None]]:
        # No URL: the spelling a line had was added to its key's URLs when it was saved, and
        # a key's URLs are only ever added to (a takedown deletes the key's lines).
        with self._errors():
            rows = self._select_in(
                "SELECT l.digest, s.key, l.content_hash FROM lines l"
                " JOIN snapshots s ON s.id = l.snapshot_id WHERE l.digest IN ({marks})",
                digests,
            )
            return {digest: (key, chash.hex(), None) for digest, key, chash in rows}

    def _remember_lines(self, records: list[Remembered]) -> None:
        ids = self._ids  # of the keys _write_plans just wrote, in this transaction
        rows = [
            (r.digest, sid, bytes.fromhex(r.content_hash))
            for r in records
            if (sid := ids.get(r.key)) is not None  # None: a taken-down key
        ]
        if rows:
            self._db.executemany("INSERT OR IGNORE INTO lines VALUES (?, ?, ?)", rows)

    def _payload(self, snapshot: Snapshot) -> tuple[Any, ...]:
        # The snapshot's indexed columns, and its item days for _index_items.
        return (
            snapshot.title,
            snapshot.category,
            snapshot.source,
            _ms(snapshot.published_at),
            _ms(snapshot.snapshot_at),
            _item_days(
                [item.published_at for item in chain(snapshot.related, snapshot.more_in_category)]
            ),
        )

    @staticmethod
    def _columns(rec: Incoming) -> tuple[Any, ...]:
        title, category, source, published, snapshot_at, _ = rec.payload
        return (title, category, source, published, snapshot_at, rec.content_hash)

    def _index_items(self, plans: list[KeyPlan]) -> None:
        ids = self._ids
        updated = [(ids[p.key],) for p in plans if p.expected_rev is not None]
        if updated:
            self._db.executemany("DELETE FROM items WHERE snapshot_id = ?", updated)
        # One row of parameters a snapshot, its item days as a JSON array that SQLite unpacks
        # itself: binding a row an item from Python cost twice as much.
        rows: list[tuple[int, str]] = []
        for p in plans:
            if p.current is not None:
                rows.append((ids[p.key], p.current.payload[-1]))
        self._db.executemany(_INSERT_ITEMS, rows)

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
        return to_zone(snap, self.zone)  # a fresh model: no copy needed

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
            out.append(to_zone(snap, self.zone))
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
        for row in self._rows(query):
            yield self._snapshot(row)

    def _rows(self, query: Query) -> Iterator[tuple[Any, ...]]:
        """The ``_SELECT`` rows matching ``query``, in its order, streamed."""
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
            yield from rows

    def export(
        self,
        fp: IO[str],
        query: Query | None = None,
        *,
        format: ExportFormat = "ndjson",
        fields: Iterable[str] | None = None,
    ) -> int:
        """As :meth:`Store.export`; whole-record NDJSON is written from the stored JSON.

        A stored row is already the JSON of its snapshot (times in UTC, no URL or
        ``stored``): its times are moved to the store's zone and the URL and ``stored``
        part spliced in, which writes the very bytes ``model_dump_json`` would, without
        validating every record back into a model (a row not in the expected layout is).
        """
        if format != "ndjson" or fields is not None:
            return super().export(fp, query, format=format, fields=fields)
        lines = _NDJSONLines(self.zone, self._snapshot)
        count = 0
        if isinstance(fp, Utf8Output):
            # A file from open_output: UTF-8, "\n" kept, so the bytes can go under it.
            fp.flush()
            write = fp.buffer.write
            for row in self._rows(query or Query()):
                write(lines.line(row))
                count += 1
            return count
        for row in self._rows(query or Query()):
            fp.write(lines.line(row).decode())
            count += 1
        return count

    def _count(self, query: Query) -> int:
        where, params = self._where(query)
        with self._errors():
            return int(
                self._db.execute(f"SELECT count(*) FROM snapshots{where}", params).fetchone()[0]
            )

    def _related_items(
        self, start: datetime, end: datetime
    ) -> Iterator[tuple[str, RelatedItem, Snapshot]]:
        with self._errors():
            rows = self._db.execute(
                "SELECT DISTINCT snapshot_id FROM items WHERE day BETWEEN ? AND ?",
                _day_range(start, end),
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
                "INSERT OR REPLACE INTO tombstones VALUES (?, ?, ?, ?)",
                (key, url, reason, _ms(now)),
            )
            for table in ("items", "lines"):  # before the row whose id they name goes
                self._db.execute(
                    f"DELETE FROM {table} WHERE snapshot_id IN"
                    " (SELECT id FROM snapshots WHERE key = ?)",
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
