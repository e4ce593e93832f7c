"""Time zones and times, in one place (pure functions, no models).

* A zone is named (``"Asia/Shanghai"``) or given as a ``tzinfo``; :func:`zone_of` turns
  either into a ``tzinfo`` and refuses unknown names with :class:`InvalidQueryError`.
  Naive times are Beijing time unless told otherwise (:data:`DEFAULT_TIMEZONE`), the zone
  the crawler writes.
* Ranges are half-open, ``[start, end)``. :func:`day_range` is one calendar day in a zone
  (23 or 25 hours across DST); :func:`time_window` applies the lookup rules every caller
  shares: ``on`` is one day and excludes ``start``/``end``; a bare date as ``end`` includes
  that whole day. A date is any ISO spelling of one (``2023-11-14``, ``20231114``,
  ``2023-W46-2``), read the same as ``on``, ``start`` or ``end``.
* :func:`read_when` only reads the text, before any zone: whether a time is within the
  years 1 to 9999 at UTC depends on the zone, and is checked once the zone is applied.
* Stores keep UTC milliseconds (:func:`to_ms`, :func:`from_ms`), MongoDB's precision.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ._errors import InvalidQueryError

__all__ = [
    "DEFAULT_TIMEZONE",
    "EPOCH",
    "UTC",
    "day_range",
    "from_ms",
    "in_zone",
    "parse_day",
    "parse_when",
    "quarter_days",
    "read_when",
    "time_window",
    "to_ms",
    "utc_window",
    "zone_of",
]

DEFAULT_TIMEZONE = "Asia/Shanghai"
UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@functools.lru_cache(maxsize=64)
def _named_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: name too long
        raise InvalidQueryError(f"unknown time zone {name!r} (try Asia/Shanghai or UTC)") from exc


def utc_window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """``[start, end)`` in UTC, for a query the library is given: aware datetimes only
    (InvalidQueryError), and an end beyond what UTC can hold (year 1 at +08:00, 9999 at
    -08:00) held at its bounds, which stored times lie within anyway."""
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise InvalidQueryError(f"{name} must be a timezone-aware datetime, not {value!r}")
    bounds = (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))

    def held(value: datetime) -> datetime:
        try:
            return value.astimezone(UTC)
        except OverflowError:
            return bounds[value.year > 1]

    return held(start), held(end)


def zone_of(zone: str | tzinfo | None) -> tzinfo:
    """``zone`` as a ``tzinfo``: a name is looked up, None is Beijing time."""
    if zone is None:
        return _named_zone(DEFAULT_TIMEZONE)
    if isinstance(zone, str):
        return _named_zone(zone)
    if isinstance(zone, tzinfo):
        return zone
    raise InvalidQueryError(f"a time zone must be a name or a tzinfo, not {type(zone).__name__}")


def in_zone(value: datetime, zone: tzinfo) -> datetime:
    """``value`` in ``zone``, or in UTC where the zone's offset is not whole minutes.

    Local mean time (Asia/Shanghai before 1901 is +08:05:43) does not survive JSON: pydantic
    writes offsets to the minute, which moves the instant and breaks export -> import.
    """
    local = value.astimezone(zone)
    offset = local.utcoffset()
    if offset is not None and (offset.seconds % 60 or offset.microseconds):
        return value.astimezone(UTC)
    return local


def to_ms(value: datetime | None) -> int | None:
    """Milliseconds since the epoch (UTC) of an aware time; None stays None."""
    return None if value is None else int(value.timestamp() * 1000)


def from_ms(value: int) -> datetime:
    """The aware UTC time of milliseconds since the epoch."""
    return datetime.fromtimestamp(value / 1000, UTC)


def day_range(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The half-open range of one calendar day in ``zone`` (23 or 25 hours across DST)."""
    try:
        start = datetime.combine(day, time(), tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    except OverflowError:
        raise InvalidQueryError(
            f"{day.isoformat()} is out of range: it has no next day to end on"
        ) from None
    return start, end


def parse_day(text: str) -> date:
    """A calendar day typed as ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidQueryError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def read_when(text: str) -> date | datetime:
    """A date or a datetime (naive or aware) typed by a user, before any zone is applied.

    A date is what :meth:`date.fromisoformat` reads, every spelling it knows, so that no
    spelling of a day is taken for its midnight (``--to 20231114`` includes the 14th).
    """
    text = text.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError as exc:
        raise InvalidQueryError(
            f"cannot read {text!r} as a date (YYYY-MM-DD)"
            " or a datetime (YYYY-MM-DDTHH:MM[:SS][±HH:MM])"
        ) from exc


def parse_when(text: str, zone: tzinfo, *, end: bool = False) -> datetime:
    """Read a date or datetime typed by a user; naive values are in ``zone``.

    A bare date means the start of that day, or with ``end=True`` the start of the next
    day, so ``--from 2023-11-01 --to 2023-11-30`` includes all of the 30th.
    """
    value = read_when(text)
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    if end:
        return day_range(value, zone)[1]
    # Not day_range: the start of 9999-12-31 exists though its end does not.
    return datetime.combine(value, time(), tzinfo=zone)


def time_window(
    *,
    on: date | str | None = None,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    zone: str | tzinfo | None = None,
) -> tuple[datetime | None, datetime | None]:
    """The ``[start, end)`` a lookup means: one day ``on``, or from ``start`` to ``end``.

    Strings are read by :func:`parse_when` in ``zone`` (a bare date as ``end`` includes that
    day); ``on`` cannot be combined with ``start`` or ``end``.
    """
    tz = zone_of(zone)
    if on is not None:
        if start is not None or end is not None:
            raise InvalidQueryError("use on (--on) or start/end (--from/--to), not both")
        day = parse_day(on) if isinstance(on, str) else on
        first, after = day_range(day, tz)
        return _in_range(first, day), _in_range(after, day)
    low = parse_when(start, tz) if isinstance(start, str) else start
    high = parse_when(end, tz, end=True) if isinstance(end, str) else end
    return _in_range(low, start), _in_range(high, end)


def _in_range(bound: datetime | None, given: object) -> datetime | None:
    """``bound`` if it has a UTC time (what stores compare on), else InvalidQueryError:
    0001-01-01 in Beijing starts in year 0 at UTC, which no datetime holds."""
    if bound is not None:
        try:
            bound.astimezone(UTC)
        except OverflowError:
            shown = given.isoformat() if isinstance(given, date) else str(given)
            raise InvalidQueryError(
                f"{shown} is out of range: times must be within the years 1 to 9999 at UTC"
            ) from None
    return bound


_DAY_MS = 86_400_000


def quarter_days(
    quarters: dict[int | None, int],
    quarter_ms: int,
    zone: tzinfo,
    split: Callable[[datetime, datetime, int], tuple[int, int]],
) -> Counter[str]:
    """Counts by quarter hour (UTC, ``quarter_ms`` long, since the epoch) as counts by
    calendar day in ``zone`` (``""``: no time).

    A UTC day over which the zone keeps one offset, a whole number of quarters, maps each of
    its quarters by arithmetic; a quarter with a local midnight inside (an offset that is not
    whole quarters, a change of offset) is ``split(start, midnight, n)`` into the counts
    before and after that midnight. Tens of thousands of quarters on a large store: two zone
    conversions a UTC day instead of two a quarter.
    """
    days: Counter[str] = Counter()
    steady: dict[int, int | None] = {}  # UTC day -> its one offset in ms, if it has one
    names: dict[int, str] = {}  # local day number -> ISO date
    step = timedelta(milliseconds=quarter_ms)
    for quarter, n in quarters.items():
        if quarter is None:
            days[""] += n
            continue
        start_ms = quarter * quarter_ms
        utc_day = start_ms // _DAY_MS
        if utc_day not in steady:
            begin = EPOCH + timedelta(days=utc_day)
            before = begin.astimezone(zone).utcoffset()
            after = (begin + timedelta(days=1) - step).astimezone(zone).utcoffset()
            ms = None if before is None else before // timedelta(milliseconds=1)
            whole = before == after and ms is not None and ms % quarter_ms == 0
            steady[utc_day] = ms if whole else None
        offset = steady[utc_day]
        if offset is not None:
            local = (start_ms + offset) // _DAY_MS
            if local not in names:
                names[local] = (date(1970, 1, 1) + timedelta(days=local)).isoformat()
            days[names[local]] += n
            continue
        start = EPOCH + timedelta(milliseconds=start_ms)
        first = start.astimezone(zone)
        last = (start + step - timedelta(milliseconds=1)).astimezone(zone)
        if first.date() == last.date():
            days[first.date().isoformat()] += n
            continue
        midnight = datetime.combine(last.date(), time(), tzinfo=zone)
        before_n, after_n = split(start, midnight, n)
        days[first.date().isoformat()] += before_n
        days[last.date().isoformat()] += after_n
    return days
