"""The MongoDB store's body fingerprints: the fields, the lookups and the backfill.

Each ``snapshots`` document carries ``minhash``, the MinHash signature of its body
(:mod:`newsstore._minhash`, 128 bytes; null when the body is too short), and ``bands``, its
band keys, under one multikey index: a lookup is one ``$in`` on that index. Both fields are
written with the snapshot's other fields, so a new current content replaces them; history
entries do not carry them. Documents written before the fingerprints have neither field
until :meth:`MongoSimilar.backfill` gives them one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, tzinfo
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.collection import Collection
from pymongo.cursor import Cursor
from pymongo.database import Database

from ..._errors import NotFoundError
from ..._minhash import bands, signature
from ..._similar import Fingerprinted
from . import copies

__all__ = [
    "BANDS_INDEX",
    "CLUSTERS_INDEX",
    "FINGERPRINT_FIELDS",
    "MongoSimilar",
    "fingerprint_fields",
]

FINGERPRINT_FIELDS = frozenset({"minhash", "bands"})
BANDS_INDEX = [("bands", ASCENDING)]
# Covers what ``clusters`` reads (publication time first, then every field it projects), so
# that a day is one range of index keys and no document is fetched: on a collection larger
# than memory each fetch is a random read.
CLUSTERS_INDEX = [
    ("published_at", ASCENDING),
    ("_id", ASCENDING),
    ("url", ASCENDING),
    ("source", ASCENDING),
    ("snapshot_at", ASCENDING),
    ("minhash", ASCENDING),
]
_BATCH = 500
_PROJECTION = {"url": 1, "source": 1, "published_at": 1, "snapshot_at": 1, "minhash": 1}


def fingerprint_fields(paragraphs: Sequence[str]) -> dict[str, Any]:
    """The fingerprint fields of a body of ``paragraphs``."""
    sig = signature(paragraphs)
    return {"minhash": sig, "bands": [] if sig is None else bands(sig)}


class MongoSimilar:
    """The near-duplicate primitives of :class:`~newsstore.MongoStore`."""

    zone: tzinfo
    _snapshots: Collection[dict[str, Any]]
    _meta: Collection[dict[str, Any]]
    _database: Database[Any]

    def _errors(self) -> AbstractContextManager[None]:
        raise NotImplementedError  # MongoStore's

    def _fingerprinted_docs(self, cursor: Cursor[dict[str, Any]]) -> Iterator[Fingerprinted]:
        with self._errors():
            docs = list(cursor)
        for doc in docs:
            sig = doc.get("minhash")
            if sig is None:
                continue

            def when(t: datetime | None) -> datetime | None:
                return None if t is None else t.astimezone(self.zone)

            yield Fingerprinted(
                doc["_id"],
                doc.get("url"),
                doc.get("source"),
                when(doc.get("published_at")),
                when(doc.get("snapshot_at")),
                bytes(sig),
            )

    # -- the pairs stats counts (see .copies) --------------------------------------------
    @property
    def _copies(self) -> Collection[dict[str, Any]]:
        return self._database.get_collection("copies")

    def _refresh_copies(
        self, keys: list[str], written: Mapping[str, copies.Fingerprint] | None = None
    ) -> None:
        """Pair the keys just written (or taken down) anew; ``written``: the fingerprints
        just written of some of them."""
        with self._errors():
            copies.refresh(self._snapshots, self._copies, keys, written)

    def _start_copies(self) -> None:
        """A database opened for the first time: its pairs are complete while it is empty."""
        if self._snapshots.find_one({}, {"_id": 1}) is None:
            self._meta.replace_one({"_id": "copies"}, {"complete": True}, upsert=True)

    def _copies_complete(self) -> bool:
        with self._errors():
            marker = self._meta.find_one({"_id": "copies"})
        return marker is not None and bool(marker.get("complete"))

    def _near_duplicates(self, max_distance: int) -> int | None:
        if not self._copies_complete():
            return None
        with self._errors():
            return copies.count(self._copies, max_distance)

    def _signature_of(self, key: str, asked: str) -> bytes | None:
        with self._errors():
            doc = self._snapshots.find_one({"_id": key}, {"minhash": 1, "paragraphs": 1})
        if doc is None:
            raise NotFoundError(f"no snapshot for {asked} (key {key})")
        if "minhash" not in doc:  # not backfilled yet
            return signature(doc.get("paragraphs") or ())
        return None if doc["minhash"] is None else bytes(doc["minhash"])

    def _sharing_band(self, band_keys: list[int]) -> Iterator[Fingerprinted]:
        if not band_keys:
            return iter(())
        return self._fingerprinted_docs(
            self._snapshots.find({"bands": {"$in": band_keys}}, _PROJECTION)
        )

    def _fingerprinted(self, start: datetime, end: datetime) -> Iterator[Fingerprinted]:
        return self._fingerprinted_docs(self._published_in(start, end))

    def _published_in(self, start: datetime, end: datetime) -> Cursor[dict[str, Any]]:
        """What ``clusters`` reads: the time alone, so that CLUSTERS_INDEX covers the query
        (documents without a signature are skipped as they are read)."""
        flt = {"published_at": {"$gte": start, "$lt": end}}
        cursor: Cursor[dict[str, Any]] = self._snapshots.find(flt, _PROJECTION)
        cursor.hint(CLUSTERS_INDEX)  # sets it on the cursor
        return cursor

    def backfill(self, *, progress: Callable[[int, int], None] | None = None) -> int:
        """Fingerprint the snapshots stored before fingerprints existed; returns how many.

        Resumable: each batch of 500 is written on its own, and the next run picks up the
        documents that still have no ``minhash``. A document rewritten meanwhile got its
        fingerprint with the write; the guard on its revision leaves it alone.
        ``progress(done, total)`` is called after each batch. A store whose pairs of near
        snapshots (what ``stats`` counts) are not complete then gets them, every snapshot
        once, resuming where an interrupted run stopped.
        """
        missing = {"minhash": {"$exists": False}}
        with self._errors():
            total = self._snapshots.count_documents(missing)
        done = 0
        last: Any = None
        while True:
            flt = missing if last is None else {**missing, "_id": {"$gt": last}}
            with self._errors():
                docs = list(
                    self._snapshots.find(flt, {"paragraphs": 1, "rev": 1})
                    .sort("_id", ASCENDING)
                    .limit(_BATCH)
                )
            if not docs:
                break
            ops = [
                UpdateOne(
                    {"_id": doc["_id"], "rev": doc.get("rev"), **missing},
                    {"$set": fingerprint_fields(doc.get("paragraphs") or ())},
                )
                for doc in docs
            ]
            with self._errors():
                self._snapshots.bulk_write(ops, ordered=False)
            self._refresh_copies([doc["_id"] for doc in docs])
            last = docs[-1]["_id"]
            done += len(docs)
            if progress is not None:
                progress(done, total)
        if not self._copies_complete():
            self._pair_all(progress)
        return done

    def _pair_all(self, progress: Callable[[int, int], None] | None) -> None:
        """Pair every stored fingerprint, 500 keys at a time, resuming after the last key
        an interrupted run recorded; then mark the pairs complete."""
        with self._errors():
            marker = self._meta.find_one({"_id": "copies"}) or {}
            total = self._snapshots.count_documents({})
        last: Any = marker.get("after")
        done = 0
        while True:
            flt = {} if last is None else {"_id": {"$gt": last}}
            with self._errors():
                keys = [
                    doc["_id"]
                    for doc in self._snapshots.find(flt, {"_id": 1})
                    .sort("_id", ASCENDING)
                    .limit(_BATCH)
                ]
            if not keys:
                break
            self._refresh_copies(keys)
            last = keys[-1]
            with self._errors():
                self._meta.replace_one({"_id": "copies"}, {"after": last}, upsert=True)
            done += len(keys)
            if progress is not None:
                progress(done, total)
        with self._errors():
            self._meta.replace_one({"_id": "copies"}, {"complete": True}, upsert=True)
