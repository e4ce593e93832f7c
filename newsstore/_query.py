"""Lookups as plain data: a :class:`Query` every store adapter translates the same way.

A query holds only typed literals (strings, datetimes, enums), never a user-supplied filter
document, so nothing a user types can become a MongoDB operator or server-side JavaScript.
It is a strict pydantic dataclass: no value is coerced (``"5"`` is not a limit, ``True`` is
not an integer, a naive datetime is not a time, an unknown field is not ignored), and a
refusal is one :class:`~newsstore.InvalidQueryError` line naming the field.
Time ranges are half-open, ``[start, end)``; :func:`~newsstore.day_range` turns a calendar day in a
zone into such a range, which is what "on 2023-11-14 in Beijing time" means.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AwareDatetime, ConfigDict, Field, ValidationError
from pydantic.dataclasses import dataclass
from pydantic_core import ErrorDetails

from ._errors import InvalidQueryError
from ._types import MATCHES, SORT_ORDERS, TIME_FIELDS, Match, SortOrder, TimeField

__all__ = [
    "MATCHES",
    "SORT_ORDERS",
    "TIME_FIELDS",
    "Match",
    "Query",
    "SortOrder",
    "TimeField",
]


_CHOICES: dict[str, tuple[str, ...]] = {
    "match": MATCHES,
    "time_field": TIME_FIELDS,
    "sort": SORT_ORDERS,
}
# At most what a 64-bit integer holds: both stores page with signed 64-bit numbers.
MAX_COUNT = 2**63 - 1
_NotNegative = Annotated[int, Field(ge=0, le=MAX_COUNT)]
_T = TypeVar("_T")


def _describe(error: ErrorDetails) -> str:
    """One pydantic error as the line :class:`InvalidQueryError` says."""
    name = ".".join(str(part) for part in error["loc"]) or "query"
    kind, value = error["type"], error["input"]
    if kind == "string_type":
        return f"{name} must be a string, not {type(value).__name__}"
    if kind in ("datetime_type", "timezone_aware"):
        return f"{name} must be a timezone-aware datetime"
    if kind == "literal_error" and name in _CHOICES:
        given = repr(value) if isinstance(value, str) else type(value).__name__
        return f"{name} must be one of {', '.join(_CHOICES[name])}, not {given}"
    if kind == "int_type":
        return f"{name} must be an integer"
    if kind == "greater_than_equal":
        return f"{name} must not be negative"
    if kind == "less_than_equal":
        return f"{name} must be at most {MAX_COUNT} (2^63 - 1)"
    if kind == "unexpected_keyword_argument":
        return f"{name} is not a query field"
    return f"{name}: {error['msg']}"


def _refusals_as_query_errors(cls: type[_T]) -> type[_T]:
    """Make the class's validating ``__init__`` raise :class:`InvalidQueryError`.

    pydantic validates before any ``__post_init__`` and raises its ``ValidationError``;
    callers catch the library's own error, with the first refusal as its one line.
    """
    validating_init = cls.__init__

    @functools.wraps(validating_init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            validating_init(self, *args, **kwargs)
        except ValidationError as exc:
            raise InvalidQueryError(_describe(exc.errors()[0])) from None

    cls.__init__ = __init__  # type: ignore[method-assign]
    return cls


@_refusals_as_query_errors
@dataclass(frozen=True, slots=True, config=ConfigDict(strict=True, extra="forbid"))
class Query:
    """What to look up. Every field narrows the result; an empty query matches everything.

    ``url`` with ``match``: ``exact`` (any spelling of one URL), ``prefix`` (everything under
    a path), ``host`` (one host), ``domain`` (a domain and its subdomains).
    ``start``/``end`` bound ``published_at`` or ``snapshot_at`` (per ``time_field``) as
    ``[start, end)``. Results come newest first unless ``sort="oldest"``; ``offset`` and
    ``limit`` page through them. Any other value raises :class:`InvalidQueryError`.
    """

    url: str | None = None
    match: Match = "exact"
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    time_field: TimeField = "published"
    category: str | None = None
    source: str | None = None
    sort: SortOrder = "newest"
    offset: _NotNegative = 0
    limit: _NotNegative | None = None

    @property
    def time_attribute(self) -> Literal["published_at", "snapshot_at"]:
        """The snapshot field ``time_field`` names, which every store indexes under that name."""
        return "published_at" if self.time_field == "published" else "snapshot_at"

    def page(self, offset: int, limit: int | None) -> Query:
        """The same query, another page."""
        return replace(self, offset=offset, limit=limit)
