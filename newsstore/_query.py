"""Lookups as plain data: a :class:`Query` every store adapter translates the same way.

A query holds only typed literals (strings, datetimes, enums), never a user-supplied filter
document, so nothing a user types can become a MongoDB operator or server-side JavaScript.
Time ranges are half-open, ``[start, end)``; :func:`~newsstore.day_range` turns a calendar day in a
zone into such a range, which is what "on 2023-11-14 in Beijing time" means.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from ._errors import InvalidQueryError

__all__ = [
    "MATCHES",
    "SORT_ORDERS",
    "TIME_FIELDS",
    "Match",
    "Query",
    "SortOrder",
    "TimeField",
]

Match = Literal["exact", "prefix", "host", "domain"]
TimeField = Literal["published", "snapshot"]
SortOrder = Literal["newest", "oldest"]
MATCHES: tuple[Match, ...] = ("exact", "prefix", "host", "domain")
TIME_FIELDS: tuple[TimeField, ...] = ("published", "snapshot")
SORT_ORDERS: tuple[SortOrder, ...] = ("newest", "oldest")


@dataclass(frozen=True, slots=True)
class Query:
    """What to look up. Every field narrows the result; an empty query matches everything.

    ``url`` with ``match``: ``exact`` (any spelling of one URL), ``prefix`` (everything under
    a path), ``host`` (one host), ``domain`` (a domain and its subdomains).
    ``start``/``end`` bound ``published_at`` or ``snapshot_at`` (per ``time_field``) as
    ``[start, end)``. Results come newest first unless ``sort="oldest"``; ``offset`` and
    ``limit`` page through them.
    """

    url: str | None = None
    match: Match = "exact"
    start: datetime | None = None
    end: datetime | None = None
    time_field: TimeField = "published"
    category: str | None = None
    source: str | None = None
    sort: SortOrder = "newest"
    offset: int = 0
    limit: int | None = None

    def __post_init__(self) -> None:
        for name in ("url", "category", "source"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise InvalidQueryError(f"{name} must be a string, not {type(value).__name__}")
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
                raise InvalidQueryError(f"{name} must be a timezone-aware datetime")
        if self.match not in ("exact", "prefix", "host", "domain"):
            raise InvalidQueryError(f"unknown match {self.match!r}: exact, prefix, host or domain")
        if self.time_field not in ("published", "snapshot"):
            raise InvalidQueryError(f"unknown time field {self.time_field!r}")
        if self.sort not in ("newest", "oldest"):
            raise InvalidQueryError(f"unknown sort {self.sort!r}: newest or oldest")
        for name, value in (("offset", self.offset), ("limit", self.limit)):
            if value is None and name == "limit":
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidQueryError(f"{name} must be an integer")
        if self.offset < 0 or (self.limit is not None and self.limit < 0):
            raise InvalidQueryError("offset and limit must not be negative")

    @property
    def time_attribute(self) -> Literal["published_at", "snapshot_at"]:
        """The snapshot field ``time_field`` names, which every store indexes under that name."""
        return "published_at" if self.time_field == "published" else "snapshot_at"

    def page(self, offset: int, limit: int | None) -> Query:
        """The same query, another page."""
        return replace(self, offset=offset, limit=limit)
