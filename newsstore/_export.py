"""Writers that stream snapshots out: NDJSON (default), a JSON array, or Extended JSON.

Plain JSON carries ISO 8601 times with their offset. Extended JSON is MongoDB's: relaxed
(``{"$date": "2023-11-14T03:19:00Z"}``, plain numbers) or canonical
(``{"$date": {"$numberLong": "…"}}``, ``{"$numberInt": "…"}``), readable by pymongo's
``bson.json_util`` and the Node driver's ``EJSON``; it is one object a line, like
``mongoexport``. Every format is valid import input, so export → import is a round trip.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import io
import json
import os
import secrets
import stat
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any, TypeVar, cast

from ._ejson import ejson_line, to_ejson
from ._errors import InvalidQueryError
from ._fields import include_of, parse_fields
from ._files import FileSet
from ._schemas import Snapshot
from ._types import EXPORT_FORMATS, ExportFormat

__all__ = [
    "EXPORT_FORMATS",
    "ExportFormat",
    "Tick",
    "Utf8Output",
    "counted",
    "open_output",
    "write_snapshots",
]


def _fields(fields: Iterable[str] | None) -> dict[str, Any] | None:
    # Dotted paths (stored.key, related.title), the rules of parse_fields.
    return None if fields is None else include_of(parse_fields(fields))


# How a JSON array export is laid out: one element a line, like the NDJSON export.
ARRAY_START, ARRAY_FIRST, ARRAY_SEPARATOR, ARRAY_END, ARRAY_EMPTY_END = (
    "[",
    "\n",
    ",\n",
    "\n]\n",
    "]\n",
)


_T = TypeVar("_T")
Tick = Callable[[int], None] | None
"""An export's progress hook: called with how many snapshots went by since the last call."""


def counted(items: Iterable[_T], progress: Tick) -> Iterable[_T]:
    """``items``, telling ``progress`` how many went by, every 256 and at the end."""
    if progress is None:
        return items
    return _counting(items, progress)


def _counting(items: Iterable[_T], progress: Callable[[int], None]) -> Iterator[_T]:
    pending = 0
    for item in items:
        yield item
        pending += 1
        if pending == 256:
            progress(pending)
            pending = 0
    if pending:
        progress(pending)


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
        fp.write(ARRAY_START)
    for snapshot in snapshots:
        if format in ("ndjson", "json"):
            text = snapshot.model_dump_json(include=include)
        elif format == "ejson":
            text = ejson_line(snapshot.model_dump_json(include=include).encode()).decode()
        else:
            data = snapshot.model_dump(include=include)
            text = json.dumps(to_ejson(data, True), ensure_ascii=False)
        if format == "json":
            fp.write(ARRAY_SEPARATOR if count else ARRAY_FIRST)
            fp.write(text)
        else:
            fp.write(text + "\n")
        count += 1
    if format == "json":
        fp.write(ARRAY_END if count else ARRAY_EMPTY_END)
    return count


class Utf8Output(io.TextIOWrapper):
    """The text stream :func:`open_output` opens: UTF-8, ``"\\n"`` written as it is.

    So a writer holding UTF-8 bytes may flush it and write them to ``.buffer`` directly,
    saving a decode and an encode of every record (what the SQLite store's export does).
    """

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__(raw, encoding="utf-8", newline="\n")


@contextmanager
def open_output(
    path: str | os.PathLike[str] | None,
    stdout: IO[str],
    *,
    protect: Iterable[str | os.PathLike[str]] = (),
) -> Any:
    """A text stream for ``path`` (gzip when it ends in ``.gz``), or ``stdout`` for None/``-``.

    A new path or a regular file is written beside it under a temporary name and renamed
    into place only when the ``with`` block succeeds: an export that fails leaves an
    existing file as it was, and the file keeps its permission bits. A symlink is written
    through (its target is replaced, the link stays). A FIFO or a device is written
    directly, and so is a file with several hard links (truncated, so every link sees the
    new content; a failed export leaves it part-written). A directory, or a path whose
    directory does not exist, is an :class:`OSError` naming ``path``. A ``path`` that is
    one of the files in ``protect`` (a store's own database files) is refused with
    :class:`~newsstore.InvalidQueryError` before anything is opened.
    """
    name = None if path is None else os.fspath(path)
    if name is None or name == "-":
        yield stdout
        return
    if FileSet([os.fspath(p) for p in protect]).holds(name):
        raise InvalidQueryError(f"{name} is the store's own database file: choose another output")
    target, mode = _target(name)
    if target is None:
        with open(name, "wb") as plain, _text(plain, name) as text:
            yield text
        return
    directory, base = os.path.split(target)
    # Created as open() creates any file (the umask applies), under a name of its own.
    partial = os.path.join(directory, f".{base}.{secrets.token_hex(4)}.partial")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise _naming(exc, name) from None
    try:
        with open(fd, "wb") as plain, _text(plain, name) as text:
            if mode is not None:
                os.fchmod(fd, mode)
            yield text
        try:
            os.replace(partial, target)
        except OSError as exc:
            raise _naming(exc, name) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise


def _target(name: str) -> tuple[str | None, int | None]:
    """Where :func:`open_output` renames its temporary file to, and the mode to give it;
    ``(None, None)`` when ``name`` is to be opened and written directly."""
    try:
        info = os.stat(name)
    except FileNotFoundError:
        info = None  # a new file, or a link to one
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), name)
    if info is not None and (not stat.S_ISREG(info.st_mode) or info.st_nlink > 1):
        # A FIFO or device has a reader or a driver behind it, not a file to swap; a rename
        # onto one of several hard links would split it from the others.
        return None, None
    # Through a symlink to what it names, so the link stays a link.
    target = os.path.realpath(name)
    if info is None:
        return target, None
    with contextlib.suppress(OSError):
        if os.path.samestat(info, os.stat(target)):
            return target, stat.S_IMODE(info.st_mode)
    # A link realpath cannot follow (/proc/self/fd/N to a deleted file): write through it.
    return None, None


@contextmanager
def _text(plain: IO[bytes], name: str) -> Iterator[Utf8Output]:
    raw: IO[bytes] = plain
    if name.endswith(".gz"):
        base = os.path.basename(name)
        raw = cast(IO[bytes], gzip.GzipFile(filename=base, fileobj=plain, mode="wb"))
    with raw, Utf8Output(raw) as text:
        yield text


def _naming(exc: OSError, name: str) -> OSError:
    """``exc`` about the user's ``name``, not the temporary file beside it."""
    return OSError(exc.errno, exc.strerror, name)
