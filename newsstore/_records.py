"""Readers that stream snapshot records out of files, one validated record at a time.

Formats (detected from the name, then the content; forced with ``format=``):

* ``ndjson`` — one JSON object a line (``.ndjson``, ``.jsonl``); blank lines are skipped;
* ``json`` — a JSON array of objects, read element by element (never loaded whole), or a
  single JSON object;
* MongoDB Extended JSON (relaxed or canonical) in either of the above: ``$date``,
  ``$numberInt``, ``$numberLong`` and ``$numberDouble`` are understood, any other ``$`` type
  is refused with a clear message;
* ``text`` — a snapshot page dump (:mod:`newsstore._parsing`), one record a file;
* ``.gz`` files (any of the above, gzip-compressed), directories (recursive, filtered by a
  glob; symlinks leading out of the directory are not followed unless asked) and ``-``
  for standard input.

Every record carries where it came from (file and 1-based line, or 0-based array index)
and its original text, so a rejected record can be reported and kept. In a JSON object
with a duplicate key, the last value wins (as in JSON.parse and Python's json).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from fnmatch import fnmatch
from itertools import islice
from pathlib import Path
from typing import IO, Any, Literal, cast

from pydantic import ValidationError

from ._errors import InvalidRecordError, SnapshotParseError
from ._parsing import looks_like_snapshot, parse_snapshot_bytes
from ._schemas import Snapshot

__all__ = ["FORMATS", "Format", "Record", "iter_files", "read_records"]

Format = Literal["auto", "json", "ndjson", "text"]
Recall = Callable[[list[bytes]], list[tuple[bytes, Any]]]
"""A hook that names NDJSON lines by digests and may recognise them (see read_records)."""
FORMATS: tuple[Format, ...] = ("auto", "json", "ndjson", "text")
DEFAULT_GLOB = "*"
_SUFFIXES = {".json": "json", ".ndjson": "ndjson", ".jsonl": "ndjson", ".txt": "text"}
_CHUNK = 1 << 20
# NDJSON lines offered to ``recall`` at once: one lookup for many lines.
_RECALL_LINES = 256
# An array element larger than this is refused rather than read into memory without end.
_MAX_RECORD = 128 << 20
# How much of the unreadable rest of a JSON array a rejection keeps, to show what it was.
_RAW_KEPT = 1000


@dataclass(slots=True)
class Record:
    """One record read from a file: the validated snapshot, or why it was rejected."""

    source: str
    line: int | None
    index: int | None
    # The record as read; an NDJSON line stays bytes until its text is asked for.
    data: str | bytes
    snapshot: Snapshot | None = None
    error: InvalidRecordError | None = None
    # What read_records' ``recall`` said of a line it knew: the line was not validated.
    recalled: Any = None
    # The digest ``recall`` gave the line, known or not.
    digest: bytes | None = None

    @property
    def raw(self) -> str:
        """The record's original text (undecodable bytes replaced)."""
        data = self.data
        return data if isinstance(data, str) else data.decode("utf-8", errors="replace")

    @property
    def size(self) -> int:
        """The record's length as read (bytes for NDJSON, characters otherwise)."""
        return len(self.data)


def _error_text(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False)[:3]:
        loc = ".".join(str(p) for p in err["loc"])
        parts.append(f"{loc}: {err['msg']}" if loc else err["msg"])
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# -- Extended JSON ---------------------------------------------------------------------
_EJSON_NUMBERS = {"$numberInt": int, "$numberLong": int, "$numberDouble": float}
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _ejson_hook(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        ((name, value),) = obj.items()
        if name == "$date":
            # Exact milliseconds: fromtimestamp(ms / 1000) goes through a float and can be
            # a millisecond off (before 1970), so export -> import would move the time.
            try:
                if isinstance(value, dict) and "$numberLong" in value:
                    return _EPOCH + timedelta(milliseconds=int(value["$numberLong"]))
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    return _EPOCH + timedelta(milliseconds=value)
            except (OverflowError, OSError):
                # Beyond what datetime or the platform's time_t holds: a bad record, no crash.
                raise ValueError("$date out of range") from None
            return value
        if name in _EJSON_NUMBERS:
            if not isinstance(value, str):
                # Extended JSON numbers are strings; int(1.5) would silently truncate.
                raise ValueError(f"{name} must hold a string")
            return _EJSON_NUMBERS[name](value)
    for name in obj:
        if name.startswith("$"):
            raise ValueError(f"unsupported Extended JSON type {name}")
    return obj


def _loads(text: str | bytes) -> Any:
    return json.loads(text, object_hook=_ejson_hook, parse_constant=_reject_constant)


# -- validation ------------------------------------------------------------------------
def _validate_json(
    raw: bytes, context: dict[str, Any], source: str, line: int | None, index: int | None
) -> Record:
    try:
        # Fast path: pydantic parses and validates the bytes in one go (and the text is
        # decoded only if someone asks for it).
        return Record(source, line, index, raw, Snapshot.model_validate_json(raw, context=context))
    except ValidationError as exc:
        first = exc
    text = raw.decode("utf-8", errors="replace")
    try:
        data = _loads(raw)
    except (ValueError, RecursionError) as exc:
        message = "not valid JSON" if isinstance(exc, RecursionError) else str(exc)
        if isinstance(exc, UnicodeDecodeError):
            message = f"invalid UTF-8: {exc.reason} at byte {exc.start}"
        return _rejected(source, line, index, text, message)
    return _validate_obj(data, context, source, line, index, text, first)


def _validate_obj(
    data: Any,
    context: dict[str, Any],
    source: str,
    line: int | None,
    index: int | None,
    text: str,
    first: ValidationError | None = None,
) -> Record:
    if not isinstance(data, dict):
        return _rejected(source, line, index, text, f"expected a JSON object, got {_kind(data)}")
    if "record" in data and "error" in data and isinstance(data["record"], dict):
        # A line of a rejects file, fixed by the user and imported again.
        data = data["record"]
    try:
        snapshot = Snapshot.model_validate(data, context=context)
    except ValidationError as exc:
        return _rejected(source, line, index, text, _error_text(first or exc))
    return Record(source, line, index, text, snapshot)


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", type(None): "null", bool: "a boolean"}.get(
        type(value), "a number"
    )


def _rejected(source: str, line: int | None, index: int | None, text: str, message: str) -> Record:
    error = InvalidRecordError(message, source=source, line=line, index=index, raw=text)
    return Record(source, line, index, text, error=error)


# -- readers ---------------------------------------------------------------------------
def _read_ndjson(
    fp: IO[bytes], source: str, context: dict[str, Any], recall: Recall | None = None
) -> Iterator[Record]:
    lines = _ndjson_lines(fp)
    if recall is None:
        for number, raw in lines:
            yield _validate_json(raw, context, source, number, None)
        return
    while True:
        chunk: list[tuple[int, bytes]] = []
        failure: Exception | None = None
        try:
            chunk.extend(islice(lines, _RECALL_LINES))
        except Exception as exc:  # the file cannot be read on: the lines before it count
            failure = exc
        answers = recall([raw for _, raw in chunk])
        for (number, raw), (digest, recalled) in zip(chunk, answers, strict=True):
            if recalled is not None:
                yield Record(source, number, None, raw, recalled=recalled, digest=digest)
            else:
                record = _validate_json(raw, context, source, number, None)
                record.digest = digest
                yield record
        if failure is not None:
            raise failure
        if len(chunk) < _RECALL_LINES:
            return


def _ndjson_lines(fp: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """The non-blank lines of ``fp``, stripped, with their 1-based numbers."""
    for number, raw in enumerate(fp, 1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        raw = raw.strip()
        if raw:
            yield number, raw


def _read_json(fp: IO[bytes], source: str, context: dict[str, Any]) -> Iterator[Record]:
    """A JSON array streamed element by element, or one JSON object."""
    # Undecodable bytes become lone surrogates, so that only the elements holding them are
    # refused (see _bad_utf8) rather than everything from the first bad byte on.
    reader = io.TextIOWrapper(fp, encoding="utf-8-sig", errors="surrogateescape")
    # A value newsstore refuses (NaN, an unsupported $type) is noted, not raised, so that the
    # decoder still finds the end of its element and only that element is refused.
    problems: list[str] = []

    def lenient_hook(obj: dict[str, Any]) -> Any:
        try:
            return _ejson_hook(obj)
        except ValueError as exc:
            problems.append(str(exc))
            return obj

    def lenient_constant(name: str) -> Any:
        problems.append(f"{name} is not valid JSON")

    decoder = json.JSONDecoder(object_hook=lenient_hook, parse_constant=lenient_constant)
    buf = ""
    pos = 0
    line = 1
    eof = False

    def fill() -> bool:
        nonlocal buf, pos, eof
        if eof:
            return False
        chunk = reader.read(_CHUNK)
        if not chunk:
            eof = True
            return False
        buf = buf[pos:] + chunk
        pos = 0
        return True

    def skip_ws() -> str:
        nonlocal pos, line
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n":
                if buf[pos] == "\n":
                    line += 1
                pos += 1
            if pos < len(buf):
                return buf[pos]
            if not fill():
                return ""

    first = skip_ws()
    if first == "":
        raise InvalidRecordError("empty file: no JSON records", source=source, line=1)
    if first != "[":
        # A single object: read it whole (one record is small enough by definition).
        while fill():
            pass
        text = buf[pos:]
        bad = _bad_utf8(text)
        if bad is not None:
            yield _rejected(source, line, None, *bad)
            return
        try:
            data = _loads(text)
        except (ValueError, RecursionError) as exc:
            yield _rejected(source, line, None, text, f"not valid JSON: {exc}")
            return
        yield _validate_obj(data, context, source, line, None, text)
        return
    pos += 1
    index = 0
    while True:
        ch = skip_ws()
        if ch == "]" and index == 0:
            return
        start_line = line
        while True:
            problems.clear()  # a retry after reading more starts the element afresh
            try:
                data, end = decoder.raw_decode(buf, pos)
                break
            except json.JSONDecodeError as exc:
                # The element may run past the buffer: read more, up to a sane record size.
                if len(buf) - pos < _MAX_RECORD and fill():
                    continue
                truncated = eof and (
                    exc.msg.startswith("Unterminated") or exc.pos >= len(buf.rstrip())
                )
                problem = "truncated JSON" if truncated else "invalid JSON"
                raise InvalidRecordError(
                    f"{problem}: {exc.msg} (the rest of the array cannot be read)",
                    source=source,
                    line=start_line + buf.count("\n", pos, exc.pos),
                    index=index,
                    raw=buf[pos : pos + _RAW_KEPT],  # the start of what was not read, to see
                ) from None
            except RecursionError:
                # Too deep for the decoder: find where the element ends by its brackets, so
                # that only this element is refused and the rest of the array is read.
                skip_end = _container_end(buf, pos)
                if skip_end is None and len(buf) - pos < _MAX_RECORD and fill():
                    continue
                if skip_end is None:
                    raise InvalidRecordError(
                        "truncated JSON: an element nested too deeply is not closed"
                        " (the rest of the array cannot be read)",
                        source=source,
                        line=start_line,
                        index=index,
                        raw=buf[pos : pos + _RAW_KEPT],
                    ) from None
                problems.append("not valid JSON: nested too deeply")
                data, end = None, skip_end
                break
        text = buf[pos:end]
        line += text.count("\n")
        pos = end
        bad = _bad_utf8(text)
        if bad is not None:
            yield _rejected(source, start_line, index, *bad)
        elif problems:
            yield _rejected(source, start_line, index, text, problems[0])
        else:
            yield _validate_obj(data, context, source, start_line, index, text)
        index += 1
        ch = skip_ws()
        if ch == "]":
            pos += 1
            if skip_ws() != "":
                # Silently ignoring it would lose whatever follows (e.g. a second array).
                raise InvalidRecordError(
                    "invalid JSON: data after the closing ']' (not read)",
                    source=source,
                    line=line,
                    raw=buf[pos : pos + _RAW_KEPT],
                )
            return
        if ch != ",":
            problem = (
                "truncated JSON: the array is not closed"
                if ch == ""
                else (f"invalid JSON: expected ',' or ']' but found {ch!r}")
            )
            raise InvalidRecordError(problem, source=source, line=line, index=index)
        pos += 1


def _container_end(buf: str, pos: int) -> int | None:
    """The end of the JSON array or object starting at ``buf[pos]``, or None if not in buf."""
    depth = 0
    in_string = False
    i = pos
    while i < len(buf):
        ch = buf[i]
        if in_string:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _bad_utf8(text: str) -> tuple[str, str] | None:
    """For text decoded with ``surrogateescape``: its readable form and why it is refused.

    Decoded UTF-8 never holds a surrogate (JSON ``\\ud800`` escapes are still six characters
    here), so one marks a byte that was not UTF-8.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        at = len(text[: exc.start].encode("utf-8", "surrogateescape"))
        readable = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return readable, f"invalid UTF-8 at byte {at} of the record"
    return None


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
        yield _rejected(source, exc.line, None, text, exc.reason)
        return
    yield Record(source, 1, None, text, snapshot)


def _detect(name: str, head: bytes) -> Format:
    suffix = Path(name.removesuffix(".gz")).suffix.lower()
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if suffix in _SUFFIXES and not (suffix == ".json" and start == b"{"):
        return _SUFFIXES[suffix]  # type: ignore[return-value]
    if start == b"[":
        return "json"
    if start == b"{":
        # One object per line is NDJSON; an object spread over lines is a single JSON record.
        body = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if b"\n" not in body:
            # One line, or the start of one (a pipe peeks what has arrived so far): read as
            # NDJSON, which streams, and is the same thing for a single one-line object.
            return "ndjson"
        try:
            json.loads(body.split(b"\n", 1)[0])
        except (ValueError, RecursionError):  # too deeply nested is not valid either
            return "json"
        return "ndjson"
    if looks_like_snapshot(head.decode("utf-8", errors="replace")):
        return "text"
    try:
        if looks_like_snapshot(head.decode("gb18030")):
            return "text"
    except UnicodeDecodeError:
        pass
    return "text"


def _open(path: str) -> IO[bytes]:
    if path == "-":
        return sys.stdin.buffer
    # A large buffer: a snapshot's line (~11 KB) is longer than the default one, which made
    # every readline several reads.
    fp: IO[bytes] = open(path, "rb", buffering=_CHUNK)  # noqa: SIM115 - closed by the caller
    if path.endswith(".gz"):
        return gzip.open(fp)  # type: ignore[return-value]
    return fp


def read_records(
    path: str | os.PathLike[str],
    *,
    format: Format = "auto",
    timezone: str | tzinfo | None = None,
    encoding: str | None = None,
    recall: Recall | None = None,
) -> Iterator[Record]:
    """Stream the records of one file (``"-"`` is standard input), validated.

    Invalid records come out with ``error`` set and reading goes on; a file that cannot be
    read at all (missing, truncated array, not a supported format) raises
    :class:`~newsstore.InvalidRecordError`.

    ``recall`` is offered NDJSON lines (bytes, stripped; a few hundred at a time) before
    they are validated and returns ``(digest, recalled)`` for each; every record of a line
    carries its digest. When ``recalled`` is not None the line is not validated: its record
    has neither ``snapshot`` nor ``error`` but ``recalled`` (the importer recognises lines it
    saw before this way).
    """
    name = os.fspath(path)
    source = "<stdin>" if name == "-" else name
    context: dict[str, Any] = {"timezone": timezone} if timezone is not None else {}
    try:
        fp = _open(name)
    except OSError as exc:
        raise InvalidRecordError(f"cannot read: {exc.strerror}", source=source) from None
    with fp:
        # Files, GzipFile and stdin.buffer can peek; anything else gets a buffer.
        stream = fp if hasattr(fp, "peek") else io.BufferedReader(fp)  # type: ignore[type-var]
        stream = cast(io.BufferedReader, stream)
        try:
            head = stream.peek(_CHUNK)[:_CHUNK]
        except (OSError, EOFError) as exc:
            raise InvalidRecordError(f"cannot read: {exc}", source=source) from None
        if not head.lstrip(b"\xef\xbb\xbf \t\r\n"):
            raise InvalidRecordError("empty file: no records", source=source)
        fmt = format if format != "auto" else _detect(name, head)
        try:
            if fmt == "ndjson":
                yield from _read_ndjson(stream, source, context, recall)
            elif fmt == "json":
                yield from _read_json(stream, source, context)
            else:
                if b"\x00" in head:
                    raise InvalidRecordError(
                        "binary file: not JSON, NDJSON or snapshot text", source=source
                    )
                yield from _read_text(stream, source, context, encoding)
        except (OSError, EOFError, zlib.error) as exc:
            # A truncated or corrupt .gz (EOFError, zlib.error) or an I/O error mid-file:
            # what was read before lands, the file is reported, the next file is read.
            raise InvalidRecordError(f"cannot read on: {exc}", source=source) from None


def iter_files(
    paths: Iterable[str | os.PathLike[str]],
    *,
    glob: str = DEFAULT_GLOB,
    follow_symlinks: bool = False,
) -> Iterator[str]:
    """Expand directories (recursively, sorted, files matching ``glob``) into file paths.

    A symlink inside a directory that leads outside of it is skipped unless
    ``follow_symlinks`` is true. Files named directly are always read.
    """
    for path in paths:
        name = os.fspath(path)
        if name == "-" or not os.path.isdir(name):
            yield name
            continue
        root = Path(name).resolve()
        seen: set[tuple[int, int]] = set()
        for dirpath, dirnames, filenames in os.walk(name, followlinks=follow_symlinks):
            if follow_symlinks:
                # A followed symlink loop (sub/up -> ..) would walk the same files again and
                # again, 40 levels deep: visit each real directory once.
                try:
                    info = os.stat(dirpath)
                except OSError:
                    info = None
                if info is None or (info.st_dev, info.st_ino) in seen:
                    dirnames.clear()
                    continue
                seen.add((info.st_dev, info.st_ino))
            dirnames.sort()
            for filename in sorted(filenames):
                full = os.path.join(dirpath, filename)
                if not fnmatch(filename, glob):
                    continue
                if (
                    not follow_symlinks
                    and os.path.islink(full)
                    and not Path(full).resolve().is_relative_to(root)
                ):
                    continue
                yield full
