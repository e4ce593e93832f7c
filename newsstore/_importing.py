"""Import files into a store: read, validate, dedup, write in batches, keep the rejects.

Nothing is lost: a bad record is counted, reported with its file and line (or array index)
and written to the rejects file with its original text, while every valid record around
it lands. Re-running the same import converges: what landed is ``unchanged`` the second
time, and a fixed rejects file can be imported as it is.

The importer knows a store only through :class:`ImportTarget`, which the store builds in
:meth:`~newsstore.Store.import_records`, the one entry point for imports.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import sys
import threading
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from datetime import tzinfo
from typing import IO, Any, Literal, TypedDict

from ._errors import InvalidRecordError
from ._files import FileSet, iter_files
from ._linememory import LineBackend, LineMemory
from ._pipeline import Workers, prepared, worker_count
from ._preparing import Recipe, RecordPreparer
from ._reading import Format, read_records
from ._rules import Incoming, Policy
from ._schemas import ImportReport

__all__ = ["ImportInterrupted", "ImportOptions", "ImportTarget", "Progress", "import_records"]

Progress = Callable[[int, int], None]
"""Called as ``progress(records, bytes)`` with what was read since the last call."""


class ImportOptions(TypedDict, total=False):
    """The keyword options of :meth:`Store.import_records <newsstore.Store.import_records>`."""

    format: Format
    policy: Policy
    batch_size: int
    rejects: str | os.PathLike[str] | None
    strict: bool
    dry_run: bool
    glob: str | None
    follow_symlinks: bool
    timezone: str | tzinfo | None
    encoding: str | None
    progress: Progress | None
    workers: int | Literal["auto"]


class ImportInterrupted(KeyboardInterrupt):
    """An import stopped by an interrupt (Ctrl-C, SIGINT): ``report`` counts what landed.

    A ``KeyboardInterrupt``, so code that stops on one still does; the batches saved before
    the interrupt are committed, the one being gathered is not (re-running converges).
    """

    def __init__(self, report: ImportReport) -> None:
        super().__init__()
        self.report = report


@dataclass(frozen=True, slots=True)
class ImportTarget:
    """What the importer needs of a store."""

    zone: tzinfo
    tracking_params: Collection[str] | None
    # What a record the importer owns gives: its Incoming or the error refusing it.
    prepare: RecordPreparer
    # Save one batch: save(batch, policy, dry_run).
    save: Callable[[list[Incoming], Policy, bool], ImportReport]
    # The scope in which consecutive batches may share transactions.
    write_group: Callable[[], AbstractContextManager[Any]]
    lines: LineBackend | None
    # The files the store itself keeps (a SQLite database and its -wal/-shm/-journal):
    # skipped inside an imported directory, refused when named.
    own_files: tuple[str, ...] = ()
    # How worker processes prepare this store's records (None: only this process can).
    recipe: Recipe | None = None


def import_records(
    target: ImportTarget,
    paths: Iterable[str | os.PathLike[str]],
    *,
    format: Format = "auto",
    policy: Policy = "newest",
    batch_size: int = 1000,
    rejects: str | os.PathLike[str] | None = None,
    strict: bool = False,
    dry_run: bool = False,
    glob: str | None = None,
    follow_symlinks: bool = False,
    timezone: str | tzinfo | None = None,
    encoding: str | None = None,
    progress: Progress | None = None,
    workers: int | Literal["auto"] = 1,
) -> ImportReport:
    """Import snapshot files into ``target``; see :meth:`newsstore.Store.import_records`.

    Stopped by an interrupt, it raises :class:`~newsstore.ImportInterrupted` holding the
    report of what landed; a strict import's error holds it as ``report``.
    """
    report = ImportReport()
    zone = timezone if timezone is not None else target.zone
    paths = list(paths)
    # Before anything is read or opened: a refusal later would lose what was read.
    _refuse_streams_named_twice(paths)
    own = FileSet(target.own_files)
    for path in paths:
        if own.holds(path):
            raise InvalidRecordError(
                "is the store's own database file, not an input", source=os.fspath(path)
            )
    if rejects is not None and own.holds(rejects):
        # Opening it for the rejects would truncate the database.
        raise InvalidRecordError(
            "is the store's own database file, not a rejects file", source=os.fspath(rejects)
        )
    memory = LineMemory.open(
        target.lines, zone=zone, policy=policy, tracking_params=target.tracking_params
    )

    count = worker_count(workers)
    with ExitStack() as stack:
        # Entered first, so left last: once stopping, it holds Ctrl-C off what follows.
        shield = stack.enter_context(_Shield())
        pool = None
        if count and target.recipe is not None:
            # Entered before the write group: its end (the commit) comes before the pool's.
            pool = stack.enter_context(Workers(target.recipe, count))
        if not dry_run:
            stack.enter_context(target.write_group())
        reject_fp, rejects_id = _open_rejects(stack, rejects, paths)

        # The error a strict import stops with: already counted and kept, it passes the
        # per-file handler below untouched (counting it there again wrote it twice).
        stopping: list[InvalidRecordError] = []

        def reject(error: InvalidRecordError) -> None:
            report.add_rejection(str(error))
            if reject_fp is not None:
                _write_all(reject_fp, (_reject_line(error) + "\n").encode(), rejects)
            if strict:
                stopping.append(error)
                raise error

        batch: list[Incoming] = []

        def flush() -> None:
            if batch:
                with _interrupts_held():
                    report.merge(target.save(batch, policy, dry_run))
                    batch.clear()

        def read(path: str) -> None:
            records = read_records(path, format=format, timezone=zone, encoding=encoding)
            try:
                for record, incoming in prepared(records, target.prepare, memory, pool):
                    if progress is not None:
                        progress(1, record.size)
                    if isinstance(incoming, InvalidRecordError):
                        flush()  # in strict mode, what came before the bad record lands
                        reject(incoming)
                        continue
                    if record.warning is not None:
                        report.add_warning(record.warning)
                    batch.append(incoming)
                    if len(batch) >= batch_size:
                        flush()
            except InvalidRecordError as exc:
                if stopping:
                    raise
                # The file cannot be read on (truncated array, unreadable): report it and
                # go on with the next file.
                flush()
                reject(exc)

        def skipped(path: str, why: str) -> None:
            report.add_skip(path, why)

        try:
            if progress is not None and callable(getattr(progress, "expect", None)):
                progress.expect(_total_size(paths, glob, follow_symlinks))  # type: ignore[attr-defined]
            for top in paths:
                found = False
                for path in iter_files(
                    [top], glob=glob, follow_symlinks=follow_symlinks, skipped=skipped
                ):
                    if (rejects_id is not None and _same_file(path, rejects_id)) or own.holds(path):
                        # Our own output inside an imported directory: reading it while
                        # writing it would feed every rejection back in, without end; and
                        # the store's database is not an input (rejected on every run).
                        continue
                    found = True
                    read(path)
                if not found and os.path.isdir(top):
                    # As an empty file is: nothing to import is worth saying.
                    flush()
                    what = f"matching {glob!r}" if glob is not None else "of a known format"
                    reject(
                        InvalidRecordError(
                            f"empty directory: no files {what}", source=os.fspath(top)
                        )
                    )
            flush()
        except KeyboardInterrupt:
            # What landed is committed (the write group ends on the way out); the caller
            # hears how much that was. A second Ctrl-C must not stop that commit: it would
            # roll the group back, and the summary of what landed would never come.
            shield.begin()
            raise ImportInterrupted(report) from None
        except InvalidRecordError as exc:
            if stopping:
                exc.report = report
            raise
        finally:
            if reject_fp is not None:
                reject_fp.flush()
    return report


def _total_size(
    paths: list[str | os.PathLike[str]], glob: str | None, follow_symlinks: bool
) -> int | None:
    """The bytes the import will read, if known beforehand (None: standard input, a FIFO).

    A ``.gz`` file counts as its uncompressed size, which gzip keeps in its last 4 bytes
    (modulo 4 GiB: a bigger file's bar is off, never the import).
    """
    total = 0
    for path in iter_files(paths, glob=glob, follow_symlinks=follow_symlinks):
        if path == "-":
            return None
        try:
            info = os.stat(path)
            if not stat.S_ISREG(info.st_mode):
                return None
            if path.endswith(".gz") and info.st_size >= 18:
                with open(path, "rb") as fp:
                    fp.seek(-4, os.SEEK_END)
                    total += int.from_bytes(fp.read(4), "little")
            else:
                total += info.st_size
        except OSError:
            continue  # the import reports it
    return total


def _open_rejects(
    stack: ExitStack, rejects: str | os.PathLike[str] | None, paths: list[str | os.PathLike[str]]
) -> tuple[IO[bytes] | None, tuple[int, int] | None]:
    if rejects is None:
        return None, None
    # Opened without truncating, so that a rejects file that is also an input is refused
    # before it is emptied; unbuffered, so that a write that fails (disk full) fails on the
    # spot and names the file.
    fp: IO[bytes] = stack.enter_context(open(rejects, "ab", buffering=0))  # noqa: SIM115
    info = os.fstat(fp.fileno())
    rejects_id = (info.st_dev, info.st_ino)
    for path in paths:
        if _same_file(path, rejects_id):
            raise InvalidRecordError(
                "is also the rejects file, which would overwrite it", source=os.fspath(path)
            )
    if stat.S_ISREG(info.st_mode):  # a pipe or a terminal (--rejects /dev/stderr) cannot be
        fp.truncate(0)
    return fp, rejects_id


def _refuse_streams_named_twice(paths: list[str | os.PathLike[str]]) -> None:
    """Refuse a stream that can be read only once (``-``, a FIFO, a device) named twice:
    the second read would find it drained, or fail after the first had been read."""
    seen: dict[object, str] = {}
    for path in paths:
        name = os.fspath(path)
        for identity in _stream_ids(name):
            if identity in seen:
                first = seen[identity]
                also = "" if first == name else f" (as {first})"
                label = "<stdin>" if name == "-" else name
                raise InvalidRecordError(
                    f"named twice{also}: a stream can be read only once", source=label
                )
            seen[identity] = name


def _stream_ids(name: str) -> list[object]:
    """What identifies ``name`` if it is a stream that can be read only once, else nothing."""
    try:
        if name == "-":
            try:
                info = os.fstat(sys.stdin.fileno())
            except (AttributeError, ValueError, OSError):  # replaced or closed stdin
                return ["-"]
            # Even a regular file on standard input is drained by the first read.
            return ["-"] if stat.S_ISREG(info.st_mode) else ["-", (info.st_dev, info.st_ino)]
        info = os.stat(name)
    except OSError:
        return []
    if stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode):
        return []  # read again from the start
    return [(info.st_dev, info.st_ino)]


def _same_file(path: str | os.PathLike[str], file_id: tuple[int, int]) -> bool:
    if os.fspath(path) == "-":
        return False
    try:
        info = os.stat(path)
    except OSError:
        return False
    return (info.st_dev, info.st_ino) == file_id


def _write_all(fp: IO[bytes], data: bytes, name: str | os.PathLike[str] | None) -> None:
    view = memoryview(data)
    try:
        while view:
            view = view[fp.write(view) :]  # an unbuffered write may be partial
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write rejects: {exc.strerror}", name) from exc


def _reject_line(error: InvalidRecordError) -> str:
    """A rejects-file line: where, why, and the record (parsed when it is JSON) to fix."""
    entry: dict[str, object] = {
        "source": error.source,
        "line": error.line,
        "index": error.index,
        "error": error.reason,
    }
    raw = error.raw or ""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        entry["record"] = None
        entry["raw"] = raw
    else:
        entry["record"] = value if isinstance(value, dict) else None
        if not isinstance(value, dict):
            entry["raw"] = raw
    text = json.dumps(entry, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (a "\\ud800" escape, a non-UTF-8 file name) has no UTF-8 form:
        # written escaped, the line stays valid JSON and the import goes on.
        text = json.dumps(entry)
    return text


class _Shield:
    """Ctrl-C ignored from :meth:`begin` to the end of the ``with`` block (the main
    thread only: a signal handler can be set nowhere else)."""

    def __init__(self) -> None:
        self._on = False
        self._previous: Any = None

    def begin(self) -> None:
        if threading.current_thread() is threading.main_thread() and not self._on:
            self._previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
            self._on = True

    def __enter__(self) -> _Shield:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._on:
            # None: a handler not set from Python, which cannot be put back; Python's own.
            previous = self._previous
            signal.signal(
                signal.SIGINT, signal.default_int_handler if previous is None else previous
            )
            self._on = False


@contextmanager
def _interrupts_held() -> Iterator[None]:
    """Ctrl-C held back while a batch is written and counted, then delivered.

    A KeyboardInterrupt between a batch's commit and its count would leave the summary
    short of what landed; held, it arrives after the count, at most a batch later. A
    Python-level handler, not a signal mask: a mask is per thread, and a signal blocked
    here would be taken by another thread (a library's worker) and raised here anyway.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught and callable(previous):
        previous(signal.SIGINT, None)  # Python's own raises KeyboardInterrupt
    elif caught and previous == signal.SIG_DFL:
        raise KeyboardInterrupt
