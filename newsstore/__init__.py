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
    DiffConflictError,
    InvalidQueryError,
    InvalidRecordError,
    InvalidURLError,
    KeySettingsError,
    NewsstoreError,
    NotFoundError,
    SettingsError,
    SnapshotParseError,
    StoreError,
    StoreUnavailableError,
    TakenDownError,
)
from ._times import DEFAULT_TIMEZONE
from ._types import ExportFormat, Format, Match, Policy, SortOrder, TimeField
from ._version import __version__

if _typing.TYPE_CHECKING:
    from ._archive import ArchiveReport, StoreMeta
    from ._archive_reading import archive_header
    from ._copy import CopyReport, copy_store
    from ._diff import (
        FieldChange,
        ParagraphChange,
        SnapshotDiff,
        TextEdit,
        apply_diff,
        diff_snapshots,
        diff_text,
    )
    from ._export import open_output, write_snapshots
    from ._fields import field_values, parse_fields
    from ._importing import ImportInterrupted
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
    from ._versions import KeyChange, Version, VersionDiff

# Plain sorted order (a test checks it), not ruff's constants-first order.
__all__ = [  # noqa: RUF022
    "ArchiveReport",
    "CopyReport",
    "DEFAULT_TIMEZONE",
    "Diagnosis",
    "DiffConflictError",
    "ExportFormat",
    "FieldChange",
    "Format",
    "Image",
    "ImportInterrupted",
    "ImportReport",
    "InvalidQueryError",
    "InvalidRecordError",
    "InvalidURLError",
    "KeyChange",
    "KeySettingsError",
    "Match",
    "MongoStore",
    "NewsstoreError",
    "NotFoundError",
    "ParagraphChange",
    "Policy",
    "Query",
    "Record",
    "RelatedHit",
    "RelatedItem",
    "SQLiteStore",
    "Settings",
    "SettingsError",
    "SimilarHit",
    "Snapshot",
    "SnapshotDiff",
    "SnapshotParseError",
    "SortOrder",
    "Stats",
    "Store",
    "StoreError",
    "StoreMeta",
    "StoreUnavailableError",
    "StoredInfo",
    "StoryCluster",
    "TakenDownError",
    "TextEdit",
    "TimeField",
    "Tombstone",
    "Version",
    "VersionDiff",
    "__version__",
    "apply_diff",
    "archive_header",
    "canonical_url",
    "copy_store",
    "day_range",
    "diff_snapshots",
    "diff_text",
    "field_values",
    "open_output",
    "open_store",
    "parse_fields",
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
    **dict.fromkeys(("ArchiveReport", "StoreMeta"), "._archive"),
    "archive_header": "._archive_reading",
    **dict.fromkeys(("CopyReport", "copy_store"), "._copy"),
    **dict.fromkeys(
        (
            "FieldChange",
            "ParagraphChange",
            "SnapshotDiff",
            "TextEdit",
            "apply_diff",
            "diff_snapshots",
            "diff_text",
        ),
        "._diff",
    ),
    **dict.fromkeys(("open_output", "write_snapshots"), "._export"),
    **dict.fromkeys(("field_values", "parse_fields"), "._fields"),
    **dict.fromkeys(("parse_snapshot", "parse_snapshot_bytes", "parse_snapshot_file"), "._parsing"),
    "ImportInterrupted": "._importing",
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
    **dict.fromkeys(("KeyChange", "Version", "VersionDiff"), "._versions"),
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
