"""The SQLite store's tables, their upgrade from older versions, and the day buckets of items.

Layout: ``snapshots`` holds the current snapshot of each key (``key`` is UNIQUE, so the
database itself refuses a second record for a key), with the fields lookups filter on as
indexed columns and the rest as JSON; ``history`` holds other contents per key (unique on
key and content hash); ``tombstones`` the takedowns; ``items`` the dates of related items,
and ``item_days`` the dates each snapshot has rows for; ``lines`` the digests of imported
NDJSON lines, with the snapshot and content hash each gave (so that a line imported again
is known without validating it; see ``SQLiteStore._line_memory``). Times are stored as
integer milliseconds since the epoch, UTC.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from ..._errors import StoreUnavailableError
from ..._times import UTC
from .copies import add_copies
from .similar import add_fingerprints
from .sql import statements
from .stats import add_tallies
from .story_times import add_story_times

__all__ = [
    "APPLICATION_ID",
    "ITEM_DAYS",
    "KINDS",
    "SCHEMA_VERSION",
    "VERSION_INDEX",
    "connect",
    "create_schema",
    "day_range",
    "insert_items",
    "item_days",
    "record_days",
]

# 2 added ``lines``; opening a version 1 store adds it (every statement is IF NOT EXISTS).
# 3 indexes related items by day instead of by time, and keeps lines by snapshot id (an
# index that grows at its end) instead of by key (one that grows at random places);
# opening an older store rebuilds ``items`` from the stored snapshots and starts ``lines``
# afresh (it only saves re-validation).
# 4: history never holds a key's current content (a content made current again leaves
# it); opening an older store deletes such entries, which readers used to filter out.
# 5: ``meta`` holds the store's metadata (format, zone, the tracking-parameter list its keys
# were made with); see _add_store_meta.
# 6: each version keeps when it was first and last seen (history.first_seen/last_seen,
# snapshots.version_first_seen/version_last_seen), and history is indexed by snapshot
# time for ``find --changed`` (see _add_version_times).
# 7: ``snapshots.records``, the ids of the input records ``seen_count`` counts (distinct
# records, not sightings); see _count_distinct_records.
# 8 adds the body fingerprints (``signatures``, ``bands``; see .similar); opening an older
# store fingerprints every stored snapshot.
# 9: ``story_times``, what ``clusters`` reads in publication order, kept by triggers (see
# .story_times); opening an older store fills it from the stored fingerprints.
# 10: ``copies``, the pairs of near snapshots ``stats`` counts (see .copies); opening an
# older store pairs the stored fingerprints.
# 11: ``tallies``, snapshots by category, source and quarter of publication for ``stats``,
# kept as rows are written (see .stats); opening an older store counts them once.
# 12: ``item_days``, each snapshot's item days, by which its ``items`` rows go (see
# ITEM_DAYS), instead of the index ``items_snapshot``; opening an older store fills it from
# that index, then drops it.
SCHEMA_VERSION = 12
# PRAGMA application_id of every store newsstore creates ("nwst"): a database without it
# is newsstore's only when it is a store of an earlier version (see _ownership).
APPLICATION_ID = 0x6E777374
_CACHE_KIB = 32 * 1024
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
    records TEXT NOT NULL DEFAULT '[]',
    version_first_seen INTEGER,
    version_last_seen INTEGER,
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
    first_seen INTEGER,
    last_seen INTEGER,
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
CREATE TABLE IF NOT EXISTS lines (
    digest BLOB PRIMARY KEY,
    snapshot_id INTEGER NOT NULL,
    content_hash BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS lines_snapshot ON lines (snapshot_id);
"""
# The columns versions 6 and 7 added: an older store has them after ``content`` (ALTER TABLE
# appends), a new one before it, as a row's columns after its ~11 KB content sit on its
# last overflow page, which reading ``records`` or updating ``version_last_seen`` then
# reads or rewrites (a re-import: 1.6x faster with them first, measured at 20k).
_ADDED = frozenset({"records", "version_first_seen", "version_last_seen"})
# The columns of ``snapshots`` every schema version has: with a user_version of 1 to
# SCHEMA_VERSION, they mark a store written before APPLICATION_ID.
_SNAPSHOTS = frozenset(re.findall(r"^    (\w+) ", _SCHEMA.split(");", 1)[0], re.MULTILINE)) - _ADDED
KINDS = ("related", "more_in_category")

# Related items are indexed by the calendar day of their time at UTC+8, the crawler's zone
# (Beijing time): a snapshot's items fall on far fewer days than there are items, and a day
# asked in Beijing time is one bucket. A range in any other zone reads the buckets it
# overlaps and the items are then checked against the range itself.
_ORDINAL_ZERO = datetime(1970, 1, 1).toordinal()


def _day_of(t: datetime) -> int:
    """The day bucket of ``t``: its calendar date at UTC+8, in days since 1970-01-01."""
    if t.tzinfo is not UTC:
        t = t.astimezone(UTC)  # a snapshot being saved has its times in UTC already
    # The UTC+8 date is the UTC date, or the next one from 16:00 UTC.
    return t.toordinal() - _ORDINAL_ZERO + (t.hour >= 16)


def item_days(times: Iterable[datetime]) -> str:
    """The day buckets of item times in UTC (aware or naive), as the JSON array items takes."""
    # _day_of inlined, the times being in UTC: it runs for some forty items a record.
    days = {t.toordinal() + (t.hour >= 16) for t in times}
    return str([day - _ORDINAL_ZERO for day in days])


_INSERT_ITEMS = "INSERT OR IGNORE INTO items SELECT value, ?1 FROM json_each(?2)"
# A snapshot's ``items`` rows are found by the days ``item_days`` keeps for it: ~14 seeks of
# the primary key when they go, where an index by snapshot id cost an entry a row on every
# insert (100k bench records, one process: the rows' insert took 30 µs a record without
# it, 56 with it). Its days are recorded as the snapshot is written, its rows inserted at
# the commit (.buffer). The triggers on ``item_days`` take the rows of the days it stops
# keeping, whatever the path: new days recorded (a new content, a copy or restore onto
# it), or the snapshot deleted.
_FORGET = (
    "DELETE FROM items WHERE snapshot_id = OLD.snapshot_id"
    " AND day IN (SELECT value FROM json_each(OLD.days))"
)
ITEM_DAYS = f"""
CREATE TABLE IF NOT EXISTS item_days (
    snapshot_id INTEGER PRIMARY KEY,
    days TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS items_removed AFTER DELETE ON snapshots BEGIN
    DELETE FROM item_days WHERE snapshot_id = OLD.id;
END;
CREATE TRIGGER IF NOT EXISTS items_forgotten AFTER DELETE ON item_days BEGIN
    {_FORGET};
END;
CREATE TRIGGER IF NOT EXISTS items_replaced AFTER UPDATE OF days ON item_days
    WHEN OLD.days IS NOT NEW.days
BEGIN
    {_FORGET};
END;
"""


def record_days(db: sqlite3.Connection, rows: list[tuple[int, str]]) -> None:
    """Keep the item days of snapshots being written, ``(id, JSON array of days)``, whose
    ``items`` rows the caller inserts; the rows of days a snapshot had before go."""
    db.executemany(
        "INSERT INTO item_days VALUES (?, ?)"
        " ON CONFLICT (snapshot_id) DO UPDATE SET days = excluded.days",
        rows,
    )


def insert_items(db: sqlite3.Connection, rows: list[tuple[int, str]]) -> None:
    """Write the ``items`` rows of snapshots now (not held to the commit), after
    :func:`record_days`."""
    record_days(db, rows)
    db.executemany(_INSERT_ITEMS, rows)


def day_range(start: datetime, end: datetime) -> tuple[int, int]:
    """The first and last day bucket that ``[start, end)`` overlaps."""
    return _day_of(start), _day_of(end - timedelta(microseconds=1))


def connect(path: str, timeout: float, *, create: bool = True) -> tuple[sqlite3.Connection, bool]:
    """Open the store at ``path`` set up for use, and whether :func:`create_schema` must run.

    A database newsstore did not write is refused before anything in it changes (see
    :func:`_ownership`). ``create=False`` refuses a file that does not exist or holds no
    store yet, and creates nothing. ``timeout``: seconds to wait for another writer's lock
    before "database is locked". Raises :class:`~newsstore.StoreUnavailableError` for
    those refusals, else ``sqlite3.Error`` or ``OSError``.
    """
    if path != ":memory:":
        if not create and not os.path.exists(path):
            raise StoreUnavailableError(f"no SQLite store at {path}: the file does not exist")
        if create:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    # Opened as a URI that SQLite cannot read otherwise: a path such as "file:x?mode=memory"
    # names a file, not a URI's options. mode=rw: the file must exist, so that one deleted
    # meanwhile is not created empty.
    target = path
    if path != ":memory:":
        where = quote(os.fsencode(os.path.abspath(path)))  # any bytes, as the file system has
        target = f"file:{where}?mode={'rwc' if create else 'rw'}"
    db = sqlite3.connect(target, isolation_level=None, timeout=timeout, uri=True)
    try:
        # Read before anything is written: not even the journal mode of a stranger changes.
        state, version = _ownership(db, path)
        if state == "new":
            if not create:
                raise StoreUnavailableError(f"no SQLite store at {path}: the file is empty")
            # Takes effect on a new file only. An ~11 KB snapshot row spills into an overflow
            # page, but the index pages (most of what a commit writes) are half the size,
            # and the file a quarter smaller than with 16 KiB pages (measured at 100k).
            db.execute("PRAGMA page_size=8192")
        db.execute("PRAGMA journal_mode=WAL")
        # WAL with synchronous=NORMAL never corrupts; a power cut may lose the last batch.
        db.execute("PRAGMA synchronous=NORMAL")
        # Index pages are updated at random places (URLs, times); 32 MiB (the default is
        # 2 MiB) keeps those of a large store's import in memory between batches.
        db.execute(f"PRAGMA cache_size={-_CACHE_KIB}")
        if state == "old" and version >= SCHEMA_VERSION:
            _stamp(db, timeout)
    except BaseException:
        db.close()
        raise
    return db, state == "new" or version < SCHEMA_VERSION


def _ownership(db: sqlite3.Connection, path: str) -> tuple[Literal["new", "ours", "old"], int]:
    """Whose database ``db`` is, and its schema version; refuses one that is not newsstore's.

    ``ours``: it carries :data:`APPLICATION_ID`. ``old``: written before the id, known by
    its ``user_version`` (1 to :data:`SCHEMA_VERSION`) and its ``snapshots`` table, whose
    columns every version had. ``new``: nothing in it yet (an empty or new file). Anything
    else raises :class:`~newsstore.StoreUnavailableError`; only reads were made.
    """
    if db.in_transaction:
        return _read_ownership(db, path)
    # One read transaction: a process creating the store may commit between two reads,
    # and an id read before its commit with a table count read after is no store at all.
    db.execute("BEGIN")
    try:
        return _read_ownership(db, path)
    finally:
        db.execute("COMMIT")


def _read_ownership(db: sqlite3.Connection, path: str) -> tuple[Literal["new", "ours", "old"], int]:
    app_id = db.execute("PRAGMA application_id").fetchone()[0] & 0xFFFFFFFF
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if app_id == APPLICATION_ID:
        if version > SCHEMA_VERSION:
            # Its later tables are kept by code this version does not have: writing to it
            # would leave them behind (a count that stops adding up), reading may misread.
            raise StoreUnavailableError(
                f"{path}: a store of a newer newsstore (schema {version}, this one knows up"
                f" to {SCHEMA_VERSION}); upgrade newsstore to open it; left untouched"
            )
        return "ours", version
    if app_id:
        why = f"its application_id is {app_id:#010x}, newsstore's is {APPLICATION_ID:#010x}"
    else:
        objects = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if not objects and not version:
            return "new", version
        if 1 <= version <= SCHEMA_VERSION and _table_columns(db, "snapshots") >= _SNAPSHOTS:
            return "old", version
        why = f"a SQLite database with {objects} tables, indexes or views newsstore did not write"
    raise StoreUnavailableError(f"{path}: not a newsstore store ({why}); left untouched")


def _stamp(db: sqlite3.Connection, timeout: float) -> None:
    """Set the application id of a current store written before it, if that is free to do.

    A reader must not wait for a writer, or fail on a read-only file, for this: the lock is
    tried once, and a later open stamps the store when this one could not.
    """
    db.execute("PRAGMA busy_timeout=0")
    try:
        db.execute("BEGIN IMMEDIATE")
        db.execute(f"PRAGMA application_id={APPLICATION_ID}")
        db.execute("COMMIT")
    except sqlite3.OperationalError:  # locked by a writer, or read-only
        if db.in_transaction:
            db.execute("ROLLBACK")
    finally:
        db.execute(f"PRAGMA busy_timeout={min(int(timeout * 1000), 2**31 - 1)}")


def create_schema(
    db: sqlite3.Connection, path: str, progress: Callable[[int, int], None] | None = None
) -> None:
    """Create the tables of :data:`SCHEMA_VERSION` in ``db``, or upgrade older ones.

    Runs inside the caller's write transaction (which holds the write lock). ``path`` names
    the file in the refusal of a database that another program wrote to meanwhile.
    ``progress(done, total)`` follows the snapshots an upgrade goes through.
    """
    # Another process may have created or upgraded the file while this one waited for the
    # lock, or (however unlikely) another program may have written to it.
    state, version = _ownership(db, path)
    if state == "ours" and version >= SCHEMA_VERSION:
        return
    if version < SCHEMA_VERSION:
        _upgrade(db, version, progress)
    db.execute(f"PRAGMA application_id={APPLICATION_ID}")
    db.execute(f"PRAGMA user_version={max(version, SCHEMA_VERSION)}")


def _upgrade(
    db: sqlite3.Connection, version: int, progress: Callable[[int, int], None] | None
) -> None:
    # Version 1 and 2 tables: items by time, lines by key (only ever newsstore's own: the
    # caller checked whose database this is).
    rebuild_items = "published_at" in _table_columns(db, "items")
    if rebuild_items:
        db.execute("DROP TABLE items")
    if "key" in _table_columns(db, "lines"):
        db.execute("DROP TABLE lines")
    for statement in statements(_SCHEMA + ITEM_DAYS):
        db.execute(statement)
    if rebuild_items:
        _reindex_items(db)
    if version < 4:
        db.execute(
            "DELETE FROM history WHERE EXISTS (SELECT 1 FROM snapshots s"
            " WHERE s.key = history.key AND s.content_hash = history.content_hash)"
        )
    if version < 5:
        _add_store_meta(db)
    if version < 6:
        _add_version_times(db)
    if version < 7:
        _count_distinct_records(db)
    if version < 8:
        add_fingerprints(db, progress)
    if version < 9:
        add_story_times(db)
    if version < 10:
        add_copies(db)
    if version < 11:
        add_tallies(db)
    if version < 12 and not rebuild_items:  # rebuilt items have their days
        _keep_item_days(db)


def _keep_item_days(db: sqlite3.Connection) -> None:
    """Version 12: ``item_days`` from ``items`` (read in snapshot order on the index it
    replaces), then the index goes. OR IGNORE: days kept already are the rows' own."""
    db.execute(
        "INSERT OR IGNORE INTO item_days SELECT snapshot_id, json_group_array(day) FROM items"
        " GROUP BY snapshot_id"
    )
    db.execute("DROP INDEX IF EXISTS items_snapshot")


def _add_store_meta(db: sqlite3.Connection) -> None:
    """Version 5: the ``meta`` table, name -> JSON value. An upgraded store has no row yet:
    the first writer to open it records its settings (see ``.meta``)."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID"
    )


# What ``find --changed`` reads (schema 6), every one covering, so that a day's window never
# reads a table row (on a large store those are random reads of a file bigger than memory).
# The snapshots ones are partial: only keys with several contents, a few in a hundred (they
# hold ``hashes`` too, as SQLite reads the column of the condition to check it).
VERSION_INDEX = """
CREATE INDEX IF NOT EXISTS history_snapshot ON history (snapshot_at, key);
CREATE INDEX IF NOT EXISTS history_versions ON history (key, snapshot_at, content_hash);
CREATE INDEX IF NOT EXISTS snapshots_versioned ON snapshots (snapshot_at, key, hashes)
    WHERE json_array_length(hashes) > 1;
CREATE INDEX IF NOT EXISTS snapshots_versions
    ON snapshots (key, snapshot_at, content_hash, url, hashes) WHERE json_array_length(hashes) > 1;
"""


def _add_version_times(db: sqlite3.Connection) -> None:
    """Schema 6: when each version was first and last seen, and history by snapshot time.

    The columns are added to the tables of older stores (a new store's are in ``_SCHEMA``,
    before ``content``; see ``_ADDED``). Older stores knew these times for a key's
    only content (its first and last seen), not for the versions of a key with several:
    those stay NULL, read as unknown.
    """
    for table, names in (
        ("history", ("first_seen", "last_seen")),
        ("snapshots", ("version_first_seen", "version_last_seen")),
    ):
        present = _table_columns(db, table)
        for name in names:
            if name not in present:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {name} INTEGER")
    for statement in VERSION_INDEX.split(";"):
        if statement.strip():
            db.execute(statement)


def _count_distinct_records(db: sqlite3.Connection) -> None:
    """Version 7: ``seen_count`` counts distinct input records, whose ids ``records`` keeps.

    Added to an older store's ``snapshots`` (a new store has it; see ``_ADDED``). A store of an
    earlier version keeps the counts it has (every sighting until then) and adds distinct
    records from now on. Its remembered lines go: a line is counted when it is saved, and
    these were saved uncounted (the line layout names the version, so they would never be
    recalled anyway).
    """
    if "records" not in _table_columns(db, "snapshots"):
        db.execute("ALTER TABLE snapshots ADD COLUMN records TEXT NOT NULL DEFAULT '[]'")
    db.execute("DELETE FROM lines")


def _table_columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def _reindex_items(db: sqlite3.Connection) -> None:
    """Fill ``items`` from the stored snapshots (their JSON holds the items' UTC times)."""
    cursor = db.execute("SELECT id, content FROM snapshots")
    while rows := cursor.fetchmany(1000):
        batch = []
        for snapshot_id, content in rows:
            data = json.loads(content)
            # Stored times are UTC, written "…Z" (which fromisoformat reads from 3.11 on).
            times = [
                datetime.fromisoformat(item["published_at"].removesuffix("Z"))
                for kind in KINDS
                for item in data.get(kind) or ()
            ]
            utc = [t if t.tzinfo is None else t.astimezone(UTC) for t in times]
            batch.append((snapshot_id, item_days(utc)))
        insert_items(db, batch)
