"""The data newsstore keeps: a :class:`Snapshot` of a news page and its :class:`RelatedItem` lists.

Rules that hold for every model here:

* Unknown fields are rejected (``extra="forbid"``): a typo is an error, not lost data.
* Datetimes are always timezone-aware after validation. A naive time is read in the
  zone given as validation context ``{"timezone": "Europe/Paris"}`` (a name or a
  ``tzinfo``), else in ``Asia/Shanghai``, the zone the crawler writes. Times keep
  millisecond precision, the precision MongoDB stores, so both stores agree.
* What the store derives (key, content hash, first/last seen, counts) lives in
  :attr:`Snapshot.stored`, apart from what the user supplies. A record that newsstore
  exported is valid import input; its ``stored`` part is recomputed, never trusted.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo

from .settings import DEFAULT_TIMEZONE

__all__ = [
    "Image",
    "ImportReport",
    "RelatedItem",
    "Snapshot",
    "StoredInfo",
    "Timestamp",
]

_DEFAULT_ZONE = ZoneInfo(DEFAULT_TIMEZONE)


def zone_from_context(context: Any) -> tzinfo:
    """The zone for naive times named by a validation context, else Beijing time."""
    zone = context.get("timezone") if isinstance(context, dict) else None
    if zone is None:
        return _DEFAULT_ZONE
    return ZoneInfo(zone) if isinstance(zone, str) else zone


# Every stored time must be shown in any zone (offsets are under 24 h): without this margin
# 0001-01-01T00:00 in Beijing or 9999-12-31T23:00-05:00 overflows datetime when converted.
_EARLIEST = datetime(1, 1, 2, tzinfo=timezone.utc)
_LATEST = datetime(9999, 12, 30, 23, 59, 59, 999000, tzinfo=timezone.utc)


def in_zone(value: datetime, zone: tzinfo) -> datetime:
    """``value`` in ``zone``, or in UTC where the zone's offset is not whole minutes.

    Local mean time (Asia/Shanghai before 1901 is +08:05:43) does not survive JSON: pydantic
    writes offsets to the minute, which moves the instant and breaks export -> import.
    """
    local = value.astimezone(zone)
    offset = local.utcoffset()
    if offset is not None and (offset.seconds % 60 or offset.microseconds):
        return value.astimezone(timezone.utc)
    return local


def _aware_ms(value: datetime, info: ValidationInfo) -> datetime:
    # Hot path: a snapshot has a couple of dozen times, validated on every import, so each
    # step below is taken only when it can change the value (utcoffset() on a ZoneInfo and
    # aware comparisons are what cost here).
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone_from_context(info.context))
    offset = value.utcoffset()
    if offset is None:
        value = value.replace(tzinfo=zone_from_context(info.context))
        offset = value.utcoffset()
    if value.year in (1, 9999):  # offsets are under 24 h: only the end years can overflow
        try:
            in_range = _EARLIEST <= value <= _LATEST
        except OverflowError:
            in_range = False
        if not in_range:
            raise ValueError("time out of range: must be between 0001-01-02 and 9999-12-30 UTC")
    if offset is not None and (offset.seconds % 60 or offset.microseconds):
        value = value.astimezone(timezone.utc)  # see in_zone
    # MongoDB stores milliseconds; truncating here keeps both stores identical.
    extra = value.microsecond % 1000
    return value.replace(microsecond=value.microsecond - extra) if extra else value


Timestamp = Annotated[datetime, AfterValidator(_aware_ms)]
"""A timezone-aware datetime with millisecond precision (naive input read in the context zone)."""

_MODEL_CONFIG = ConfigDict(extra="forbid", populate_by_name=True)


class Image(BaseModel):
    """An image slot in the body: it stands before ``paragraphs[position]``."""

    model_config = _MODEL_CONFIG

    # le: MongoDB stores at most a 64-bit integer; a larger one fails in the driver.
    position: int = Field(
        ge=0, le=2**63 - 1, description="Index of the paragraph the image precedes."
    )
    caption: str | None = None


class RelatedItem(BaseModel):
    """A link listed under a snapshot: a related article or one "more in this category"."""

    model_config = _MODEL_CONFIG

    title: str | None = None
    excerpt: str | None = None
    published_at: Timestamp
    url: str | None = None


class StoredInfo(BaseModel):
    """What the store derives for a snapshot. Read-only: ignored (recomputed) on import."""

    model_config = _MODEL_CONFIG

    key: str = Field(description="Dedup key: canonical URL, or content:<hash> without a URL.")
    content_hash: str = Field(description="Hash of the user-visible fields (the URL excluded).")
    urls: list[str] = Field(default_factory=list, description="Every spelling of the URL seen.")
    first_seen: Timestamp | None = None
    last_seen: Timestamp | None = None
    seen_count: int = 0
    version_count: int = Field(default=1, description="Distinct contents seen for this key.")
    archived_at: Timestamp | None = Field(
        default=None, description="For a history entry: when it stopped being current."
    )


class Snapshot(BaseModel):
    """A crawled news page as the snapshot service captured it."""

    model_config = _MODEL_CONFIG

    url: str | None = Field(default=None, description="The original URL (信息原文地址), if known.")
    title: str = Field(min_length=1)
    category: str | None = None
    published_at: Timestamp | None = None
    source: str | None = Field(default=None, description="The outlet named after 来源.")
    breadcrumbs: list[str] = Field(default_factory=list)
    paragraphs: list[str] = Field(default_factory=list)
    images: list[Image] = Field(default_factory=list)
    crawler: str | None = Field(default=None, description="Site whose crawler captured the page.")
    snapshot_at: Timestamp | None = Field(default=None, description="快照生成时间.")
    related: list[RelatedItem] = Field(default_factory=list)
    more_in_category_name: str | None = Field(
        default=None, description="The category named in 更多关于…的资讯."
    )
    more_in_category: list[RelatedItem] = Field(default_factory=list)
    stored: StoredInfo | None = None


OnDuplicate = Literal["newest", "keep", "replace"]


class ImportReport(BaseModel):
    """Counts of what a save or import did, one record counted once."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    versioned: int = 0
    suppressed: int = 0
    rejected: int = 0
    errors: list[str] = Field(default_factory=list, description="The first rejection messages.")

    @property
    def total(self) -> int:
        """Records read."""
        return (
            self.inserted
            + self.updated
            + self.unchanged
            + self.versioned
            + self.suppressed
            + self.rejected
        )

    def merge(self, other: ImportReport) -> None:
        """Add ``other``'s counts into this report."""
        for name in ("inserted", "updated", "unchanged", "versioned", "suppressed", "rejected"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors[: max(0, 100 - len(self.errors))])

    def summary(self) -> str:
        """One line for people: ``12 read: 10 inserted, 1 updated, …``."""
        parts = [
            f"{n} {name}"
            for name in ("inserted", "updated", "unchanged", "versioned", "suppressed", "rejected")
            if (n := getattr(self, name)) or name in ("inserted", "rejected")
        ]
        return f"{self.total} read: " + ", ".join(parts)
