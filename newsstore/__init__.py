"""newsstore: keep crawled news-page snapshots, deduplicated on their original URL."""

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
from .schemas import Image, ImportReport, RelatedItem, Snapshot, StoredInfo
from .settings import Settings

__all__ = [
    "Image",
    "ImportReport",
    "InvalidQueryError",
    "InvalidRecordError",
    "InvalidURLError",
    "NewsstoreError",
    "NotFoundError",
    "RelatedItem",
    "Settings",
    "Snapshot",
    "SnapshotParseError",
    "StoreError",
    "StoreUnavailableError",
    "StoredInfo",
    "__version__",
]
