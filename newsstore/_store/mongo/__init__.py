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

from collections import abc
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime, tzinfo
from typing import Any

from bson.codec_options import CodecOptions
from bson.errors import InvalidDocument
from pymongo import ASCENDING, DESCENDING, DeleteOne, InsertOne, MongoClient, UpdateOne
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError, ConnectionFailure, PyMongoError

from ..._errors import StoreError, StoreUnavailableError
from ..._fastprepare import preparer
from ..._query import Query
from ..._rules import Incoming, KeyPlan, KeyState
from ..._schemas import Snapshot, StoredInfo, with_zone
from ..._settings import redact_uri
from ..._times import DEFAULT_TIMEZONE, EPOCH
from ..._urls import host_of, reversed_host
from ..base import Store
from ..values import QUARTER_MS, Diagnosis, Grouped, Tombstone
from .raw import document, elements, embedded, encode_fields

__all__ = ["MongoStore", "connect"]

_DUPLICATE_KEY = 11000
_FIELDS = tuple(name for name in Snapshot.model_fields if name != "stored")
_INDEXES: dict[str, list[list[tuple[str, int]]]] = {
    "snapshots": [
        [("published_at", DESCENDING)],
        [("snapshot_at", DESCENDING)],
        [("category", ASCENDING), ("published_at", DESCENDING)],
        [("source", ASCENDING), ("published_at", DESCENDING)],
        [("host", ASCENDING)],
        [("related.published_at", ASCENDING)],
        [("more_in_category.published_at", ASCENDING)],
    ],
    "history": [[("key", ASCENDING), ("snapshot_at", DESCENDING)]],
}


# Raise when _INDEXES changes: opening a store then creates the new ones.
_INDEX_VERSION = 1


def _index_name(keys: list[tuple[str, int]]) -> str:
    # The name MongoDB gives an index it is not told to name.
    return "_".join(f"{field}_{direction}" for field, direction in keys)


def connect(uri: str, *, timeout_ms: int = 10_000) -> MongoClient[dict[str, Any]]:
    """A client for ``uri``, checked with a ping; errors never show the URI's password."""
    options: dict[str, Any] = {"tz_aware": True}
    if "serverselectiontimeoutms" not in uri.lower():
        # A timeout written in the URI wins; keyword options would override it.
        options["serverSelectionTimeoutMS"] = timeout_ms
    client: MongoClient[dict[str, Any]] | None = None
    try:
        client = MongoClient(uri, **options)
        client.admin.command("ping")
    except (PyMongoError, ValueError) as exc:  # a malformed port is a plain ValueError
        if client is not None:
            client.close()  # else its monitor threads keep retrying the server
        raise StoreUnavailableError(
            f"cannot reach MongoDB at {redact_uri(uri, uri=uri)}: {redact_uri(str(exc), uri=uri)}"
        ) from None
    return client


def _history_id(key: str, content_hash: str) -> str:
    # A canonical URL has no spaces (they are percent-encoded), so this cannot collide.
    return f"{key} {content_hash}"


class MongoStore(Store):
    """Snapshots in a MongoDB database. Hand it a database; it creates its indexes.

    ``close_client=True`` closes the client with the store (used by ``open_store``).
    """

    def __init__(
        self,
        database: Database[Any],
        *,
        timezone: str | tzinfo = DEFAULT_TIMEZONE,
        close_client: bool = False,
        tracking_params: abc.Collection[str] | None = None,
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
            self._ensure_indexes()

    def _ensure_indexes(self) -> None:
        """Create the indexes once per store: a marker in ``meta`` says they are there, so
        opening a store costs one round trip, not one per index."""
        marker = self._meta.find_one({"_id": "indexes"})
        if marker is not None and marker.get("version") == _INDEX_VERSION:
            return
        for name, indexes in _INDEXES.items():
            for keys in indexes:
                self._database[name].create_index(keys)  # idempotent: a race is harmless
        self._meta.replace_one({"_id": "indexes"}, {"version": _INDEX_VERSION}, upsert=True)

    def diagnose(self) -> Diagnosis:
        with self._errors():
            admin = self._database.client.admin
            build = admin.command("buildInfo")
            hello = admin.command("hello")
            present = {name: set(self._database[name].index_information()) for name in _INDEXES}
        if hello.get("msg") == "isdbgrid":
            topology = "sharded cluster (mongos)"
        elif hello.get("setName"):
            topology = f"replica set {hello['setName']}"
        else:
            topology = "standalone"
        concern = self._snapshots.write_concern.document or {}
        retry = self._database.client.options.retry_writes
        retries = "on" if retry else "off"
        writes = f"write concern {concern or 'server default'}, retryable writes {retries}"
        indexes = {
            f"{name}.{_index_name(keys)}": _index_name(keys) in present[name]
            for name, specs in _INDEXES.items()
            for keys in specs
        }
        notes = []
        if build.get("gitVersion") == "mongoeco":
            notes.append("mongoeco (a test server): it scans instead of using indexes")
        if topology == "standalone":
            notes.append("a standalone server: no replication, no failover")
        if topology != "standalone" and concern.get("w") != "majority":
            notes.append("writes are acknowledged before a majority has them (w != majority)")
        return Diagnosis(
            store=f"MongoDB database {self._database.name}",
            server=f"MongoDB {build.get('version', '?')}",
            topology=topology,
            writes=writes,
            indexes=indexes,
            notes=notes,
        )

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
                )
                for doc in self._snapshots.find(
                    {"_id": {"$in": keys}},
                    {"content_hash": 1, "snapshot_at": 1, "hashes": 1, "rev": 1},
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
                doc = old[plan.key]
                entry = {name: doc.get(name) for name in _FIELDS}
                history.append(self._history_op(plan.key, doc["content_hash"], entry, now))
            for rec in plan.history:
                history.append(self._history_op(plan.key, rec.content_hash, self._fields(rec), now))
        # History first: if the current write then loses a race, what was archived is still
        # a true version of the key, and history entries are idempotent.
        self._bulk(self._history_c, history)
        conflicts = {
            plans[i].key
            for i in self._bulk(self._snapshots, [self._current_op(plan, now) for plan in plans])
        }
        # A content current again leaves history once it is current: a reader in between
        # sees it twice, never nowhere.
        unarchived = [
            DeleteOne({"_id": _history_id(p.key, p.unarchive)})
            for p in plans
            if p.unarchive is not None and p.key not in conflicts
        ]
        self._bulk(self._history_c, unarchived)
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

    def _payload(self, snapshot: Snapshot) -> bytes:
        # The document's snapshot fields (times in UTC), encoded once at prepare time.
        return encode_fields(snapshot.model_dump(exclude={"stored"}))

    def _raw_preparer(self) -> abc.Callable[[bytes, dict[str, Any]], Incoming | None] | None:
        # The validated dict is the document (what model_dump gives, without the model).
        return preparer(self.tracking_params, encode_fields)

    @staticmethod
    def _fields(rec: Incoming) -> bytes:
        """The BSON elements of ``rec``'s snapshot fields (see :mod:`.raw`)."""
        fields: bytes = rec.payload
        return fields

    @staticmethod
    def _history_op(
        key: str, content_hash: str, fields: bytes | dict[str, Any], now: datetime
    ) -> Any:
        body = fields if isinstance(fields, bytes) else elements(fields)
        more = elements({"key": key, "content_hash": content_hash, "archived_at": now})
        # A duplicate-key error here means a concurrent writer archived the same version.
        return UpdateOne(
            {"_id": _history_id(key, content_hash)},
            document(embedded("$setOnInsert", body + more)),
            upsert=True,
        )

    def _current_op(self, plan: KeyPlan, now: datetime) -> Any:
        touch: dict[str, Any] = {"$inc": {"seen_count": plan.seen}, "$max": {"last_seen": now}}
        add: dict[str, Any] = {}
        if plan.urls:
            add["urls"] = {"$each": plan.urls}
        if plan.new_hashes:
            add["hashes"] = {"$each": plan.new_hashes}
        if add:
            touch["$addToSet"] = add
        if plan.current is None:
            return UpdateOne({"_id": plan.key}, touch)
        # Spliced from the fields' BSON, in the order of the dicts they stand for:
        # {_id, **fields, content_hash, host, …} and {**touch, $set: {**fields,
        # content_hash, rev}, $setOnInsert: {first_seen}}.
        fields = self._fields(plan.current)
        content_hash = plan.current.content_hash
        if plan.expected_rev is None:
            host = None if plan.key.startswith("content:") else reversed_host(host_of(plan.key))
            rest = {
                "content_hash": content_hash,
                "host": host,
                "urls": plan.urls,
                "hashes": plan.new_hashes,
                "first_seen": now,
                "last_seen": now,
                "seen_count": plan.seen,
                "rev": 1,
            }
            return InsertOne(document(elements({"_id": plan.key}), fields, elements(rest)))
        new = elements({"content_hash": content_hash, "rev": plan.expected_rev + 1})
        update = document(
            elements(touch),
            embedded("$set", fields + new),
            elements({"$setOnInsert": {"first_seen": now}}),
        )
        # upsert: when another writer bumped rev, the filter misses and the insert of an
        # existing _id fails with a duplicate-key error, which is how the race is detected.
        return UpdateOne({"_id": plan.key, "rev": plan.expected_rev}, update, upsert=True)

    # -- reading -----------------------------------------------------------------------
    def _snapshot(self, doc: Mapping[str, Any]) -> Snapshot:
        snap = Snapshot.model_validate({name: doc[name] for name in _FIELDS if name in doc})
        snap.stored = StoredInfo(
            key=doc["_id"],
            content_hash=doc["content_hash"],
            urls=doc.get("urls", []),
            first_seen=doc.get("first_seen"),
            last_seen=doc.get("last_seen"),
            seen_count=doc.get("seen_count", 0),
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
            self._tombstones.replace_one(
                {"_id": key}, {"url": url, "reason": reason, "deleted_at": now}, upsert=True
            )
            removed = self._snapshots.delete_one({"_id": key}).deleted_count
            removed += self._history_c.delete_many({"key": key}).deleted_count
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
