"""The MongoDB store, through pymongo (the only module that imports it).

Why the dedup holds on a replica set and on a sharded cluster: the dedup key *is* the
``_id`` of the ``snapshots`` collection. ``_id`` is unique on every deployment, and a
sharded collection must be sharded on ``_id`` (``{_id: "hashed"}`` spreads canonical URLs
evenly), so the uniqueness is enforced by the shard that owns the key — no secondary unique
index, which a sharded cluster cannot enforce across shards, is needed. ``history`` and
``tombstones`` are keyed the same way (``"<key> <content hash>"`` and the key).

Writers never read-then-write unguarded. A batch loads the states of its keys, decides with
the shared rules, and sends one unordered bulk write in which:

* a new key is an insert: a concurrent insert of the same key fails with a duplicate-key
  error (11000);
* a new current content is an upsert filtered on ``{_id, rev}``: if another writer changed
  the key meanwhile, the filter matches nothing, the upsert tries to insert an existing
  ``_id`` and fails with 11000 too;
* seen counts, last-seen times and URL spellings are ``$inc``/``$max``/``$addToSet``, which
  commute, so they need no guard; history entries are idempotent upserts.

Keys that failed with 11000 are re-loaded and re-planned; the user never sees the error.
"""

from __future__ import annotations

import warnings
from collections import abc
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime, tzinfo
from typing import Any

from bson.codec_options import CodecOptions
from bson.errors import InvalidDocument
from pymongo import ASCENDING, DESCENDING, DeleteOne, MongoClient
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError, ConnectionFailure, InvalidName, PyMongoError

from ..._errors import StoreError, StoreUnavailableError
from ..._query import Query
from ..._rules import KeyPlan, KeyState
from ..._schemas import Snapshot, StoredInfo, with_zone
from ..._settings import redact_uri
from ..._times import DEFAULT_TIMEZONE, EPOCH
from ..._versions import SeenTimes, VersionEntry
from ..base import Store
from ..values import QUARTER_MS, Diagnosis, Grouped, Tombstone
from . import versions
from .archive import MongoArchive
from .copies import fingerprint_of
from .doctor import INDEX_VERSION, INDEXES, diagnose
from .ownership import claim
from .raw import EncodedFields, encode_fields
from .similar import MongoSimilar
from .writes import current_op, history_id, record_history_op, spelling_ops

__all__ = ["MongoStore", "connect", "database_of"]

_DUPLICATE_KEY = 11000
_FIELDS = versions.SNAPSHOT_FIELDS


def connect(uri: str, *, timeout_ms: int = 10_000) -> MongoClient[dict[str, Any]]:
    """A client for ``uri``, checked with a ping; errors never show the URI's password.

    An option the driver does not know or cannot use (``connecttimeout=5000``, a typo of
    ``connectTimeoutMS``) is refused: the driver would only warn, and go on without it.
    """
    options: dict[str, Any] = {"tz_aware": True}
    if "serverselectiontimeoutms" not in uri.lower():
        # A timeout written in the URI wins; keyword options would override it.
        options["serverSelectionTimeoutMS"] = timeout_ms
    client: MongoClient[dict[str, Any]] | None = None
    try:
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always", UserWarning)
            client = MongoClient(uri, **options)
        ignored = [str(w.message) for w in warned if issubclass(w.category, UserWarning)]
        if ignored:
            client.close()
            raise StoreUnavailableError(
                f"not a usable MongoDB URI: {redact_uri(uri, uri=uri)}:"
                f" {redact_uri(' '.join(ignored), uri=uri)}"
            )
        client.admin.command("ping")
    except (PyMongoError, ValueError) as exc:  # a malformed port is a plain ValueError
        if client is not None:
            client.close()  # else its monitor threads keep retrying the server
        raise StoreUnavailableError(
            f"cannot reach MongoDB at {redact_uri(uri, uri=uri)}: {redact_uri(str(exc), uri=uri)}"
        ) from None
    return client


def database_of(
    client: MongoClient[dict[str, Any]], name: str | None, default: str
) -> Database[dict[str, Any]]:
    """The database ``name`` of ``client`` (None: the one the URI names, else ``default``);
    a name MongoDB cannot have is refused, and the client closed."""
    try:
        if name == "":
            raise InvalidName("the name is empty")
        return client[name] if name is not None else client.get_default_database(default)
    except InvalidName as exc:
        client.close()
        raise StoreUnavailableError(f"not a MongoDB database name: {name!r}: {exc}") from None


def _document(snapshot: Snapshot) -> EncodedFields:
    """The document's snapshot fields (times in UTC) and fingerprint, at prepare time,
    encoded to BSON once: the operations are spliced from those bytes (see .raw). The fast
    path's validated dict (what model_dump gives, without the model) is encoded by
    :func:`~.raw.encode_fields` itself."""
    return encode_fields(snapshot.model_dump(exclude={"stored"}))


class MongoStore(MongoSimilar, Store):
    """Snapshots in a MongoDB database. Hand it a database; it creates its indexes.

    ``close_client=True`` closes the client with the store (used by ``open_store``);
    ``create`` and ``rekey`` as for :class:`~newsstore.SQLiteStore` (metadata only).
    """

    _payloads = (_document, encode_fields)

    def __init__(
        self,
        database: Database[Any],
        *,
        timezone: str | tzinfo = DEFAULT_TIMEZONE,
        close_client: bool = False,
        tracking_params: abc.Collection[str] | None = None,
        create: bool = True,
        rekey: bool = False,
    ):
        super().__init__(timezone=timezone, tracking_params=tracking_params)
        # Read times as aware UTC and convert in one place, as the SQLite store does.
        options: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True)
        self._database = database
        self._close_client = close_client
        self._snapshots: Collection[dict[str, Any]] = database.get_collection(
            "snapshots", codec_options=options
        )
        self._history_c: Collection[dict[str, Any]] = database.get_collection(
            "history", codec_options=options
        )
        self._tombstones: Collection[dict[str, Any]] = database.get_collection(
            "tombstones", codec_options=options
        )
        self._meta = database.get_collection("meta", codec_options=options)
        with self._errors():
            self._ensure_indexes(claim(self._meta, self._snapshots, str(self), create=create))
        self._archive = MongoArchive(
            self._snapshots,
            self._history_c,
            self._tombstones,
            self._meta,
            self._errors,
            self._bulk,
            self._refresh_copies,
        )
        try:
            self._open_meta(create=create, rekey=rekey)
        except BaseException:
            self.close()
            raise

    def _archive_backend(self) -> MongoArchive:
        return self._archive

    def __str__(self) -> str:
        return f"the MongoDB database {self._database.name}"

    def is_same_store(self, other: Store) -> bool:
        # The same database on servers in common: two seed lists of one replica set share
        # the members the driver has found by now, two deployments share none.
        return (
            isinstance(other, MongoStore)
            and other._database.name == self._database.name
            and not _servers(self).isdisjoint(_servers(other))
        )

    def _ensure_indexes(self, marker: dict[str, Any] | None) -> None:
        """Create the indexes once per store: a marker in ``meta`` (``marker``, as read)
        says they are there, so opening a store costs no round trip per index."""
        if marker is not None and marker.get("version") == INDEX_VERSION:
            return
        if marker is None:
            self._start_copies()
        for name, indexes in INDEXES.items():
            for keys in indexes:
                self._database[name].create_index(keys)  # idempotent: a race is harmless
        self._meta.replace_one({"_id": "indexes"}, {"version": INDEX_VERSION}, upsert=True)

    def diagnose(self) -> Diagnosis:
        with self._errors():
            return diagnose(self._database, self._snapshots)

    def __repr__(self) -> str:
        return f"MongoStore({self._database.name!r})"

    def close(self) -> None:
        if self._close_client:
            self._database.client.close()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except ConnectionFailure as exc:
            raise StoreUnavailableError(f"MongoDB unavailable: {redact_uri(str(exc))}") from exc
        except PyMongoError as exc:
            raise StoreError(f"MongoDB error: {redact_uri(str(exc))}") from exc
        except InvalidDocument as exc:
            # DocumentTooLarge derives from bson's InvalidDocument, not from PyMongoError.
            raise StoreError(f"MongoDB refused a document: {exc}") from exc

    # -- writing -----------------------------------------------------------------------
    def _write_transaction(self) -> AbstractContextManager[Any]:
        # No lock: every write below is guarded by _id uniqueness or commutes.
        return nullcontext()

    def _load_states(self, keys: list[str]) -> tuple[dict[str, KeyState], set[str]]:
        with self._errors():
            states = {
                doc["_id"]: KeyState(
                    doc["_id"],
                    doc["content_hash"],
                    doc.get("snapshot_at"),
                    frozenset(doc.get("hashes", ())),
                    doc["rev"],
                    url=doc.get("url"),
                    records=frozenset(doc.get("records", ())),
                )
                for doc in self._snapshots.find(
                    {"_id": {"$in": keys}},
                    {
                        "content_hash": 1,
                        "snapshot_at": 1,
                        "hashes": 1,
                        "rev": 1,
                        "url": 1,
                        "records": 1,
                    },
                )
            }
            tombstoned = {
                doc["_id"] for doc in self._tombstones.find({"_id": {"$in": keys}}, {"_id": 1})
            }
        return states, tombstoned

    def _write_plans(self, plans: list[KeyPlan], now: datetime) -> set[str]:
        # The current each plan was made against, at its revision: if another writer has
        # replaced it since, that writer archived it, and this plan will lose its race.
        archive = [{"_id": p.key, "rev": p.expected_rev} for p in plans if p.archive_current]
        with self._errors():
            old = {d["_id"]: d for d in self._snapshots.find({"$or": archive})} if archive else {}
        history: list[Any] = []
        for plan in plans:
            if plan.key in old:
                history.append(versions.archived_current_op(plan.key, old[plan.key], now))
            for rec in plan.history:
                history.append(
                    record_history_op(plan.key, rec.content_hash, rec.url, rec.payload, now)
                )
        # History first: if the current write then loses a race, what was archived is still
        # a true version of the key, and history entries are idempotent.
        self._bulk(self._history_c, history)
        self._bulk(self._history_c, versions.reseen_ops(plans, now))
        with self._errors():
            firsts = versions.unarchived_first_seen(self._history_c, plans)
        ops = [current_op(plan, now, firsts.get(plan.key, now)) for plan in plans]
        conflicts = {plans[i].key for i in self._bulk(self._snapshots, ops)}
        # A content current again leaves history once it is current: a reader in between
        # sees it twice, never nowhere.
        unarchived = [
            DeleteOne({"_id": history_id(p.key, p.unarchive)})
            for p in plans
            if p.unarchive is not None and p.key not in conflicts
        ]
        self._bulk(self._history_c, unarchived)
        # A stored content seen under a lesser spelling takes it, after the archiving above.
        current, archived = spelling_ops([p for p in plans if p.key not in conflicts])
        self._bulk(self._snapshots, current)
        self._bulk(self._history_c, archived)
        # The pairs stats counts (see .copies), from the fingerprints just written.
        written = {
            p.key: fingerprint_of(p.current.payload.fingerprint)
            for p in plans
            if p.current is not None and p.key not in conflicts
        }
        self._refresh_copies(list(written), written)
        return conflicts

    def _bulk(self, collection: Collection[dict[str, Any]], ops: list[Any]) -> list[int]:
        """Run an unordered bulk write; the indexes of ops that failed on a duplicate key."""
        if not ops:
            return []
        try:
            with self._errors():
                collection.bulk_write(ops, ordered=False)
        except StoreError as exc:
            cause = exc.__cause__
            if not isinstance(cause, BulkWriteError):
                raise
            errors = cause.details.get("writeErrors", [])
            failed = [e for e in errors if e.get("code") != _DUPLICATE_KEY]
            if failed or cause.details.get("writeConcernErrors"):
                message = failed[0].get("errmsg") if failed else "write concern not satisfied"
                raise StoreError(f"MongoDB write failed: {redact_uri(str(message))}") from cause
            return [e["index"] for e in errors]
        return []

    # -- reading -----------------------------------------------------------------------
    def _snapshot(self, doc: Mapping[str, Any]) -> Snapshot:
        snap = Snapshot.model_validate({name: doc[name] for name in _FIELDS if name in doc})
        snap.stored = StoredInfo(
            key=doc["_id"],
            content_hash=doc["content_hash"],
            urls=doc.get("urls", []),
            first_seen=doc.get("first_seen"),
            last_seen=doc.get("last_seen"),
            seen_count=doc.get("seen_count", 0) + len(doc.get("records", ())),
            version_count=len(doc.get("hashes", ())),
        )
        return with_zone(snap, self.zone)

    def _get(self, key: str) -> Snapshot | None:
        with self._errors():
            doc = self._snapshots.find_one({"_id": key})
        return None if doc is None else self._snapshot(doc)

    def _history(self, key: str) -> list[Snapshot]:
        with self._errors():
            docs = list(
                self._history_c.find({"key": key}).sort(
                    [("snapshot_at", DESCENDING), ("content_hash", DESCENDING)]
                )
            )
        out = []
        for doc in docs:
            snap = Snapshot.model_validate({n: doc[n] for n in _FIELDS if n in doc})
            snap.stored = StoredInfo(
                key=key, content_hash=doc["content_hash"], archived_at=doc["archived_at"]
            )
            out.append(with_zone(snap, self.zone))
        return out

    def _version_times(self, key: str) -> dict[str, SeenTimes]:
        with self._errors():
            return versions.version_times(self._snapshots, self._history_c, key)

    def _version_entries(self, start: datetime | None, end: datetime | None) -> list[VersionEntry]:
        with self._errors():
            return versions.version_entries(self._snapshots, self._history_c, start, end)

    def _filter(self, query: Query) -> dict[str, Any]:
        # Built only from the typed Query: values are literals, never user operators.
        flt: dict[str, Any] = {}
        if query.url is not None:
            column, low, high = self._url_range(query)
            field = "_id" if column == "key" else column
            flt[field] = low if high is None else {"$gte": low, "$lt": high}
        field = query.time_attribute
        bounds: dict[str, Any] = {}
        if query.start is not None:
            bounds["$gte"] = query.start
        if query.end is not None:
            bounds["$lt"] = query.end
        if bounds:
            flt[field] = bounds
        for name in ("category", "source"):
            value = getattr(query, name)
            if value is not None:
                flt[name] = value
        return flt

    def _find(self, query: Query) -> Iterator[Snapshot]:
        field = query.time_attribute
        order = DESCENDING if query.sort == "newest" else ASCENDING
        with self._errors():
            cursor = (
                self._snapshots.find(self._filter(query))
                .sort([(field, order), ("_id", order)])
                .skip(query.offset)
            )
            if query.limit is not None:
                if query.limit == 0:
                    return
                cursor = cursor.limit(query.limit)
            for doc in cursor:
                yield self._snapshot(doc)

    def _count(self, query: Query) -> int:
        with self._errors():
            return self._snapshots.count_documents(self._filter(query))

    def _listing_items(self, start: datetime, end: datetime) -> Iterator[Snapshot]:
        span = {"$gte": start, "$lt": end}
        flt = {"$or": [{"related.published_at": span}, {"more_in_category.published_at": span}]}
        with self._errors():
            for doc in self._snapshots.find(flt):
                yield self._snapshot(doc)

    def _key_by_title(self, title: str, published_at: datetime) -> str | None:
        with self._errors():
            doc = self._snapshots.find_one(
                {"published_at": published_at, "title": title}, {"_id": 1}
            )
        return None if doc is None else str(doc["_id"])

    # -- takedowns ---------------------------------------------------------------------
    def _delete(self, key: str, url: str | None, reason: str, now: datetime) -> Tombstone:
        with self._errors():
            # Tombstone first: an import racing with the takedown is suppressed from here on.
            self._tombstones.update_one(  # the first stands
                {"_id": key},
                {"$setOnInsert": {"url": url, "reason": reason, "deleted_at": now}},
                upsert=True,
            )
            removed = self._snapshots.delete_one({"_id": key}).deleted_count
            removed += self._history_c.delete_many({"key": key}).deleted_count
        self._refresh_copies([key])
        return Tombstone(key, url, reason, now.astimezone(self.zone), removed=removed > 0)

    def _restore(self, key: str) -> bool:
        with self._errors():
            return self._tombstones.delete_one({"_id": key}).deleted_count > 0

    def _tombstone(self, key: str) -> Tombstone | None:
        with self._errors():
            d = self._tombstones.find_one({"_id": key})
        if d is None:
            return None
        return Tombstone(d["_id"], d.get("url"), d["reason"], d["deleted_at"].astimezone(self.zone))

    def tombstones(self) -> list[Tombstone]:
        with self._errors():
            docs = list(self._tombstones.find().sort("deleted_at", DESCENDING))
        return [
            Tombstone(d["_id"], d.get("url"), d["reason"], d["deleted_at"].astimezone(self.zone))
            for d in docs
        ]

    # -- stats -------------------------------------------------------------------------
    def _grouped(self) -> Grouped:
        def count_by(value: Any) -> list[dict[str, Any]]:
            return [{"$group": {"_id": value, "n": {"$sum": 1}}}]

        since_epoch = {"$subtract": ["$published_at", EPOCH]}  # milliseconds
        quarter = {
            "$cond": [
                {"$gt": ["$published_at", None]},  # a date, not null or missing
                {"$floor": {"$divide": [since_epoch, QUARTER_MS]}},
                None,
            ]
        }
        pipeline = [
            {
                "$facet": {
                    "categories": count_by("$category"),
                    "sources": count_by("$source"),
                    "quarters": count_by(quarter),
                }
            }
        ]
        with self._errors():
            (facets,) = list(self._snapshots.aggregate(pipeline))

        def counts(name: str) -> dict[Any, int]:
            return {None if d["_id"] is None else d["_id"]: int(d["n"]) for d in facets[name]}

        quarters = {None if q is None else int(q): n for q, n in counts("quarters").items()}
        return Grouped(counts("categories"), counts("sources"), quarters)

    def _history_count(self) -> int:
        with self._errors():
            return self._history_c.count_documents({})

    def _keys_with_versions(self) -> int:
        with self._errors():
            return self._snapshots.count_documents({"hashes.1": {"$exists": True}})


def _servers(store: MongoStore) -> set[tuple[str, int | None]]:
    """The addresses of the servers ``store``'s client knows (its seeds, then those found)."""
    description = store._database.client.topology_description
    return {(host.lower(), port) for host, port in description.server_descriptions()}
