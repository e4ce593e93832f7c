"""Import files into a store: read, validate, dedup, write in batches, keep the rejects.

Nothing is lost: a bad record is counted, reported with its file and line (or array index)
and written to the rejects file with its original text, while every valid record around
it lands. Re-running the same import converges: what landed is ``unchanged`` the second
time, and a fixed rejects file can be imported as it is.
"""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, tzinfo
from typing import IO, Any, TypedDict

from ._errors import InvalidRecordError, NewsstoreError, StoreError
from ._records import DEFAULT_GLOB, Format, Record, _validate_json, iter_files, read_records
from ._schemas import ImportReport, Snapshot
from ._store.base import Recalled, Remembered, Store
from ._store.rules import Incoming, Policy

__all__ = ["MAX_RECORD_BYTES", "ImportOptions", "import_records"]

# MongoDB refuses documents over 16 MiB; refusing them in every store keeps stores alike.
MAX_RECORD_BYTES = 16 * 1024 * 1024 - 64 * 1024
_MAX_ERRORS_KEPT = 100
_BSON_GROWTH = 5

Progress = Callable[[int, int], None]
"""Called as ``progress(records, bytes)`` with what was read since the last call."""


class ImportOptions(TypedDict, total=False):
    """The keyword options of :func:`import_records`, for :meth:`Store.import_records`."""

    format: Format
    policy: Policy
    batch_size: int
    rejects: str | os.PathLike[str] | None
    strict: bool
    dry_run: bool
    glob: str
    follow_symlinks: bool
    timezone: str | tzinfo | None
    encoding: str | None
    progress: Progress | None


def import_records(
    store: Store,
    paths: Iterable[str | os.PathLike[str]],
    *,
    format: Format = "auto",
    policy: Policy = "newest",
    batch_size: int = 1000,
    rejects: str | os.PathLike[str] | None = None,
    strict: bool = False,
    dry_run: bool = False,
    glob: str = DEFAULT_GLOB,
    follow_symlinks: bool = False,
    timezone: str | tzinfo | None = None,
    encoding: str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import snapshot files (JSON, NDJSON, Extended JSON, snapshot text, ``.gz``, dirs, ``-``).

    Returns the counts. With ``strict``, the first bad record raises
    :class:`~newsstore.InvalidRecordError` (records before it have landed). With
    ``dry_run``, records are validated and the counts computed against the store's current
    state, but nothing is written. ``timezone`` reads naive times (default: the store's).
    """
    report = ImportReport()
    zone = timezone if timezone is not None else store.zone
    paths = list(paths)
    with ExitStack() as stack:
        stack.enter_context(_no_cyclic_gc())
        if not dry_run:
            stack.enter_context(store._write_group())
        reject_fp: IO[bytes] | None = None
        rejects_id: tuple[int, int] | None = None
        if rejects is not None:
            # Opened without truncating, so that a rejects file that is also an input is
            # refused before it is emptied; unbuffered, so that a write that fails (disk
            # full) fails on the spot and names the file.
            reject_fp = stack.enter_context(open(rejects, "ab", buffering=0))
            info = os.fstat(reject_fp.fileno())
            rejects_id = (info.st_dev, info.st_ino)
            for path in paths:
                if _same_file(path, rejects_id):
                    raise InvalidRecordError(
                        "is also the rejects file, which would overwrite it",
                        source=os.fspath(path),
                    )
            reject_fp.truncate(0)

        def reject(error: InvalidRecordError) -> None:
            report.rejected += 1
            if len(report.errors) < _MAX_ERRORS_KEPT:
                report.errors.append(str(error))
            if reject_fp is not None:
                _write_all(reject_fp, (_reject_line(error) + "\n").encode(), rejects)
            if strict:
                raise error

        # A store that remembers lines knows an NDJSON line it saved before by its digest:
        # such a line is not validated again (a re-import). Under "replace" a known line
        # may still change the store, so every line is read in full.
        memory = store._line_memory(zone) if policy != "replace" else None

        def recall(raws: list[bytes]) -> list[tuple[bytes, Any]]:
            assert memory is not None
            digests = [memory(raw) for raw in raws]
            found = store._recall_lines(digests)
            return [
                (digest, None if (known := found.get(digest)) is None else (raw, known))
                for digest, raw in zip(digests, raws, strict=True)
            ]

        batch: list[Incoming] = []

        def flush() -> None:
            if batch:
                report.merge(store.save_prepared(batch, policy=policy, dry_run=dry_run))
                batch.clear()

        try:
            for path in iter_files(paths, glob=glob, follow_symlinks=follow_symlinks):
                if rejects_id is not None and _same_file(path, rejects_id):
                    # Our own output inside an imported directory: reading it while writing
                    # it would feed every rejection back in, without end.
                    continue
                try:
                    for record in read_records(
                        path,
                        format=format,
                        timezone=zone,
                        encoding=encoding,
                        recall=recall if memory is not None else None,
                    ):
                        if progress is not None:
                            progress(1, record.size)
                        digest = record.digest
                        if record.recalled is not None:
                            incoming: Incoming | InvalidRecordError = _recalled(store, record, zone)
                        else:
                            incoming = _prepare(store, record)
                            if digest is not None and isinstance(incoming, Incoming):
                                incoming = Remembered(*_fields(incoming), digest)
                        if isinstance(incoming, InvalidRecordError):
                            flush()  # in strict mode, what came before the bad record lands
                            reject(incoming)
                            continue
                        batch.append(incoming)
                        if len(batch) >= batch_size:
                            flush()
                except InvalidRecordError as exc:
                    # The file cannot be read on (truncated array, unreadable): report it and
                    # go on with the next file.
                    flush()
                    reject(exc)
            flush()
        finally:
            if reject_fp is not None:
                reject_fp.flush()
    return report


def _prepare(store: Store, record: Record) -> Incoming | InvalidRecordError:
    if record.error is not None:
        return record.error
    snapshot = record.snapshot
    assert snapshot is not None
    try:
        # The record is ours: prepare may reuse its snapshot rather than copy it.
        incoming = store.prepare(snapshot, copy=False)
    except NewsstoreError as exc:
        return InvalidRecordError(
            str(exc), source=record.source, line=record.line, index=record.index, raw=record.raw
        )
    size = _stored_size(incoming, snapshot)
    if size > MAX_RECORD_BYTES:
        return InvalidRecordError(
            f"record is {size / 2**20:.1f} MiB; the limit is 16 MiB"
            " (MongoDB's document size limit)",
            source=record.source,
            line=record.line,
            index=record.index,
            raw=record.raw[:1000],
        )
    return incoming


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cycle collector for the import.

    An import allocates millions of short-lived, acyclic objects (models, rows) that
    reference counting frees at once; the collector's repeated scans of them cost about a
    sixth of the import time and free nothing.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _fields(rec: Incoming) -> tuple[str, str, str | None, datetime | None, bytes, Any]:
    return rec.key, rec.content_hash, rec.url, rec.snapshot_at, rec.content, rec.payload


def _recalled(store: Store, record: Record, zone: str | tzinfo) -> Recalled:
    """The record of a line the store knows: what it gave before, and how to read it again."""
    raw, (key, content_hash, url) = record.recalled
    digest = record.digest
    assert digest is not None

    def materialize() -> Incoming:
        # The same bytes, zone and code gave a valid record before; they do again.
        again = _validate_json(raw, {"timezone": zone}, record.source, record.line, None)
        full = _prepare(store, again)
        if isinstance(full, InvalidRecordError):
            raise StoreError(f"a remembered line no longer reads: {full}")
        return full

    # Only the URL: the rules read no more of a record whose content hash is known.
    return Recalled(
        key=key,
        content_hash=content_hash,
        url=url,
        snapshot_at=None,
        content=b"",
        payload=None,
        digest=digest,
        materialize=materialize,
    )


def _stored_size(incoming: Incoming, snapshot: Snapshot) -> int:
    """The record's size as stored: its JSON, or its BSON form when that may be larger."""
    size = len(incoming.content)
    if size > MAX_RECORD_BYTES // _BSON_GROWTH:
        # BSON spends up to ~5x the JSON on tiny list items (type byte, index key, length),
        # so a record under the limit as JSON can be over it as a MongoDB document.
        size = max(size, bson_size(snapshot.model_dump(exclude={"stored"})))
    return size


def bson_size(value: dict[str, Any]) -> int:
    """The size of ``value`` encoded as a BSON document, computed without the driver.

    Covers what a snapshot dumps to: documents, arrays, strings, ints, floats, bools,
    datetimes and None (BSON spec: length, elements of type byte + key + value, NUL).
    """

    def element(key: str, item: Any) -> int:
        return 1 + len(key.encode("utf-8", "surrogatepass")) + 1 + size_of(item)

    def size_of(item: Any) -> int:
        if isinstance(item, dict):
            return 5 + sum(element(k, v) for k, v in item.items())
        if isinstance(item, (list, tuple)):
            return 5 + sum(element(str(i), v) for i, v in enumerate(item))
        if isinstance(item, str):
            return 4 + len(item.encode("utf-8", "surrogatepass")) + 1
        if item is None:
            return 0
        if isinstance(item, bool):
            return 1
        if isinstance(item, int):
            return 4 if -(2**31) <= item < 2**31 else 8
        return 8  # float, datetime

    return size_of(value)


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
