"""The MongoDB write operations a key's plan (:class:`~newsstore._rules.KeyPlan`) turns into.

Every one is safe to race: a new current is conditional on the revision it was planned
against (or an insert, refused on a duplicate ``_id``), history entries are inserted once,
and the rest commutes (``$max``, ``$min``, ``$addToSet``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import InsertOne, UpdateOne

from ..._rules import KeyPlan
from ..._urls import host_of, reversed_host
from .raw import EncodedFields, document
from .similar import FINGERPRINT_FIELDS

__all__ = [
    "current_op",
    "history_id",
    "history_op",
    "record_history_op",
    "spelling_ops",
    "touch_of",
]


def history_id(key: str, content_hash: str) -> str:
    """The ``_id`` of a history entry."""
    # A canonical URL has no spaces (they are percent-encoded), so this cannot collide.
    return f"{key} {content_hash}"


def history_op(key: str, content_hash: str, fields: dict[str, Any], now: datetime) -> Any:
    """Archive a stored content of ``key`` (``fields``: read from its document)."""
    # An entry brings its version's seen times when it has them (a current archived).
    # History is not searched for copies of a story: its entries carry no fingerprint.
    kept = {k: v for k, v in fields.items() if k not in FINGERPRINT_FIELDS}
    doc = dict({"first_seen": now, "last_seen": now}, **kept)
    doc.update(key=key, content_hash=content_hash, archived_at=now)
    # A duplicate-key error here means a concurrent writer archived the same version.
    return UpdateOne({"_id": history_id(key, content_hash)}, {"$setOnInsert": doc}, upsert=True)


def record_history_op(
    key: str,
    content_hash: str,
    url: str | None,
    fields: EncodedFields,
    now: datetime,
    *,
    first: datetime | None = None,
    last: datetime | None = None,
) -> Any:
    """Archive a record's content of ``key``, spelled ``url``: :func:`history_op` of its
    fields, spliced from their BSON; seen ``first`` and ``last`` where known, else now."""
    doc = document(
        {"first_seen": first or now, "last_seen": last or now, "url": url},
        fields.body,
        {"key": key, "content_hash": content_hash, "archived_at": now},
    )
    return UpdateOne({"_id": history_id(key, content_hash)}, {"$setOnInsert": doc}, upsert=True)


def touch_of(plan: KeyPlan, now: datetime) -> dict[str, Any]:
    """The update operators a key's write always carries: its last-seen time and what the
    records add (record ids, spellings, content hashes)."""
    # seen_count counts distinct records: those of plan.records were not among the key's
    # when it was planned; $addToSet keeps them once, and seen_count is read as the count
    # kept before records were (an older store's) plus their number.
    touch: dict[str, Any] = {"$max": {"last_seen": now}}
    if plan.reseen_current and plan.current is None:
        touch["$max"]["version_last_seen"] = now
    add: dict[str, Any] = {}
    if plan.records:
        add["records"] = {"$each": plan.records}
    if plan.urls:
        add["urls"] = {"$each": plan.urls}
    if plan.new_hashes:
        add["hashes"] = {"$each": plan.new_hashes}
    if add:
        touch["$addToSet"] = add
    return touch


def current_op(plan: KeyPlan, now: datetime, first: datetime | None) -> Any:
    """The write of a key's current document: insert, conditional replace, or touch.

    ``first`` is when a new current content was first seen (``now`` unless it comes back
    from history)."""
    touch = touch_of(plan, now)
    if plan.current is None:
        return UpdateOne({"_id": plan.key}, touch)
    # The snapshot's fields are spliced from their BSON, in the order of the dict they
    # stand for: url (the record's spelling: the rules may have given it a lesser one),
    # the fields, the fingerprint, then what is added here.
    rec = plan.current
    fields: EncodedFields = rec.payload
    version: dict[str, Any] = {
        "content_hash": rec.content_hash,
        "version_first_seen": first,
        "version_last_seen": now,
    }
    if plan.expected_rev is None:
        host = None if plan.key.startswith("content:") else reversed_host(host_of(plan.key))
        key = {
            "host": host,
            "urls": plan.urls,
            "hashes": plan.new_hashes,
            "first_seen": now,
            "last_seen": now,
            "seen_count": 0,
            "records": plan.records,
            "rev": 1,
        }
        head = {"_id": plan.key, "url": rec.url}
        return InsertOne(document(head, fields.body, fields.fingerprint | version | key))
    version["rev"] = plan.expected_rev + 1
    new = document({"url": rec.url}, fields.body, fields.fingerprint | version)
    update = dict(touch, **{"$set": new, "$setOnInsert": {"first_seen": now}})
    # upsert: when another writer bumped rev, the filter misses and the insert of an
    # existing _id fails with a duplicate-key error, which is how the race is detected.
    return UpdateOne({"_id": plan.key, "rev": plan.expected_rev}, update, upsert=True)


def spelling_ops(plans: list[KeyPlan]) -> tuple[list[Any], list[Any]]:
    """Lower the ``url`` of stored contents to the lesser spellings the plans saw: the ops
    on the current documents and on history. ``$min`` compares strings by their UTF-8
    bytes, which is code point order, as the rules compare."""
    seen = [(p.key, h, url) for p in plans for h, url in p.spellings.items()]
    current = [UpdateOne({"_id": k, "content_hash": h}, {"$min": {"url": u}}) for k, h, u in seen]
    archived = [UpdateOne({"_id": history_id(k, h)}, {"$min": {"url": u}}) for k, h, u in seen]
    return current, archived
