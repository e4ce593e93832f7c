"""The data newsstore keeps: a :class:`Snapshot` of a news page and its :class:`RelatedItem` lists.

Rules that hold for every model here:

* Unknown fields are rejected (``extra="forbid"``): a typo is an error, not lost data.
* Datetimes are always timezone-aware after validation. A number is Unix seconds (UTC),
  never guessed to be milliseconds; out of range it is refused. A naive time is read in the
  zone given as validation context ``{"timezone": "Europe/Paris"}`` (a name or a
  ``tzinfo``), else in ``Asia/Shanghai``, the zone the crawler writes. Times keep
  millisecond precision, the precision MongoDB stores, so both stores agree.
* What the store derives (key, content hash, first/last seen, counts) lives in
  :attr:`Snapshot.stored`, apart from what the user supplies. A record that newsstore
  exported is valid import input; its ``stored`` part is recomputed, never trusted.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo

from ._times import UTC, in_zone, zone_of

__all__ = [
    "Image",
    "ImportReport",
    "RelatedItem",
    "Snapshot",
    "StoredInfo",
    "Timestamp",
    "check_range",
    "to_zone",
    "with_zone",
]

# How many rejection messages a report keeps (the count itself has no cap).
MAX_ERRORS_KEPT = 100


def zone_from_context(context: Any) -> tzinfo:
    """The zone for naive times named by a validation context, else Beijing time."""
    return zone_of(context.get("timezone") if isinstance(context, dict) else None)


# Every stored time must be shown in any zone (offsets are under 24 h): without this margin
# 0001-01-01T00:00 in Beijing or 9999-12-31T23:00-05:00 overflows datetime when converted.
_EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
_LATEST = datetime(9999, 12, 30, 23, 59, 59, 999000, tzinfo=UTC)


def check_range(value: datetime) -> None:
    """Raise ValueError for an aware time outside what every store and zone can hold."""
    try:
        in_range = _EARLIEST <= value <= _LATEST
    except OverflowError:
        in_range = False
    if not in_range:
        raise ValueError("time out of range: must be between 0001-01-02 and 9999-12-30 UTC")


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
        check_range(value)
    if offset is not None and (offset.seconds % 60 or offset.microseconds):
        value = value.astimezone(UTC)  # see in_zone
    # MongoDB stores milliseconds; truncating here keeps both stores identical.
    extra = value.microsecond % 1000
    return value.replace(microsecond=value.microsecond - extra) if extra else value


def _not_blank(value: str) -> str:
    if value.isspace():
        raise ValueError("must not be only whitespace")
    return value


Timestamp = Annotated[datetime, AfterValidator(_aware_ms)]
"""A timezone-aware datetime with millisecond precision (naive input read in the context zone)."""

# A number as a time is Unix seconds, always: pydantic would otherwise guess milliseconds
# beyond ±2e10 (so 0001-01-01 in seconds became 1968).
_MODEL_CONFIG = ConfigDict(extra="forbid", populate_by_name=True, val_temporal_unit="seconds")


class Image(BaseModel):
    """An image slot in the body: it stands before ``paragraphs[position]``."""

    model_config = _MODEL_CONFIG

    # le: MongoDB stores at most a 64-bit integer; a larger one fails in the driver.
    # strict: "3", true and full-width digits are not positions.
    position: int = Field(
        ge=0, le=2**63 - 1, strict=True, description="Index of the paragraph the image precedes."
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
    seen_count: int = Field(
        default=0, description="Distinct input records seen (a record: content and spelling)."
    )
    version_count: int = Field(default=1, description="Distinct contents seen for this key.")
    archived_at: Timestamp | None = Field(
        default=None, description="For a history entry: when it stopped being current."
    )


class Snapshot(BaseModel):
    """A crawled news page as the snapshot service captured it."""

    model_config = _MODEL_CONFIG

    url: str | None = Field(default=None, description="The original URL (信息原文地址), if known.")
    title: Annotated[str, AfterValidator(_not_blank)] = Field(min_length=1)
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


class ImportReport(BaseModel):
    """Counts of what a save or import did, one record counted once."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    versioned: int = 0
    suppressed: int = 0
    rejected: int = 0
    errors: list[str] = Field(default_factory=list, description="The first rejection messages.")
    warned: int = Field(default=0, description="Records imported with a warning.")
    warnings: list[str] = Field(
        default_factory=list, description="The first warnings (e.g. a text without footer)."
    )
    skipped: list[str] = Field(
        default_factory=list,
        description="Links a directory walk left out, each with why (the first ones).",
    )

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
        self.errors.extend(other.errors[: max(0, MAX_ERRORS_KEPT - len(self.errors))])
        self.warned += other.warned
        self.warnings.extend(other.warnings[: max(0, MAX_ERRORS_KEPT - len(self.warnings))])
        self.skipped.extend(other.skipped[: max(0, MAX_ERRORS_KEPT - len(self.skipped))])

    def add_skip(self, path: str, why: str) -> None:
        """Note a link a directory walk left out (the first ones are kept)."""
        if len(self.skipped) < MAX_ERRORS_KEPT:
            self.skipped.append(f"{path}: {why}")

    def add_rejection(self, message: str) -> None:
        """Count one rejected record, keeping its message among the first ones."""
        self.rejected += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(message)

    def add_warning(self, message: str) -> None:
        """Count one record imported with a warning, keeping the message among the first."""
        self.warned += 1
        if len(self.warnings) < MAX_ERRORS_KEPT:
            self.warnings.append(message)

    def summary(self) -> str:
        """One line for people: ``12 read: 10 inserted, 1 updated, …``."""
        parts = [
            f"{n} {name}"
            for name in ("inserted", "updated", "unchanged", "versioned", "suppressed", "rejected")
            if (n := getattr(self, name)) or name in ("inserted", "rejected")
        ]
        if self.warned:
            parts.append(f"{self.warned} warning{'s' if self.warned > 1 else ''}")
        return f"{self.total} read: " + ", ".join(parts)


# -- times in a zone ---------------------------------------------------------------
def with_zone(snapshot: Snapshot, zone: tzinfo) -> Snapshot:
    """A copy of ``snapshot`` with every time expressed in ``zone`` (same instants)."""
    return to_zone(copy_snapshot(snapshot), zone)


def to_zone(snapshot: Snapshot, zone: tzinfo) -> Snapshot:
    """Express every time of ``snapshot`` in ``zone`` (same instants), in place; returns it.

    For a snapshot nobody else holds (just validated or read back): it changes the object
    instead of copying it, which :func:`with_zone` does at many times the cost (a snapshot
    has some twenty related items, each a model to copy).
    """
    # Plain __dict__ writes: the models have no assignment validation, so this is what
    # setattr would do, minus pydantic's __setattr__ dispatch.
    # in_zone gives times whose offset is not whole minutes (local mean time) in UTC, as
    # JSON cannot hold them; UTC needs no such check.
    convert: Callable[[datetime, tzinfo], datetime] = (
        datetime.astimezone if zone is UTC else in_zone
    )
    fields = snapshot.__dict__
    for name in ("published_at", "snapshot_at"):
        value = fields[name]
        if value is not None:
            fields[name] = convert(value, zone)
    for items in (snapshot.related, snapshot.more_in_category):
        for item in items:
            item.__dict__["published_at"] = convert(item.published_at, zone)
    stored = snapshot.stored
    if stored is not None:
        fields = stored.__dict__
        for name in ("first_seen", "last_seen", "archived_at"):
            value = fields[name]
            if value is not None:
                fields[name] = convert(value, zone)
    return snapshot


def copy_snapshot(snapshot: Snapshot) -> Snapshot:
    """``snapshot`` copied deep enough for :func:`to_zone` to change the copy alone.

    The snapshot, its item lists and items, and ``stored`` are new objects; strings and
    the other lists are shared, as ``model_copy`` shares them.
    """
    copied = snapshot.model_copy()
    fields = copied.__dict__
    for name in ("related", "more_in_category"):
        fields[name] = [item.model_copy() for item in fields[name]]
    if copied.stored is not None:
        fields["stored"] = copied.stored.model_copy()
    return copied
