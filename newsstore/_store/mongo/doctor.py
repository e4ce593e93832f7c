"""The MongoDB store's indexes and its diagnosis (``newsstore doctor``)."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.collection import Collection
from pymongo.database import Database

from ..values import Diagnosis
from .copies import COPIES_INDEXES
from .similar import BANDS_INDEX, CLUSTERS_INDEX

__all__ = ["INDEXES", "INDEX_VERSION", "diagnose", "index_name"]

INDEXES: dict[str, list[list[tuple[str, int]]]] = {
    "snapshots": [
        [("published_at", DESCENDING)],
        [("snapshot_at", DESCENDING)],
        [("category", ASCENDING), ("published_at", DESCENDING)],
        [("source", ASCENDING), ("published_at", DESCENDING)],
        [("host", ASCENDING)],
        [("related.published_at", ASCENDING)],
        [("more_in_category.published_at", ASCENDING)],
        BANDS_INDEX,
        CLUSTERS_INDEX,
    ],
    "history": [[("key", ASCENDING), ("snapshot_at", DESCENDING)], [("snapshot_at", ASCENDING)]],
    "copies": COPIES_INDEXES,
}
# Raise when INDEXES changes: opening a store then creates the new ones.
# 2: history by snapshot time (find --changed). 3: the fingerprints' bands (similar).
# 4: what clusters reads, covered (see CLUSTERS_INDEX). 5: the pairs stats counts (.copies).
INDEX_VERSION = 5


def index_name(keys: list[tuple[str, int]]) -> str:
    """The name MongoDB gives an index it is not told to name."""
    return "_".join(f"{field}_{direction}" for field, direction in keys)


def diagnose(database: Database[Any], snapshots: Collection[Any]) -> Diagnosis:
    """What the database runs on, how writes are made durable, which indexes are there."""
    admin = database.client.admin
    build = admin.command("buildInfo")
    hello = admin.command("hello")
    present = {name: set(database[name].index_information()) for name in INDEXES}
    if hello.get("msg") == "isdbgrid":
        topology = "sharded cluster (mongos)"
    elif hello.get("setName"):
        topology = f"replica set {hello['setName']}"
    else:
        topology = "standalone"
    concern = snapshots.write_concern.document or {}
    retry = database.client.options.retry_writes
    retries = "on" if retry else "off"
    writes = f"write concern {concern or 'server default'}, retryable writes {retries}"
    indexes = {
        f"{name}.{index_name(keys)}": index_name(keys) in present[name]
        for name, specs in INDEXES.items()
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
        store=f"MongoDB database {database.name}",
        server=f"MongoDB {build.get('version', '?')}",
        topology=topology,
        writes=writes,
        indexes=indexes,
        notes=notes,
    )
