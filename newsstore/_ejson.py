"""MongoDB Extended JSON, both ways: what import understands and what export writes.

Reading (relaxed or canonical): ``$date`` (ISO string, milliseconds, or
``{"$numberLong": …}``), ``$numberInt``, ``$numberLong`` and ``$numberDouble`` become
Python values, ``$oid`` an :class:`ObjectIdText` (the ``_id`` mongoexport writes for a
document whose id the server made); any other ``$`` type is refused with a clear message,
never kept as data.

Writing: relaxed (``{"$date": "2023-11-14T03:19:00.000Z"}``, plain numbers) or canonical
(``{"$date": {"$numberLong": "…"}}``, ``{"$numberInt": "…"}``), as pymongo's
``bson.json_util`` and the Node driver's ``EJSON`` read them. Times outside the years
1970–9999 are written as milliseconds in both forms, as the specification asks.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from ._times import EPOCH, UTC

__all__ = ["ObjectIdText", "ejson_hook", "ejson_line", "loads", "reject_constant", "to_ejson"]

_NUMBERS = {"$numberInt": int, "$numberLong": int, "$numberDouble": float}
_INT32 = range(-(2**31), 2**31)
_MS = timedelta(milliseconds=1)
_HEX = frozenset("0123456789abcdefABCDEF")


class ObjectIdText(str):
    """The hex digits of a ``{"$oid": …}``: an id the server made, never a newsstore key."""

    __slots__ = ()


def ejson_hook(obj: dict[str, Any]) -> Any:
    """A ``json`` ``object_hook`` that reads Extended JSON values (raises ValueError)."""
    if len(obj) == 1:
        ((name, value),) = obj.items()
        if name == "$date":
            # Exact milliseconds: fromtimestamp(ms / 1000) goes through a float and can be
            # a millisecond off (before 1970), so export -> import would move the time.
            try:
                if isinstance(value, dict) and "$numberLong" in value:
                    return EPOCH + timedelta(milliseconds=int(value["$numberLong"]))
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    return EPOCH + timedelta(milliseconds=value)
            except (OverflowError, OSError):
                # Beyond what datetime or the platform's time_t holds: a bad record, no crash.
                raise ValueError("$date out of range") from None
            return value
        if name == "$oid":
            if not (isinstance(value, str) and len(value) == 24 and set(value) <= _HEX):
                raise ValueError("$oid must hold 24 hex digits")
            return ObjectIdText(value)
        if name in _NUMBERS:
            if not isinstance(value, str):
                # Extended JSON numbers are strings; int(1.5) would silently truncate.
                raise ValueError(f"{name} must hold a string")
            return _NUMBERS[name](value)
    for name, value in obj.items():
        if name.startswith("$"):
            raise ValueError(f"unsupported Extended JSON type {name}")
        # An ObjectId is a document's id (mongoexport's _id), never a snapshot's data.
        if name != "_id" and (
            isinstance(value, ObjectIdText)
            or (isinstance(value, list) and any(isinstance(v, ObjectIdText) for v in value))
        ):
            raise ValueError("unsupported Extended JSON type $oid")
    return obj


def reject_constant(name: str) -> Any:
    """A ``json`` ``parse_constant`` that refuses NaN and Infinity, which JSON has not."""
    raise ValueError(f"{name} is not valid JSON")


def loads(text: str | bytes) -> Any:
    """Parse JSON text that may hold Extended JSON values (raises ValueError)."""
    return json.loads(text, object_hook=ejson_hook, parse_constant=reject_constant)


def to_ejson(value: Any, canonical: bool) -> Any:
    """``value`` (as ``model_dump`` gives it) with its times and, if canonical, its numbers
    written as Extended JSON."""
    if isinstance(value, datetime):
        ms = (value - EPOCH) // _MS
        utc = value.astimezone(UTC)
        if canonical or not 1970 <= utc.year <= 9999:
            return {"$date": {"$numberLong": str(ms)}}
        return {"$date": utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"}
    if isinstance(value, dict):
        return {k: to_ejson(v, canonical) for k, v in value.items()}
    if isinstance(value, list):
        return [to_ejson(v, canonical) for v in value]
    if canonical and isinstance(value, int) and not isinstance(value, bool):
        return {"$numberInt" if value in _INT32 else "$numberLong": str(value)}
    return value


# A time field's value in a snapshot's JSON (model_dump_json's bytes). Inside a JSON string a
# quote is escaped, so the pattern meets real keys only; the key names are the models' time
# fields (checked in tests against the models).
TIME_KEYS = ("published_at", "snapshot_at", "first_seen", "last_seen", "archived_at")
_TIME_VALUE = re.compile(rb'"(' + "|".join(TIME_KEYS).encode() + rb')":"([^"]+)"')


class _Dates(dict[bytes, bytes]):
    """Time text -> its relaxed Extended JSON value, learnt once per distinct time."""

    def __missing__(self, text: bytes) -> bytes:
        value = json.dumps(to_ejson(datetime.fromisoformat(text.decode()), False))
        found = value.replace(" ", "").encode()  # {"$date": "…"} as the rest: compact
        if len(self) > 100_000:
            self.clear()
        self[text] = found
        return found


_DATES = _Dates()


def ejson_line(snapshot_json: bytes) -> bytes:
    """A snapshot's JSON (as ``model_dump_json`` writes it) as relaxed Extended JSON: the
    same bytes, each time field written ``{"$date":"…Z"}`` (milliseconds, UTC), or
    ``{"$date":{"$numberLong":"…"}}`` outside the years 1970-9999, as :func:`to_ejson` does.

    Text, not models: a regular expression on the bytes, so an export in Extended JSON
    costs about what NDJSON costs.
    """
    return _TIME_VALUE.sub(_replace, snapshot_json)


def _replace(match: re.Match[bytes]) -> bytes:
    return b'"' + match[1] + b'":' + _DATES[match[2]]
