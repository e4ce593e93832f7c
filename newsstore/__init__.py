"""newsstore: keep crawled news-page snapshots, deduplicated on their original URL.

The API in one screen::

    from newsstore import open_store, parse_snapshot_file, Query

    with open_store() as store:                      # embedded SQLite, or "mongodb://…"
        store.save(parse_snapshot_file("page.txt"))  # "inserted", "unchanged", …
        report = store.import_records(["crawl/"], rejects="rejects.ndjson")
        snapshot = store.get("http://www.example.com/a?utm_source=x")   # any spelling
        for s in store.find(Query(category="国际", limit=10)): ...
"""

from ._version import __version__
from .errors import (
    InvalidQueryError,
    InvalidRecordError,
    InvalidURLError,
    NewsstoreError,
    NotFoundError,
    SnapshotParseError,
    StoreError,
    StoreUnavailableError,
)
from .export import write_snapshots
from .importing import import_records
from .parsing import parse_snapshot, parse_snapshot_bytes, parse_snapshot_file, render_snapshot
from .query import Query, day_range
from .records import read_records
from .schemas import Image, ImportReport, RelatedItem, Snapshot, StoredInfo
from .settings import Settings
from .store import RelatedHit, Stats, Store, Tombstone, open_store
from .urls import canonical_url

__all__ = [
    "Image",
    "ImportReport",
    "InvalidQueryError",
    "InvalidRecordError",
    "InvalidURLError",
    "NewsstoreError",
    "NotFoundError",
    "Query",
    "RelatedHit",
    "RelatedItem",
    "Settings",
    "Snapshot",
    "SnapshotParseError",
    "Stats",
    "Store",
    "StoreError",
    "StoreUnavailableError",
    "StoredInfo",
    "Tombstone",
    "__version__",
    "canonical_url",
    "day_range",
    "import_records",
    "open_store",
    "parse_snapshot",
    "parse_snapshot_bytes",
    "parse_snapshot_file",
    "read_records",
    "render_snapshot",
    "write_snapshots",
]
