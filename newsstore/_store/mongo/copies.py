"""The MongoDB store's pairs of near snapshots, which ``stats`` counts.

See :mod:`newsstore._copies`. ``copies`` holds one document a pair and order,
``{_id: "<a> <b>", a, b, d}`` (keys ``a`` and ``b``, distance ``d``). After a batch is
written, :func:`refresh` drops the pairs of the keys it wrote and pairs their new
fingerprints again (those the batch wrote, not read back); a takedown drops its key's.
The pairs are written after the snapshots: of two writers storing copies of one story at
once, the later to pair sees the other's. The lookup of a batch's bands reads every other
document sharing one (a band's first 4 found are compared): a page printed thousands of
times costs that many documents read per batch that holds a copy. The ``meta`` document
``copies`` says whether the pairs are complete: a new database's are; a store
fingerprinted before them gets them from ``newsstore backfill``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pymongo import ASCENDING, ReplaceOne
from pymongo.collection import Collection

from ..._copies import PER_BAND, pairs_of

__all__ = ["COPIES_INDEXES", "Fingerprint", "count", "fingerprint_of", "refresh"]

# A current's fingerprint as its document holds it: (minhash or None, bands).
Fingerprint = tuple[bytes | None, list[int]]


def fingerprint_of(fields: dict[str, Any]) -> Fingerprint:
    """The fingerprint of a written current's fingerprint fields (``minhash``, ``bands``)."""
    return fields["minhash"], list(fields["bands"])


# By ``a`` and ``b`` for a refresh; by distance then ``a``, which covers what ``count`` reads.
COPIES_INDEXES = [[("a", ASCENDING)], [("b", ASCENDING)], [("d", ASCENDING), ("a", ASCENDING)]]


def refresh(
    snapshots: Collection[dict[str, Any]],
    copies: Collection[dict[str, Any]],
    keys: Iterable[str],
    written: Mapping[str, Fingerprint] | None = None,
) -> None:
    """Pair ``keys`` anew: their old pairs go, their current fingerprints are compared with
    the stored ones sharing a band, and their old partners are compared again (a few
    queries and one bulk write a batch). ``written``: the fingerprints just written of
    some of them, which need not be read back."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return
    partners = {d["b"] for d in copies.find({"a": {"$in": keys}}, {"b": 1})} - set(keys)
    copies.delete_many({"$or": [{"a": {"$in": keys}}, {"b": {"$in": keys}}]})
    _pair(snapshots, copies, [*keys, *sorted(partners)], written or {})


def _pair(
    snapshots: Collection[dict[str, Any]],
    copies: Collection[dict[str, Any]],
    keys: list[str],
    written: Mapping[str, Fingerprint],
) -> None:
    projection = {"minhash": 1, "bands": 1}
    unread = [k for k in keys if k not in written]
    docs = snapshots.find({"_id": {"$in": unread}}, projection) if unread else ()
    known = [(k, written[k]) for k in keys if k in written]
    known += [(doc["_id"], (doc.get("minhash"), list(doc.get("bands") or ()))) for doc in docs]
    new = {key: (bytes(sig), band_keys) for key, (sig, band_keys) in known if sig is not None}
    if not new:
        return
    wanted = {band for _, band_keys in new.values() for band in band_keys}
    signatures = {key: sig for key, (sig, _) in new.items()}
    # A band's snapshots stored before the batch first (as SQLite lists a band's rows by
    # snapshot id), then the batch's own, which are at hand: only the others are read.
    stored: dict[int, list[str]] = {}
    others = snapshots.find(
        {"bands": {"$in": sorted(wanted)}, "_id": {"$nin": list(new)}}, projection
    )
    for doc in others:
        if doc.get("minhash") is None:
            continue
        signatures[doc["_id"]] = bytes(doc["minhash"])
        for band in doc.get("bands") or ():
            if band in wanted:
                stored.setdefault(band, []).append(doc["_id"])
    by_band = {band: list(stored.get(band, ())) for band in wanted}
    for key, (_, band_keys) in new.items():
        for band in band_keys:
            by_band[band].append(key)
    by_band = {band: ids[:PER_BAND] for band, ids in by_band.items()}
    ops = [
        ReplaceOne({"_id": f"{a} {b}"}, {"a": a, "b": b, "d": d}, upsert=True)
        for a, b, d in sorted(pairs_of(new, by_band, signatures))
    ]
    if ops:
        copies.bulk_write(ops, ordered=False)


def count(copies: Collection[dict[str, Any]], max_distance: int) -> int:
    """How many snapshots have a pair within ``max_distance``: one aggregation of ``copies``."""
    pipeline: list[dict[str, Any]] = [
        {"$match": {"d": {"$lte": max_distance}}},
        {"$group": {"_id": "$a"}},
        {"$count": "n"},
    ]
    found = list(copies.aggregate(pipeline))
    return int(found[0]["n"]) if found else 0
