"""Readers that stream snapshot records out of a file, one record at a time.

Formats (detected from the name, then the content; forced with ``format=``):

* ``ndjson`` — one JSON object a line (``.ndjson``, ``.jsonl``); blank lines are skipped;
* ``json`` — a JSON array of objects, read element by element (:mod:`._jsonarray`), or a
  single JSON object;
* MongoDB Extended JSON (relaxed or canonical) in either of the above (:mod:`._ejson`);
* ``text`` — a snapshot page dump (:mod:`._parsing`), one record a file;
* gzip-compressed input of any of the above (by the ``.gz`` suffix, or by its first bytes
  when read from standard input or a file object);
* in the encoding asked for, or UTF-8 (:mod:`._decoding` has the rules, the same for every
  format): a file that looks like another encoding is refused whole.

Every record carries where it came from (:class:`~newsstore.Record`); invalid records come
out with ``error`` set and reading goes on.
"""

from __future__ import annotations

import codecs
import errno
import gzip
import io
import json
import os
import sys
import zlib
from collections.abc import Iterator
from datetime import tzinfo
from pathlib import Path
from typing import IO, Any, cast

from ._decoding import Transcoded, WrongEncodingError, decode_text, source_encoding
from ._errors import InvalidRecordError, SnapshotParseError
from ._jsonarray import read_json
from ._parsing import read_snapshot
from ._records import Record, rejected, shown
from ._times import zone_of
from ._types import FORMATS, Format

__all__ = ["FORMATS", "Format", "read_records"]

_SUFFIXES: dict[str, Format] = {
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".txt": "text",
}
_CHUNK = 1 << 20
_BOM = b"\xef\xbb\xbf"
_SPACE = b" \t\r\n"  # what may precede the content, after a BOM
_GZIP_MAGIC = b"\x1f\x8b"
# What a file that ends mid-way or is not what it claims raises while being read.
# (A UnicodeDecodeError comes from a file decoded as it is read, in the encoding asked for.)
_READ_ERRORS = (OSError, EOFError, zlib.error, UnicodeDecodeError)


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
    Beijing time); ``encoding`` is the input's, whatever its format (default UTF-8, and
    GB18030 for snapshot text that is not UTF-8); ``name`` names a file object in
    messages (default: its ``name``). A file object is read, not closed.
    """
    if timezone is not None:
        zone_of(timezone)  # an unknown zone is the caller's error, not every record's
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ValueError(f"unknown encoding {encoding!r}") from None
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
        if sys.stdin is None:  # closed (<&-): Python starts with no sys.stdin at all
            raise OSError(errno.EBADF, "standard input is closed")
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
    # Every read of the file happens inside this one guard, the sniffing as much as the
    # reading: a decompression or I/O error, wherever it strikes, is this file's error.
    try:
        stream, head, codec = _sniff(fp, encoding)
    except _READ_ERRORS as exc:
        raise InvalidRecordError(f"cannot read: {_why(exc)}", source=source) from None
    except WrongEncodingError as exc:
        raise InvalidRecordError(str(exc), source=source) from None
    if not head:
        raise InvalidRecordError("empty file: no records", source=source)
    fmt = format if format != "auto" else _detect(name, head)
    if fmt == "ejson":
        # Extended JSON is JSON (every reader takes its values): one object a line as
        # mongoexport writes it, or an array (--jsonArray), told apart as auto does.
        fmt = _detect("", head)
        fmt = "ndjson" if fmt == "text" else fmt
    try:
        if fmt == "ndjson":
            yield from _read_ndjson(stream, source, context, head)
        elif fmt == "json":
            yield from read_json(stream, source, context)
        else:
            if b"\x00" in head:
                raise InvalidRecordError(
                    "binary file: not JSON, NDJSON or snapshot text", source=source
                )
            # Decoded as it was read, the text is UTF-8 now.
            yield from _read_text(stream, source, context, encoding if codec is None else "utf-8")
    except _READ_ERRORS as exc:
        # A truncated or corrupt .gz (EOFError, zlib.error) or an I/O error mid-file:
        # what was read before lands, the file is reported, the next file is read.
        raise InvalidRecordError(f"cannot read on: {_why(exc)}", source=source) from None


def _why(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):  # the reason holds the offset in the file
        return f"not valid {exc.encoding} text: {exc.reason}"
    return str(exc)


def _sniff(fp: IO[bytes], encoding: str | None) -> tuple[io.BufferedReader, bytes, str | None]:
    r"""The stream to read, decompressed and decoded to UTF-8 if need be, the start of its
    content, and the codec it is decoded from (None: read as it is).

    The start is what follows any leading blank space, however long (empty when there is
    nothing else): a blank run longer than one peek is read past, and the stream then
    gives its line breaks (``\n`` each) before the content, so line numbers stay right.
    """
    stream = _peekable(fp)
    head = stream.peek(_CHUNK)[:_CHUNK]
    if head.startswith(_GZIP_MAGIC) and not isinstance(fp, gzip.GzipFile):
        stream = _peekable(cast(IO[bytes], gzip.GzipFile(fileobj=stream)))
        head = stream.peek(_CHUNK)[:_CHUNK]
    codec = source_encoding(head, encoding)
    if codec is not None:
        stream = _peekable(cast(IO[bytes], Transcoded(stream, codec, _CHUNK)))
        head = stream.peek(_CHUNK)[:_CHUNK]
    body = head.removeprefix(_BOM).lstrip(_SPACE)
    if body or not head:
        return stream, body, codec
    if head.startswith(_BOM):
        stream.read(len(_BOM))
    breaks = 0
    cr_before = False  # the run read so far ends in "\r", which a "\n" next completes
    while True:
        chunk = stream.peek(_CHUNK)[:_CHUNK]
        body = chunk.lstrip(_SPACE)
        blank = chunk[: len(chunk) - len(body)]
        if blank:
            breaks += _line_breaks(blank) - (cr_before and blank.startswith(b"\n"))
            cr_before = blank.endswith(b"\r")
            stream.read(len(blank))
        if body or not chunk:
            break
    if not body or not breaks:
        return stream, body, codec
    return _peekable(cast(IO[bytes], _LineBreaks(breaks, stream))), body, codec


def _line_breaks(blank: bytes) -> int:
    r"""The line breaks in a run of blank bytes: ``\n``, ``\r\n`` and a lone ``\r``."""
    return blank.count(b"\n") + blank.count(b"\r") - blank.count(b"\r\n")


class _LineBreaks(io.RawIOBase):
    """``count`` line breaks, then what ``rest`` holds (which is the caller's to close)."""

    def __init__(self, count: int, rest: io.BufferedReader) -> None:
        self._count = count
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._count:
            n = min(len(buffer), self._count)
            buffer[:n] = b"\n" * n
            self._count -= n
            return n
        return self._rest.readinto(buffer)


def _detect(name: str, head: bytes) -> Format:
    suffix = Path(name.removesuffix(".gz")).suffix.lower()
    start = head[:1]
    if suffix in _SUFFIXES and not (suffix == ".json" and start == b"{"):
        return _SUFFIXES[suffix]
    if start == b"[":
        return "json"
    if start == b"{":
        # One object per line is NDJSON; an object spread over lines is a single JSON record.
        end = _line_end(head)
        if end is None:
            # One line, or the start of one (a pipe peeks what has arrived so far): read as
            # NDJSON, which streams, and is the same thing for a single one-line object.
            return "ndjson"
        try:
            json.loads(head[:end])
        except (ValueError, RecursionError):  # too deeply nested is not valid either
            return "json"
        return "ndjson"
    return "text"


def _line_end(data: bytes) -> int | None:
    r"""Where the first line of ``data`` ends (at ``\n``, ``\r\n`` or a lone ``\r``), if it does."""
    ends = [i for i in (data.find(b"\n"), data.find(b"\r")) if i != -1]
    return min(ends) if ends else None


def _read_ndjson(
    fp: IO[bytes], source: str, context: dict[str, Any], head: bytes
) -> Iterator[Record]:
    # Lines end at "\n", "\r\n" or a lone "\r" (a JSON text never holds a raw CR, so
    # splitting there loses nothing). A file whose first line ends in a lone CR is read in
    # chunks: iterating it would read the whole file as one line.
    end = _line_end(head)
    cr_only = end is not None and head[end : end + 1] == b"\r" and head[end + 1 : end + 2] != b"\n"
    lines = _cr_lines(fp) if cr_only else fp
    # Validated when asked: an importer that knows a line never pays for it.
    pending = Record.pending
    number = 0
    for line in lines:
        # Usually one line; a lone CR inside it (a mixed file) starts another.
        for raw in line.splitlines() if _inner_cr(line) else (line,):
            number += 1
            if number == 1 and raw.startswith(_BOM):
                raw = raw[3:]
            raw = raw.strip()
            if raw:
                yield pending(source, number, raw, context)


def _inner_cr(line: bytes) -> bool:
    r"""Whether ``line`` holds a CR that is not its ending (``\r``, or the CR of ``\r\n``)."""
    return line.find(b"\r", 0, len(line) - (2 if line.endswith(b"\n") else 1)) != -1


def _cr_lines(fp: IO[bytes], size: int = _CHUNK) -> Iterator[bytes]:
    r"""The lines of ``fp`` ending at ``\n``, ``\r\n`` or a lone ``\r``, read ``size`` bytes
    at a time (each with its ending; a line may span chunks, and so may a CRLF)."""
    held: list[bytes] = []  # the line being read, in pieces
    while chunk := fp.read(size):
        if held and held[-1].endswith(b"\r"):
            # The held line is complete; a "\n" opening this chunk ends its CRLF.
            if chunk.startswith(b"\n"):
                held.append(b"\n")
                chunk = chunk[1:]
            yield b"".join(held)
            held = []
        lines = chunk.splitlines(keepends=True)
        for line in lines[:-1]:
            if held:
                held.append(line)
                line = b"".join(held)
                held = []
            yield line
        if lines:
            held.append(lines[-1])
            if lines[-1].endswith(b"\n"):
                yield b"".join(held)
                held = []
    if held:
        yield b"".join(held)


def _read_text(
    fp: IO[bytes], source: str, context: dict[str, Any], encoding: str | None
) -> Iterator[Record]:
    data = fp.read()
    try:
        text = decode_text(data, encoding, source)
        snapshot, warning = read_snapshot(text, source=source, timezone=context.get("timezone"))
    except SnapshotParseError as exc:
        yield rejected(source, exc.line, None, shown(data), exc.reason)
        return
    record = Record(source, 1, None, text, snapshot)
    if warning is not None:
        record.warning = str(warning)
    yield record
