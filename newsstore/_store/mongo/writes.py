"""The MongoDB write operations a key's plan (:class:`~newsstore._rules.KeyPlan`) turns into.

Every one is safe to race: a new current is conditional on the revision it was planned
against (or an insert, refused on a duplicate ``_id``), history entries are inserted once,
and the rest commutes (``$max``, ``$min``, ``$addToSet``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import InsertOne, UpdateOne

from ..._rules import Incoming, KeyPlan
from ..._urls import host_of, reversed_host
from .similar import FINGERPRINT_FIELDS

__all__ = ["current_op", "fields_of", "history_id", "history_op", "spelling_ops"]


def history_id(key: str, content_hash: str) -> str:
    """The ``_id`` of a history entry."""
    # A canonical URL has no spaces (they are percent-encoded), so this cannot collide.
    return f"{key} {content_hash}"


def fields_of(rec: Incoming) -> dict[str, Any]:
    """The document fields of a record's snapshot (a new dict: callers add to it)."""
    fields: dict[str, Any] = dict(rec.payload)
    fields["url"] = rec.url  # the rules may have given it a lesser spelling
    return fields


def history_op(key: str, content_hash: str, fields: dict[str, Any], now: datetime) -> Any:
    """Archive a content of ``key``."""
    # An entry brings its version's seen times when it has them (a current archived).
    # History is not searched for copies of a story: its entries carry no fingerprint.
    kept = {k: v for k, v in fields.items() if k not in FINGERPRINT_FIELDS}
    doc = dict({"first_seen": now, "last_seen": now}, **kept)
    doc.update(key=key, content_hash=content_hash, archived_at=now)
    # A duplicate-key error here means a concurrent writer archived the same version.
    return UpdateOne({"_id": history_id(key, content_hash)}, {"$setOnInsert": doc}, upsert=True)


def current_op(plan: KeyPlan, now: datetime, first: datetime | None) -> Any:
    """The write of a key's current document: insert, conditional replace, or touch.

    ``first`` is when a new current content was first seen (``now`` unless it comes back
    from history)."""
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
    if plan.current is None:
        return UpdateOne({"_id": plan.key}, touch)
    fields = fields_of(plan.current)
    fields["content_hash"] = plan.current.content_hash
    fields |= {"version_first_seen": first, "version_last_seen": now}
    if plan.expected_rev is None:
        host = None if plan.key.startswith("content:") else reversed_host(host_of(plan.key))
        return InsertOne(
            dict(
                fields,
                _id=plan.key,
                host=host,
                urls=plan.urls,
                hashes=plan.new_hashes,
                first_seen=now,
                last_seen=now,
                seen_count=0,
                records=plan.records,
                rev=1,
            )
        )
    fields["rev"] = plan.expected_rev + 1
    update = dict(touch, **{"$set": fields, "$setOnInsert": {"first_seen": now}})
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
