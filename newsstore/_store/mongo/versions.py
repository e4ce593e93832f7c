"""The MongoDB store's part of versions: each version's seen times, and keys changed in a window.

A current document's ``version_first_seen``/``version_last_seen`` are its content's times
(``first_seen``/``last_seen`` are the key's); a history entry's ``first_seen``/``last_seen``
its own. A window of snapshot times is read on the ``snapshot_at`` indexes of
``snapshots`` and ``history`` (index version 2), then every content of the keys found.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.collection import Collection

from ..._rules import KeyPlan
from ..._schemas import Snapshot
from ..._versions import SeenTimes, VersionEntry
from .writes import history_id, history_op

__all__ = [
    "SNAPSHOT_FIELDS",
    "archived_current_op",
    "archived_times",
    "reseen_ops",
    "unarchived_first_seen",
    "version_entries",
    "version_times",
]

Coll = Collection[dict[str, Any]]
# A document's snapshot fields (what the model holds but ``stored``).
SNAPSHOT_FIELDS = tuple(name for name in Snapshot.model_fields if name != "stored")


def archived_times(current: dict[str, Any]) -> dict[str, Any]:
    """The seen times a current document's content keeps when it goes to history."""
    return {
        "first_seen": current.get("version_first_seen"),
        "last_seen": current.get("version_last_seen"),
    }


def archived_current_op(key: str, current: dict[str, Any], now: datetime) -> Any:
    """Archive the current document of ``key``, as read, with its content's seen times."""
    entry = {name: current.get(name) for name in SNAPSHOT_FIELDS} | archived_times(current)
    return history_op(key, current["content_hash"], entry, now)


def version_times(snapshots: Coll, history: Coll, key: str) -> dict[str, SeenTimes]:
    """First and last seen of each content of ``key``, by content hash (None: unknown)."""
    fields = {"content_hash": 1, "first_seen": 1, "last_seen": 1}
    times = {
        d["content_hash"]: (d.get("first_seen"), d.get("last_seen"))
        for d in history.find({"key": key}, fields)
    }
    doc = snapshots.find_one(
        {"_id": key}, {"content_hash": 1, "version_first_seen": 1, "version_last_seen": 1}
    )
    if doc is not None:
        times[doc["content_hash"]] = (doc.get("version_first_seen"), doc.get("version_last_seen"))
    return times


def version_entries(
    snapshots: Coll, history: Coll, start: datetime | None, end: datetime | None
) -> list[VersionEntry]:
    """Every content of each key that has a content with its snapshot time in the window,
    and more than one content."""
    window: dict[str, Any] = {}
    if start is not None:
        window["$gte"] = start
    if end is not None:
        window["$lt"] = end
    if not window:
        window["$ne"] = None
    keys = {d["key"] for d in history.find({"snapshot_at": window}, {"key": 1})}
    keys.update(
        d["_id"]
        for d in snapshots.find({"snapshot_at": window, "hashes.1": {"$exists": True}}, {"_id": 1})
    )
    if not keys:
        return []
    wanted = {"$in": sorted(keys)}
    fields = {"content_hash": 1, "snapshot_at": 1, "url": 1, "key": 1}
    entries = [
        VersionEntry(d["_id"], d["content_hash"], d.get("snapshot_at"), True, d.get("url"))
        for d in snapshots.find({"_id": wanted}, fields)
    ]
    entries += [
        VersionEntry(d["key"], d["content_hash"], d.get("snapshot_at"), False)
        for d in history.find({"key": wanted}, fields)
    ]
    return entries


def reseen_ops(plans: Iterable[KeyPlan], now: datetime) -> list[Any]:
    """Stored history contents that came again are seen now (run after the history writes)."""
    return [
        UpdateOne({"_id": history_id(p.key, h)}, {"$max": {"last_seen": now}})
        for p in plans
        for h in p.reseen_history
    ]


def unarchived_first_seen(history: Coll, plans: Iterable[KeyPlan]) -> dict[str, Any]:
    """When each content made current again from history was first seen, by key."""
    ids = [history_id(p.key, p.unarchive) for p in plans if p.unarchive is not None]
    if not ids:
        return {}
    return {
        d["key"]: d.get("first_seen")
        for d in history.find({"_id": {"$in": ids}}, {"key": 1, "first_seen": 1})
    }
