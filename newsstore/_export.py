"""Writers that stream snapshots out: NDJSON (default), a JSON array, or Extended JSON.

Plain JSON carries ISO 8601 times with their offset. Extended JSON is MongoDB's: relaxed
(``{"$date": "2023-11-14T03:19:00Z"}``, plain numbers) or canonical
(``{"$date": {"$numberLong": "…"}}``, ``{"$numberInt": "…"}``), readable by pymongo's
``bson.json_util`` and the Node driver's ``EJSON``; it is one object a line, like
``mongoexport``. Every format is valid import input, so export → import is a round trip.
"""

from __future__ import annotations

import gzip
import io
import json
import os
from collections.abc import Iterable
from contextlib import contextmanager
from typing import IO, Any, cast

from ._ejson import to_ejson
from ._errors import InvalidQueryError
from ._schemas import Snapshot
from ._types import EXPORT_FORMATS, ExportFormat

__all__ = ["EXPORT_FORMATS", "ExportFormat", "Utf8Output", "open_output", "write_snapshots"]

_FIELDS = frozenset(Snapshot.model_fields)


def _fields(fields: Iterable[str] | None) -> set[str] | None:
    if fields is None:
        return None
    chosen = {f.strip() for f in fields if f.strip()}
    unknown = chosen - _FIELDS
    if unknown:
        raise InvalidQueryError(
            f"unknown field(s) {', '.join(sorted(unknown))};"
            f" choose from {', '.join(Snapshot.model_fields)}"
        )
    return chosen


def write_snapshots(
    snapshots: Iterable[Snapshot],
    fp: IO[str],
    *,
    format: ExportFormat = "ndjson",
    fields: Iterable[str] | None = None,
) -> int:
    """Write snapshots to a text stream as they come; returns how many were written."""
    include = _fields(fields)
    if format not in EXPORT_FORMATS:
        raise InvalidQueryError(f"unknown export format {format!r}: {', '.join(EXPORT_FORMATS)}")
    count = 0
    if format == "json":
        fp.write("[")
    for snapshot in snapshots:
        if format in ("ndjson", "json"):
            text = snapshot.model_dump_json(include=include)
        else:
            data = snapshot.model_dump(include=include)
            text = json.dumps(to_ejson(data, format == "ejson-canonical"), ensure_ascii=False)
        if format == "json":
            fp.write(",\n" if count else "\n")
            fp.write(text)
        else:
            fp.write(text + "\n")
        count += 1
    if format == "json":
        fp.write("\n]\n" if count else "]\n")
    return count


class Utf8Output(io.TextIOWrapper):
    """The text stream :func:`open_output` opens: UTF-8, ``"\\n"`` written as it is.

    So a writer holding UTF-8 bytes may flush it and write them to ``.buffer`` directly,
    saving a decode and an encode of every record (what the SQLite store's export does).
    """

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__(raw, encoding="utf-8", newline="\n")


@contextmanager
def open_output(path: str | os.PathLike[str] | None, stdout: IO[str]) -> Any:
    """A text stream for ``path`` (gzip when it ends in ``.gz``), or ``stdout`` for None/``-``."""
    name = None if path is None else os.fspath(path)
    if name is None or name == "-":
        yield stdout
        return
    raw = cast(IO[bytes], gzip.open(name, "wb") if name.endswith(".gz") else open(name, "wb"))  # noqa: SIM115
    with raw, Utf8Output(raw) as text:
        yield text
