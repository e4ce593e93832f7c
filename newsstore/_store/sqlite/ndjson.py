"""Whole-record NDJSON export lines written from the SQLite store's rows, byte for byte.

:class:`NDJSONLines` writes the very bytes ``Snapshot.model_dump_json`` gives for a stored
row, without validating it back into a model: the row's JSON has its times rewritten by
text in the export's zone and the URL and ``stored`` part spliced in.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone, tzinfo
from operator import add
from typing import IO, Any

from pydantic_core import to_json

from ..._ejson import ejson_line, to_ejson
from ..._export import (
    ARRAY_EMPTY_END,
    ARRAY_END,
    ARRAY_FIRST,
    ARRAY_SEPARATOR,
    ARRAY_START,
    Utf8Output,
)
from ..._schemas import Image, RelatedItem, Snapshot, StoredInfo
from ..._times import UTC, from_ms, in_zone

__all__ = ["NDJSONLines", "write_lines"]


class NDJSONLines:
    """Export lines written from stored rows: the bytes ``model_dump_json`` gives, faster.

    A row's ``content`` is the snapshot's JSON with every time in UTC, without ``url`` and
    ``stored`` (:func:`~newsstore._identity.utc_content`). The line is ``{"url":…,`` + that
    JSON with its times rewritten in ``zone`` + ``,"stored":{…}}``. Times are the values of
    ``"published_at"`` and ``"snapshot_at"`` keys (in a JSON string a quote is escaped, so
    the pattern only meets real keys); each is rewritten as pydantic writes that time in
    ``zone`` as :func:`~newsstore._times.in_zone` gives it. A row whose JSON lacks a field
    of today's model (written by an older version) goes through the model instead, so the
    output never differs from the model path's.
    """

    # A time is split into its UTC hour ("YYYY-MM-DDTHH") and the rest. The pattern starts
    # with a literal, which re finds fastest; "_at" keys are the two time fields alone
    # (checked in _LAYOUT_OK).
    _TIME = re.compile(rb'(_at":")([0-9][0-9T:.-]{12})([0-9T:.-]*)Z"')
    _NAMES = tuple(Snapshot.model_fields)
    # Every field whose key _TIME can meet: it must be one of the two times.
    _AT_FIELDS = frozenset(
        name
        for model in (Snapshot, RelatedItem, Image)
        for name in model.model_fields
        if name.endswith("_at")
    )
    _STORED = (
        "key",
        "content_hash",
        "urls",
        "first_seen",
        "last_seen",
        "seen_count",
        "version_count",
        "archived_at",
    )
    # The splice puts "url" first and "stored" last, where the model has them, and writes
    # "stored" from a dict of _STORED's fields, in that order.
    _LAYOUT_OK = (
        _AT_FIELDS.issubset({"published_at", "snapshot_at"})
        and (_NAMES[0], _NAMES[-1]) == ("url", "stored")
        and tuple(StoredInfo.model_fields) == _STORED
    )
    # Today's stored fields in order: the first opens the object; found in order, they
    # show the row was written with all of them (nested objects come after the names
    # they share with the top level).
    _FIELDS = tuple(f'"{name}":'.encode() for name in _NAMES[1:-1])

    def __init__(self, zone: tzinfo, slow: Callable[[tuple[Any, ...]], Snapshot]) -> None:
        self.zone = zone
        self.slow = slow
        self._days: dict[bytes, tuple[int, bytes] | None] = {}
        # UTC hour -> that hour in the zone, and the offset that follows the time, for the
        # hours of days the zone shifts by whole hours (some 9,000 hours a year).
        self._local_hour = _Lookup(self._learn_hour)
        self._suffix = _Lookup(self._learn_hour)
        self._seen: dict[int, datetime] = {}
        self._dates: dict[int, Any] = {}
        # The rest of a UTC time after its hour (":19:00", ":19:00.123456") -> the rest of
        # its Extended JSON value (":19:00.000Z\"}"): milliseconds, as to_ejson writes them.
        self._ms = _Lookup(self._learn_ms)

    def line(self, row: tuple[Any, ...]) -> bytes:
        key, url, urls, chash, hashes, first, last, seen, content = row
        if not self._fits(content):
            return self.slow(row).model_dump_json().encode() + b"\n"
        parts = self._TIME.split(content)
        # split gives [text, key, hour, rest, text, key, hour, rest, …, text]. A whole-hour
        # shift moves the hour alone; the offset goes after the rest. Both are looked up
        # from C (map), a Python call only for an hour not seen before.
        hours = parts[2::4]
        try:
            parts[2::4] = map(self._local_hour.__getitem__, hours)
            parts[3::4] = map(add, parts[3::4], map(self._suffix.__getitem__, hours))
        except _UnevenShift:  # parts is unchanged: map is consumed before it is assigned
            times = [hour + rest for hour, rest in zip(hours, parts[3::4], strict=True)]
            parts[2::4] = [self._time(t) for t in times]
            parts[3::4] = [b""] * len(times)
        # StoredInfo's fields in their order (checked in _LAYOUT_OK): pydantic writes this
        # dict as it writes the model.
        stored = {
            "key": key,
            "content_hash": chash,
            "urls": json.loads(urls),
            "first_seen": self._when(first),
            "last_seen": self._when(last),
            "seen_count": seen,
            # A list of hex digests: two quotes each (json.loads would cost more).
            "version_count": hashes.count('"') // 2,
            "archived_at": None,
        }
        parts[0] = parts[0][1:]  # the content's "{" and "}" give way to url and stored
        parts[-1] = parts[-1][:-1]
        return b"".join(
            (b'{"url":', to_json(url), b",", *parts, b',"stored":', to_json(stored), b"}\n")
        )

    def ejson(self, row: tuple[Any, ...]) -> bytes:
        """The row's relaxed Extended JSON line: :func:`~newsstore._ejson.ejson_line` of
        its NDJSON line, byte for byte, written from the stored UTC times directly."""
        key, url, urls, chash, hashes, first, last, seen, content = row
        parts = self._TIME.split(content) if self._fits(content) else None
        # Years before 1970 are milliseconds in Extended JSON: the general path has them.
        if parts is None or min(parts[2::4], default=b"9999") < b"1970":
            return ejson_line(self.line(row))
        parts[1::4] = [b'_at":{"$date":"'] * (len(parts) // 4)
        parts[3::4] = map(self._ms.__getitem__, parts[3::4])
        stored = {
            "key": key,
            "content_hash": chash,
            "urls": json.loads(urls),
            "first_seen": self._date(first),
            "last_seen": self._date(last),
            "seen_count": seen,
            "version_count": hashes.count('"') // 2,
            "archived_at": None,
        }
        parts[0] = parts[0][1:]
        parts[-1] = parts[-1][:-1]
        return b"".join(
            (b'{"url":', to_json(url), b",", *parts, b',"stored":', to_json(stored), b"}\n")
        )

    def _date(self, ms: int) -> Any:
        found = self._dates.get(ms)
        if found is None:
            if len(self._dates) > 10_000:
                self._dates.clear()
            found = self._dates[ms] = to_ejson(from_ms(ms), False)
        return found

    def _fits(self, content: bytes) -> bool:
        if not self._LAYOUT_OK or not content.startswith(b"{" + self._FIELDS[0]):
            return False
        pos = 0
        for name in self._FIELDS:
            pos = content.find(name, pos)
            if pos < 0:
                return False
        return True

    def _when(self, ms: int) -> datetime:
        # first/last seen are the batch's clock: a few values shared by many rows.
        found = self._seen.get(ms)
        if found is None:
            if len(self._seen) > 10_000:
                self._seen.clear()
            found = self._seen[ms] = in_zone(from_ms(ms), self.zone)
        return found

    def _shift(self, day: bytes) -> tuple[int, bytes] | None:
        try:
            return self._days[day]
        except KeyError:
            shift = self._days[day] = _day_shift(self.zone, day)
            return shift

    def _learn_ms(self, rest: bytes) -> None:
        head, _, fraction = rest.partition(b".")
        self._ms[rest] = head + b"." + (fraction + b"000")[:3] + b'Z"}'

    def _learn_hour(self, hour: bytes) -> None:
        """Fill both lookups for UTC ``hour`` ("YYYY-MM-DDTHH"), or raise _UnevenShift."""
        shift = self._shift(hour[:10])
        if shift is None or shift[0] % 3600:
            raise _UnevenShift
        seconds, suffix = shift
        try:
            moved = datetime.fromisoformat(hour.decode() + ":00") + timedelta(seconds=seconds)
        except (ValueError, OverflowError):
            raise _UnevenShift from None  # _time has the exact answer (or error)
        if len(self._suffix) >= 100_000:
            self._local_hour.clear()
            self._suffix.clear()
        self._local_hour[hour] = moved.isoformat().encode()[:13]
        self._suffix[hour] = suffix

    def _time(self, utc: bytes) -> bytes:
        """``2023-11-14T03:19:00`` (UTC) -> ``2023-11-14T11:19:00+08:00"`` in the zone."""
        shift = self._shift(utc[:10])
        if shift is not None:
            seconds, suffix = shift
            moved = datetime.fromisoformat(utc.decode()) + timedelta(seconds=seconds)
            return moved.isoformat().encode() + suffix
        exact = datetime.fromisoformat(utc.decode()).replace(tzinfo=UTC)
        return to_json(in_zone(exact, self.zone))[1:]


class _UnevenShift(Exception):
    """A UTC hour that the zone does not shift by whole hours (or not one shift all day)."""


class _Lookup(dict[bytes, bytes]):
    """A dict that calls ``learn(key)`` for a missing key, which fills it (or raises)."""

    def __init__(self, learn: Callable[[bytes], None]) -> None:
        super().__init__()
        self._learn = learn

    def __missing__(self, key: bytes) -> bytes:
        self._learn(key)
        return self[key]


@functools.lru_cache(maxsize=1 << 16)
def _day_shift(zone: tzinfo, day: bytes) -> tuple[int, bytes] | None:
    """A zone's offset all through a UTC day and how pydantic writes it (None: it varies).

    Checked on every hour and at the day's last instant: zones change offset at most a few
    times a year, never there and back within an hour. Cached across exports.
    """
    start = datetime.fromisoformat(day.decode()).replace(tzinfo=UTC)
    checks = [start + timedelta(hours=h) for h in range(24)]
    checks.append(start + timedelta(days=1) - timedelta(microseconds=1))
    offset = start.astimezone(zone).utcoffset()
    if offset is None or any(t.astimezone(zone).utcoffset() != offset for t in checks):
        return None
    if offset % timedelta(minutes=1):
        offset = timedelta(0)  # as in_zone: local mean time is written in UTC
    # pydantic writes "Z" for a zero offset.
    sample = to_json(datetime(2000, 1, 1, tzinfo=timezone(offset)))
    return int(offset.total_seconds()), sample[20:]


def write_lines(
    fp: IO[str], rows: Iterable[tuple[Any, ...]], lines: NDJSONLines, format: str = "ndjson"
) -> int:
    """Write the export of each row to ``fp`` as ``write_snapshots`` lays ``format`` out
    (``ndjson``, ``json``: the lines as an array, ``ejson``: the lines with their times as
    Extended JSON); the number written."""
    count = 0
    make = lines.ejson if format == "ejson" else lines.line
    if isinstance(fp, Utf8Output):
        # A file from open_output: UTF-8, "\n" kept, so the bytes can go under it.
        fp.flush()
        write = fp.buffer.write
    else:
        write = lambda data: fp.write(data.decode())  # noqa: E731
    if format != "json":
        for row in rows:
            write(make(row))
            count += 1
        return count
    write(ARRAY_START.encode())
    first, separator = ARRAY_FIRST.encode(), ARRAY_SEPARATOR.encode()
    for row in rows:
        write(separator if count else first)
        write(make(row)[:-1])  # the line without its "\n"
        count += 1
    write((ARRAY_END if count else ARRAY_EMPTY_END).encode())
    return count
