"""newsstore: keep crawled news-page snapshots, deduplicated on their original URL.

The API in one screen::

    from newsstore import open_store, parse_snapshot_file, Query

    with open_store() as store:                      # embedded SQLite, or "mongodb://…"
        store.save(parse_snapshot_file("page.txt"))  # "inserted", "unchanged", …
        report = store.import_records(["crawl/"], rejects="rejects.ndjson")
        snapshot = store.get("http://www.example.com/a?utm_source=x")   # any spelling
        for s in store.find(Query(category="国际", limit=10)): ...

Every name users need is here; the modules behind them are private. The two store
adapters, :class:`SQLiteStore` and :class:`MongoStore`, load on first use, so that the
MongoDB driver is imported only by those who use it.
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
from ._export import ExportFormat, open_output, write_snapshots
from ._parsing import parse_snapshot, parse_snapshot_bytes, parse_snapshot_file
from ._query import Match, Query, SortOrder, TimeField
from ._reading import Format, read_records
from ._records import Record
from ._rendering import render_snapshot
from ._schemas import Image, ImportReport, RelatedItem, Snapshot, StoredInfo
from ._settings import Settings, redact_uri
from ._store import Diagnosis, Policy, RelatedHit, Stats, Store, Tombstone, open_store
from ._times import day_range, time_window
from ._urls import canonical_url
from ._version import __version__

if _typing.TYPE_CHECKING:
    from ._store.mongo import MongoStore
    from ._store.sqlite import SQLiteStore

__all__ = [
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
    "Snapshot",
    "SnapshotParseError",
    "SortOrder",
    "Stats",
    "Store",
    "StoreError",
    "StoreUnavailableError",
    "StoredInfo",
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

_LAZY = {"MongoStore": "._store.mongo", "SQLiteStore": "._store.sqlite"}


def __getattr__(name: str) -> _typing.Any:
    # The adapters load on first use: ``import newsstore`` never imports pymongo.
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
