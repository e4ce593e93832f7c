"""Lookups as plain data: a :class:`Query` every store adapter translates the same way.

A query holds only typed literals (strings, datetimes, enums), never a user-supplied filter
document, so nothing a user types can become a MongoDB operator or server-side JavaScript.
Time ranges are half-open, ``[start, end)``; :func:`day_range` turns a calendar day in a
zone into such a range, which is what "on 2023-11-14 in Beijing time" means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Literal

from .errors import InvalidQueryError

__all__ = [
    "MATCHES",
    "SORT_ORDERS",
    "TIME_FIELDS",
    "Match",
    "Query",
    "SortOrder",
    "TimeField",
    "day_range",
    "parse_when",
]

Match = Literal["exact", "prefix", "host", "domain"]
TimeField = Literal["published", "snapshot"]
SortOrder = Literal["newest", "oldest"]
MATCHES: tuple[Match, ...] = ("exact", "prefix", "host", "domain")
TIME_FIELDS: tuple[TimeField, ...] = ("published", "snapshot")
SORT_ORDERS: tuple[SortOrder, ...] = ("newest", "oldest")

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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

    def page(self, offset: int, limit: int | None) -> Query:
        """The same query, another page."""
        return replace(self, offset=offset, limit=limit)


def day_range(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The half-open range of one calendar day in ``zone`` (23 or 25 hours across DST)."""
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    return start, end


def parse_when(text: str, zone: tzinfo, *, end: bool = False) -> datetime:
    """Read a date or datetime typed by a user; naive values are in ``zone``.

    A bare date means the start of that day, or with ``end=True`` the start of the next
    day, so ``--from 2023-11-01 --to 2023-11-30`` includes all of the 30th.
    """
    text = text.strip()
    try:
        if _DATE_ONLY.match(text):
            day = date.fromisoformat(text)
            return day_range(day, zone)[1 if end else 0]
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError as exc:
        raise InvalidQueryError(
            f"cannot read {text!r} as a date (YYYY-MM-DD)"
            " or a datetime (YYYY-MM-DDTHH:MM[:SS][±HH:MM])"
        ) from exc
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)
