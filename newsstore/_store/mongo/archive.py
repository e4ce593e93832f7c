"""What dump, restore, copy and re-key need of the MongoDB store (:class:`MongoArchive`).

The store's metadata is the ``store`` document of the ``meta`` collection. Merged writes are
guarded as the import's are: a new key is an insert, an existing one an upsert filtered on
``{_id, rev}``, so a concurrent writer makes it fail with a duplicate key and the key is
merged again; history entries are ``$setOnInsert`` upserts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DeleteMany, DeleteOne, InsertOne, UpdateOne
from pymongo.collection import Collection

from ..._archive import Current, Merge, StoreMeta, Version
from ..._identity import utc_content
from ..._rules import StoredKey
from ..._schemas import Snapshot
from ..._urls import host_of, reversed_host
from ..values import Tombstone
from .copies import Fingerprint, fingerprint_of
from .raw import EncodedFields, document
from .versions import SNAPSHOT_FIELDS, archived_current_op
from .writes import history_id, record_history_op

__all__ = ["MongoArchive"]

_PAGE = 500


def _content(doc: dict[str, Any]) -> bytes:
    """The hashed JSON of a stored document, as the SQLite store keeps it."""
    snapshot = Snapshot.model_validate({n: doc[n] for n in SNAPSHOT_FIELDS if n in doc})
    return utc_content(snapshot, copy=False)[1]


def _state(doc: dict[str, Any]) -> StoredKey:
    records = tuple(doc.get("records", ()))
    return StoredKey(
        doc["content_hash"],
        doc.get("snapshot_at"),
        tuple(doc.get("urls", ())),
        tuple(doc.get("hashes", ())),
        doc["first_seen"],
        doc["last_seen"],
        # As the store reads it: the count kept before record ids were, plus their number.
        int(doc.get("seen_count", 0)) + len(records),
        records,
        (doc.get("version_first_seen"), doc.get("version_last_seen")),
    )


def merged_fields(state: StoredKey) -> dict[str, Any]:
    """A merged key's own fields: its record ids are counted apart from ``seen_count``."""
    return {
        "urls": list(state.urls),
        "hashes": list(state.hashes),
        "first_seen": state.first_seen,
        "last_seen": state.last_seen,
        "seen_count": state.seen_count - len(state.records),
        "records": list(state.records),
        "version_first_seen": state.version_seen[0],
        "version_last_seen": state.version_seen[1],
    }


class MongoArchive:
    """The :class:`~newsstore._archive.ArchiveBackend` of one MongoDB database."""

    def __init__(
        self,
        snapshots: Collection[dict[str, Any]],
        history: Collection[dict[str, Any]],
        tombstones: Collection[dict[str, Any]],
        meta: Collection[dict[str, Any]],
        errors: Callable[[], AbstractContextManager[None]],
        bulk: Callable[[Collection[dict[str, Any]], list[Any]], list[int]],
        written: Callable[[list[str], dict[str, Fingerprint]], None],
    ) -> None:
        self._snapshots = snapshots
        self._history = history
        self._tombstones = tombstones
        self._meta = meta
        self._errors = errors
        self._bulk = bulk
        # Told the keys whose current was written or removed (the pairs stats counts).
        self._written = written

    def read_meta(self) -> StoreMeta | None:
        with self._errors():
            doc = self._meta.find_one({"_id": "store"})
        if doc is None:
            return None
        doc.pop("_id", None)
        return StoreMeta.from_json(doc)

    def write_meta(self, meta: StoreMeta) -> None:
        with self._errors():
            self._meta.replace_one({"_id": "store"}, meta.to_json(), upsert=True)

    def counts(self) -> tuple[int, int, int]:
        with self._errors():
            return (
                self._snapshots.count_documents({}),
                self._history.count_documents({}),
                self._tombstones.count_documents({}),
            )

    def currents(self, after: str | None = None, limit: int | None = None) -> Iterator[Current]:
        # Paged by _id (its index), so no cursor stays open across a long dump.
        left = limit
        while left is None or left > 0:
            page = _PAGE if left is None else min(_PAGE, left)
            flt = {} if after is None else {"_id": {"$gt": after}}
            with self._errors():
                docs = list(self._snapshots.find(flt).sort("_id", ASCENDING).limit(page))
            for doc in docs:
                yield Current(doc["_id"], doc.get("url"), _state(doc), _content(doc))
            if len(docs) < page:
                return
            after = docs[-1]["_id"]
            if left is not None:
                left -= len(docs)

    def versions(self, keys: list[str] | None = None) -> Iterator[Version]:
        # "<key> <hash>" ids sort as (key, hash): a key never holds a space.
        if keys is not None:
            with self._errors():
                docs = list(self._history.find({"key": {"$in": keys}}))
            docs.sort(key=lambda d: (d["key"], d["content_hash"]))
            yield from map(self._version, docs)
            return
        after: str | None = None
        while True:
            flt = {} if after is None else {"_id": {"$gt": after}}
            with self._errors():
                docs = list(self._history.find(flt).sort("_id", ASCENDING).limit(_PAGE))
            yield from map(self._version, docs)
            if len(docs) < _PAGE:
                return
            after = docs[-1]["_id"]

    @staticmethod
    def _version(doc: dict[str, Any]) -> Version:
        return Version(
            doc["key"],
            doc.get("url"),
            doc["content_hash"],
            doc["archived_at"],
            _content(doc),
            doc.get("first_seen"),
            doc.get("last_seen"),
        )

    def takedowns(self) -> Iterator[Tombstone]:
        with self._errors():
            docs = list(self._tombstones.find().sort("_id", ASCENDING))
        for d in docs:
            yield Tombstone(d["_id"], d.get("url"), d["reason"], d["deleted_at"])

    def load(self, keys: list[str]) -> tuple[dict[str, tuple[StoredKey, int]], set[str]]:
        projection = {n: 1 for n in ("content_hash", "snapshot_at", "urls", "hashes", "rev")}
        projection |= {"first_seen": 1, "last_seen": 1, "seen_count": 1, "records": 1}
        projection |= {"version_first_seen": 1, "version_last_seen": 1}
        with self._errors():
            docs = list(self._snapshots.find({"_id": {"$in": keys}}, projection))
            states = {d["_id"]: (_state(d), int(d["rev"])) for d in docs}
            tombstoned = {
                d["_id"] for d in self._tombstones.find({"_id": {"$in": keys}}, {"_id": 1})
            }
        return states, tombstoned

    def apply(self, merges: list[Merge], now: datetime) -> set[str]:
        archive = [{"_id": m.key, "rev": m.expected_rev} for m in merges if m.archive_current]
        with self._errors():
            old = {d["_id"]: d for d in self._snapshots.find({"$or": archive})} if archive else {}
        history: list[Any] = []
        for m in merges:
            if m.key in old:
                history.append(archived_current_op(m.key, old[m.key], now))
            for rec, at in m.history:
                fields: EncodedFields = rec.payload
                first, last = m.seen.get(rec.content_hash, (None, None))
                history.append(
                    record_history_op(
                        m.key, rec.content_hash, fields.url, fields, at, first=first, last=last
                    )
                )
        # History first, as the import writes it: an entry is a true version whatever follows.
        self._bulk(self._history, history)
        ops: list[Any] = []
        written: list[Merge] = []
        for m in merges:
            if m.state is None:
                continue
            merged = merged_fields(m.state)
            # The snapshot's fields spliced from their BSON (see .raw), after the merged
            # key's fields, as the dict {**merged, **fields, content_hash} has them.
            parts: list[Any] = []
            if m.current is not None:
                f: EncodedFields = m.current.payload
                parts = [
                    {"url": f.url},
                    f.body,
                    f.fingerprint | {"content_hash": m.current.content_hash},
                ]
            if m.expected_rev is None:
                host = None if m.key.startswith("content:") else reversed_host(host_of(m.key))
                head = {"_id": m.key, **merged}
                ops.append(InsertOne(document(head, *parts, {"host": host, "rev": 1})))
            else:
                flt = {"_id": m.key, "rev": m.expected_rev}
                new = document(merged, *parts, {"rev": m.expected_rev + 1})
                ops.append(UpdateOne(flt, {"$set": new}, upsert=True))
            written.append(m)
        conflicts = {written[i].key for i in self._bulk(self._snapshots, ops)}
        unarchived = [
            DeleteOne({"_id": history_id(m.key, m.unarchive)})
            for m in merges
            if m.unarchive is not None and m.key not in conflicts
        ]
        self._bulk(self._history, unarchived)
        done = {
            m.key: fingerprint_of(m.current.payload.fingerprint)
            for m in written
            if m.current is not None and m.key not in conflicts
        }
        self._written(list(done), done)
        return conflicts

    def remove(self, keys: list[str]) -> None:
        self._bulk(self._snapshots, [DeleteMany({"_id": {"$in": keys}})])
        self._bulk(self._history, [DeleteMany({"key": {"$in": keys}})])
        self._written(keys, {})
