"""newsstore: keep crawled news-page snapshots, deduplicated on their original URL.

The API in one screen::

    from newsstore import open_store, parse_snapshot_file, Query

    with open_store() as store:                      # embedded SQLite, or "mongodb://…"
        store.save(parse_snapshot_file("page.txt"))  # "inserted", "unchanged", …
        report = store.import_records(["crawl/"], rejects="rejects.ndjson")
        snapshot = store.get("http://www.example.com/a?utm_source=x")   # any spelling
        for s in store.find(Query(category="国际", limit=10)): ...

Every name users need is here. The modules behind them are private and load on first use:
``import newsstore`` is cheap, and the MongoDB driver loads only with :class:`MongoStore`.
"""

import typing as _typing

from ._errors import (
    InvalidQueryError,
    InvalidRecordError,
    InvalidURLError,
    NewsstoreError,
    NotFoundError,
    SnapshotParseError,
    StoreError,
    StoreUnavailableError,
    TakenDownError,
)
from ._times import DEFAULT_TIMEZONE
from ._types import ExportFormat, Format, Match, Policy, SortOrder, TimeField
from ._version import __version__

if _typing.TYPE_CHECKING:
    from ._export import open_output, write_snapshots
    from ._parsing import parse_snapshot, parse_snapshot_bytes, parse_snapshot_file
    from ._query import Query
    from ._reading import read_records
    from ._records import Record
    from ._rendering import render_snapshot
    from ._schemas import Image, ImportReport, RelatedItem, Snapshot, StoredInfo
    from ._settings import Settings, redact_uri
    from ._similar import SimilarHit, StoryCluster
    from ._store import Diagnosis, RelatedHit, Stats, Store, Tombstone, open_store
    from ._store.mongo import MongoStore
    from ._store.sqlite import SQLiteStore
    from ._times import day_range, time_window
    from ._urls import canonical_url

__all__ = [
    "DEFAULT_TIMEZONE",
    "Diagnosis",
    "ExportFormat",
    "Format",
    "Image",
    "ImportReport",
    "InvalidQueryError",
    "InvalidRecordError",
    "InvalidURLError",
    "Match",
    "MongoStore",
    "NewsstoreError",
    "NotFoundError",
    "Policy",
    "Query",
    "Record",
    "RelatedHit",
    "RelatedItem",
    "SQLiteStore",
    "Settings",
    "SimilarHit",
    "Snapshot",
    "SnapshotParseError",
    "SortOrder",
    "Stats",
    "Store",
    "StoreError",
    "StoreUnavailableError",
    "StoredInfo",
    "StoryCluster",
    "TakenDownError",
    "TimeField",
    "Tombstone",
    "__version__",
    "canonical_url",
    "day_range",
    "open_output",
    "open_store",
    "parse_snapshot",
    "parse_snapshot_bytes",
    "parse_snapshot_file",
    "read_records",
    "redact_uri",
    "render_snapshot",
    "time_window",
    "write_snapshots",
]

# Loaded on first use, so that ``import newsstore`` (and the command's --help) stays light,
# and the MongoDB driver loads only for those who use it.
_LAZY = {
    **dict.fromkeys(("open_output", "write_snapshots"), "._export"),
    **dict.fromkeys(("parse_snapshot", "parse_snapshot_bytes", "parse_snapshot_file"), "._parsing"),
    "Query": "._query",
    "read_records": "._reading",
    "Record": "._records",
    "render_snapshot": "._rendering",
    **dict.fromkeys(
        ("Image", "ImportReport", "RelatedItem", "Snapshot", "StoredInfo"), "._schemas"
    ),
    **dict.fromkeys(("Settings", "redact_uri"), "._settings"),
    **dict.fromkeys(("StoryCluster", "SimilarHit"), "._similar"),
    **dict.fromkeys(
        ("Diagnosis", "RelatedHit", "Stats", "Store", "Tombstone", "open_store"), "._store"
    ),
    "MongoStore": "._store.mongo",
    "SQLiteStore": "._store.sqlite",
    **dict.fromkeys(("day_range", "time_window"), "._times"),
    "canonical_url": "._urls",
}


def __getattr__(name: str) -> _typing.Any:
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
