"""Readers that stream snapshot records out of a file, one record at a time.

Formats (detected from the name, then the content; forced with ``format=``):

* ``ndjson`` — one JSON object a line (``.ndjson``, ``.jsonl``); blank lines are skipped;
* ``json`` — a JSON array of objects, read element by element (:mod:`._jsonarray`), or a
  single JSON object;
* MongoDB Extended JSON (relaxed or canonical) in either of the above (:mod:`._ejson`);
* ``text`` — a snapshot page dump (:mod:`._parsing`), one record a file;
* gzip-compressed input of any of the above (by the ``.gz`` suffix, or by its first bytes
  when read from standard input or a file object).

Every record carries where it came from (:class:`~newsstore.Record`); invalid records come
out with ``error`` set and reading goes on.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
import zlib
from collections.abc import Iterator
from datetime import tzinfo
from pathlib import Path
from typing import IO, Any, Literal, cast

from ._errors import InvalidRecordError, SnapshotParseError
from ._jsonarray import read_json
from ._parsing import parse_snapshot_bytes
from ._records import Record, rejected
from ._times import zone_of

__all__ = ["FORMATS", "Format", "read_records"]

Format = Literal["auto", "json", "ndjson", "text"]
FORMATS: tuple[Format, ...] = ("auto", "json", "ndjson", "text")
_SUFFIXES: dict[str, Format] = {
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".txt": "text",
}
_CHUNK = 1 << 20
_BLANK = b"\xef\xbb\xbf \t\r\n"
_GZIP_MAGIC = b"\x1f\x8b"
# What a file that ends mid-way or is not what it claims raises while being read.
_READ_ERRORS = (OSError, EOFError, zlib.error)


def read_records(
    source: str | os.PathLike[str] | IO[bytes],
    *,
    format: Format = "auto",
    timezone: str | tzinfo | None = None,
    encoding: str | None = None,
    name: str | None = None,
) -> Iterator[Record]:
    """Stream the records of one file, ``"-"`` (standard input) or a binary file object.

    Invalid records come out with ``error`` set and reading goes on; a file that cannot be
    read at all (missing, truncated array, not a supported format) raises
    :class:`~newsstore.InvalidRecordError`. ``timezone`` reads naive times (default
    Beijing time); ``encoding`` is for snapshot text; ``name`` names a file object in
    messages (default: its ``name``). A file object is read, not closed.
    """
    if timezone is not None:
        zone_of(timezone)  # an unknown zone is the caller's error, not every record's
    context: dict[str, Any] = {"timezone": timezone} if timezone is not None else {}
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        label = "<stdin>" if path == "-" else path
        try:
            fp = _open(path)
        except OSError as exc:
            raise InvalidRecordError(f"cannot read: {exc.strerror}", source=label) from None
        with fp:
            yield from _read(fp, label, path, format, context, encoding)
    else:
        label = name or str(getattr(source, "name", "") or "<stream>")
        yield from _read(source, label, label, format, context, encoding)


def _open(path: str) -> IO[bytes]:
    if path == "-":
        return sys.stdin.buffer
    # A large buffer: a snapshot's line (~11 KB) is longer than the default one, which made
    # every readline several reads.
    fp: IO[bytes] = open(path, "rb", buffering=_CHUNK)  # noqa: SIM115 - closed by the caller
    if path.endswith(".gz"):
        return cast(IO[bytes], gzip.open(fp))
    return fp


class _Borrowed(io.BufferedReader):
    """A buffer over a stream the caller owns: closing the buffer leaves the stream open."""

    def close(self) -> None:
        if not self.closed:
            self.detach()


def _peekable(fp: IO[bytes]) -> io.BufferedReader:
    # Files, GzipFile and stdin.buffer can peek; anything else gets a buffer.
    if hasattr(fp, "peek"):
        return cast(io.BufferedReader, fp)
    return _Borrowed(cast(Any, fp), buffer_size=_CHUNK)


def _read(
    fp: IO[bytes],
    source: str,
    name: str,
    format: Format,
    context: dict[str, Any],
    encoding: str | None,
) -> Iterator[Record]:
    stream = _peekable(fp)
    try:
        head = stream.peek(_CHUNK)[:_CHUNK]
        if head.startswith(_GZIP_MAGIC) and not isinstance(fp, gzip.GzipFile):
            stream = _peekable(cast(IO[bytes], gzip.GzipFile(fileobj=stream)))
            head = stream.peek(_CHUNK)[:_CHUNK]
    except _READ_ERRORS as exc:
        raise InvalidRecordError(f"cannot read: {exc}", source=source) from None
    if not head.lstrip(_BLANK):
        raise InvalidRecordError("empty file: no records", source=source)
    fmt = format if format != "auto" else _detect(name, head)
    try:
        if fmt == "ndjson":
            yield from _read_ndjson(stream, source, context)
        elif fmt == "json":
            yield from read_json(stream, source, context)
        else:
            if b"\x00" in head:
                raise InvalidRecordError(
                    "binary file: not JSON, NDJSON or snapshot text", source=source
                )
            yield from _read_text(stream, source, context, encoding)
    except _READ_ERRORS as exc:
        # A truncated or corrupt .gz (EOFError, zlib.error) or an I/O error mid-file:
        # what was read before lands, the file is reported, the next file is read.
        raise InvalidRecordError(f"cannot read on: {exc}", source=source) from None


def _detect(name: str, head: bytes) -> Format:
    suffix = Path(name.removesuffix(".gz")).suffix.lower()
    body = head.lstrip(_BLANK)
    start = body[:1]
    if suffix in _SUFFIXES and not (suffix == ".json" and start == b"{"):
        return _SUFFIXES[suffix]
    if start == b"[":
        return "json"
    if start == b"{":
        # One object per line is NDJSON; an object spread over lines is a single JSON record.
        if b"\n" not in body:
            # One line, or the start of one (a pipe peeks what has arrived so far): read as
            # NDJSON, which streams, and is the same thing for a single one-line object.
            return "ndjson"
        try:
            json.loads(body.split(b"\n", 1)[0])
        except (ValueError, RecursionError):  # too deeply nested is not valid either
            return "json"
        return "ndjson"
    return "text"


def _read_ndjson(fp: IO[bytes], source: str, context: dict[str, Any]) -> Iterator[Record]:
    # Validated when asked: an importer that knows a line never pays for it.
    pending = Record.pending
    for number, raw in enumerate(fp, 1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        raw = raw.strip()
        if raw:
            yield pending(source, number, raw, context)


def _read_text(
    fp: IO[bytes], source: str, context: dict[str, Any], encoding: str | None
) -> Iterator[Record]:
    data = fp.read()
    text = data.decode("utf-8", errors="replace")
    try:
        snapshot = parse_snapshot_bytes(
            data, encoding=encoding, source=source, timezone=context.get("timezone")
        )
    except SnapshotParseError as exc:
        yield rejected(source, exc.line, None, text, exc.reason)
        return
    yield Record(source, 1, None, text, snapshot)
