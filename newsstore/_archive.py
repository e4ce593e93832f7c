"""Dump and restore: a whole store as one NDJSON archive, and merging records into a store.

An archive (``newsstore dump``) is one JSON object a line, gzip when its name ends in
``.gz``:

* a header: ``{"newsstore": "archive", "format": 1, "archived_at": …, "store": {…},
  "counts": {…}}``, ``store`` being the store's metadata (:class:`StoreMeta`: format,
  zone, the tracking-parameter list its keys were made with);
* every takedown, ``{"tombstone": {"key", "url", "reason", "deleted_at"}}``, first, so that
  a restore never holds content that a takedown in the archive removes, even when killed;
* every current snapshot, ``{"stored": {"key", "url", "urls", "content_hash", "hashes",
  "first_seen", "last_seen", "seen_count", "records", "version_first_seen",
  "version_last_seen"}, "snapshot": {…}}``, by key (``records``: the ids of the input
  records ``seen_count`` counts; ``version_…``: when the current content was first and last
  seen, null when not known; an older archive lacks them, and is read as not knowing them);
* every history version, ``{"stored": {"key", "url", "content_hash", "archived_at",
  "first_seen", "last_seen"}, "history": {…}}``, by key and content hash.

``snapshot`` and ``history`` hold the content JSON the hash is taken over (times in UTC, no
URL, see :func:`~newsstore._identity.utc_content`); times elsewhere are UTC with
milliseconds. Each line is written in the same byte order by every store, so the dump of a
store restored from an archive is that archive, apart from ``archived_at``.

Reading an archive is :mod:`newsstore._archive_reading`'s. Merging (restore, copy and re-key
write through :mod:`newsstore._merging`) follows the
store's rules: a takedown wins over content, history is a union, the newer snapshot is
current (:func:`~newsstore._rules.merge_stored`). Every step is idempotent, so a restore
or copy that was killed converges when run again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any, Protocol

from ._errors import (
    KeySettingsError,
    StoreError,
)
from ._export import Utf8Output
from ._rules import Incoming, StoredKey
from ._schemas import MAX_ERRORS_KEPT, Snapshot
from ._store.values import Tombstone
from ._times import UTC
from ._urls import DEFAULT_TRACKING_PARAMS

__all__ = [
    "ARCHIVE_FORMAT",
    "BATCH",
    "STORE_FORMAT",
    "ArchiveBackend",
    "ArchiveLine",
    "ArchiveReport",
    "ArchiveTarget",
    "Current",
    "Item",
    "Merge",
    "StoreMeta",
    "Version",
    "check_meta",
    "effective_params",
    "iso",
    "parse_time",
    "write_archive",
]

ARCHIVE_FORMAT = 1
# The format of a store's metadata (StoreMeta.format) this version writes and reads.
STORE_FORMAT = 1
BATCH = 500
_MS = timedelta(milliseconds=1)


@dataclass(frozen=True, slots=True)
class StoreMeta:
    """What a store records about itself: the format, its zone, the keys' settings."""

    format: int
    zone: str
    tracking_params: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "zone": self.zone,
            "tracking_params": [*self.tracking_params],
        }

    @classmethod
    def from_json(cls, data: Any) -> StoreMeta:
        try:
            params = data["tracking_params"]
            if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
                raise TypeError("tracking_params is not a list of strings")
            return cls(int(data["format"]), str(data["zone"]), tuple(sorted(params)))
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreError(f"unreadable store metadata ({exc}): {data!r}") from None


def effective_params(params: Iterable[str] | None) -> tuple[str, ...]:
    """The tracking list keys are made with (None: the default one), sorted."""
    return tuple(sorted(DEFAULT_TRACKING_PARAMS if params is None else params))


def check_meta(stored: StoreMeta, params: tuple[str, ...], where: str) -> None:
    """Refuse to use a store whose keys were made with another tracking list."""
    if stored.tracking_params != params:
        raise KeySettingsError(
            f"{where} keys its snapshots with the tracking parameters"
            f" {','.join(stored.tracking_params) or '(none)'}, not with"
            f" {','.join(params) or '(none)'} as set now (NEWSSTORE_TRACKING_PARAMS, else the"
            " default list): set the store's list, or run `newsstore rekey` to re-key the"
            " store under the new one"
        )


@dataclass(slots=True)
class Current:
    """A key's current snapshot as a store holds it (``content``: the hashed JSON, or that
    JSON parsed, as an archive's reader has it)."""

    key: str
    url: str | None
    state: StoredKey
    content: bytes | dict[str, Any]


@dataclass(slots=True)
class Version:
    """A history entry: another content seen for ``key``."""

    key: str
    url: str | None
    content_hash: str
    archived_at: datetime
    content: bytes | dict[str, Any]
    first_seen: datetime | None = None  # when this content was first and last seen
    last_seen: datetime | None = None


@dataclass(slots=True)
class Merge:
    """What to write for one key: its stored fields after the merge and the content moves.

    ``expected_rev`` None: a new key (insert); else the revision merged against (a store
    without a lock writes on condition of it and reports a conflict). ``state`` None: the
    key's stored fields stay (only history is added). ``current``: new current content
    (None: the stored content stays). ``archive_current``: the stored current goes to
    history first. ``history``: contents to add to history with when they were archived
    (kept if there), and ``seen`` when each was first and last seen, by content hash.
    ``unarchive``: a content hash now current, to leave history.
    """

    key: str
    expected_rev: int | None
    state: StoredKey | None
    current: Incoming | None = None
    archive_current: bool = False
    history: list[tuple[Incoming, datetime]] = field(default_factory=list)
    unarchive: str | None = None
    seen: dict[str, tuple[datetime | None, datetime | None]] = field(default_factory=dict)


class ArchiveBackend(Protocol):
    """What an adapter supplies for dump, restore, copy and re-key (its own module)."""

    def read_meta(self) -> StoreMeta | None: ...

    def write_meta(self, meta: StoreMeta) -> None: ...

    def counts(self) -> tuple[int, int, int]:
        """Current snapshots, history versions, takedowns."""
        ...

    def currents(self, after: str | None = None, limit: int | None = None) -> Iterator[Current]:
        """The current snapshots by key (only keys after ``after``, at most ``limit``)."""
        ...

    def versions(self, keys: list[str] | None = None) -> Iterator[Version]:
        """History by key and content hash (of ``keys`` only, when given)."""
        ...

    def takedowns(self) -> Iterator[Tombstone]:
        """Every takedown, by key, times in UTC."""
        ...

    def load(self, keys: list[str]) -> tuple[dict[str, tuple[StoredKey, int]], set[str]]:
        """The stored state and revision of each key that has one; which keys are taken down."""
        ...

    def apply(self, merges: list[Merge], now: datetime) -> set[str]:
        """Write merges; the keys whose write lost a race (to be merged again)."""
        ...

    def remove(self, keys: list[str]) -> None:
        """Delete the snapshots and history of ``keys`` (no takedown: re-keying moves them)."""
        ...


@dataclass(frozen=True)
class ArchiveTarget:
    """A store as dump, restore, copy and re-key see it (built by ``Store._archive_target``)."""

    name: str
    backend: ArchiveBackend
    meta: StoreMeta
    prepare: Callable[[Snapshot], Incoming]
    transaction: Callable[[], AbstractContextManager[Any]]
    write_group: Callable[[], AbstractContextManager[Any]]
    takedown: Callable[[str, str | None, str, datetime], Tombstone]
    lift: Callable[[str], bool]
    own_files: tuple[str, ...] = ()


@dataclass
class ArchiveReport:
    """What a restore, copy or re-key wrote: snapshots, history versions, takedowns read,
    how many were suppressed by a takedown or rejected, and the first rejections."""

    snapshots: int = 0
    history: int = 0
    tombstones: int = 0
    suppressed: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)

    def reject(self, message: str) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(message)

    def summary(self) -> str:
        """One line for people."""
        text = (
            f"{self.snapshots} snapshots, {self.history} history versions,"
            f" {self.tombstones} takedowns"
        )
        if self.suppressed:
            text += f", {self.suppressed} suppressed by a takedown"
        return text + f", {self.rejected} rejected"


# -- times ---------------------------------------------------------------------------------
def iso(value: datetime) -> str:
    """A time as the archive writes it: UTC, milliseconds, ``Z``."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_time(text: Any) -> datetime:
    """A time of the archive (raises ValueError)."""
    if not isinstance(text, str):
        raise ValueError(f"expected a time, got {text!r}")
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"time without zone: {text!r}")
    return value.astimezone(UTC)


# -- writing -------------------------------------------------------------------------------
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _bytes(content: bytes | dict[str, Any]) -> bytes:
    return content if isinstance(content, bytes) else _dumps(content).encode()


def _current_line(c: Current) -> bytes:
    s = c.state
    stored = {
        "key": c.key,
        "url": c.url,
        "urls": list(s.urls),
        "content_hash": s.content_hash,
        "hashes": list(s.hashes),
        "first_seen": iso(s.first_seen),
        "last_seen": iso(s.last_seen),
        "seen_count": s.seen_count,
        "records": list(s.records),
        "version_first_seen": _iso_or_none(s.version_seen[0]),
        "version_last_seen": _iso_or_none(s.version_seen[1]),
    }
    return b'{"stored":' + _dumps(stored).encode() + b',"snapshot":' + _bytes(c.content) + b"}\n"


def _iso_or_none(value: datetime | None) -> str | None:
    return None if value is None else iso(value)


def _version_line(v: Version) -> bytes:
    stored = {
        "key": v.key,
        "url": v.url,
        "content_hash": v.content_hash,
        "archived_at": iso(v.archived_at),
        "first_seen": _iso_or_none(v.first_seen),
        "last_seen": _iso_or_none(v.last_seen),
    }
    return b'{"stored":' + _dumps(stored).encode() + b',"history":' + _bytes(v.content) + b"}\n"


def _tombstone_line(t: Tombstone) -> bytes:
    data = {"key": t.key, "url": t.url, "reason": t.reason, "deleted_at": iso(t.deleted_at)}
    return _dumps({"tombstone": data}).encode() + b"\n"


def write_archive(
    target: ArchiveTarget,
    fp: IO[str],
    *,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int, int]:
    """Write the store as an archive to ``fp``; the snapshots, versions and takedowns written."""
    backend = target.backend
    snapshots, history, tombstones = backend.counts()
    header = {
        "newsstore": "archive",
        "format": ARCHIVE_FORMAT,
        "archived_at": iso(now),
        "store": target.meta.to_json(),
        "counts": {"snapshots": snapshots, "history": history, "tombstones": tombstones},
    }
    if isinstance(fp, Utf8Output):
        fp.flush()  # the bytes go under the text layer, which must hold nothing

        def write(data: bytes) -> None:
            fp.buffer.write(data)
    else:

        def write(data: bytes) -> None:
            fp.write(data.decode())

    write(_dumps(header).encode() + b"\n")
    written = [0, 0, 0]
    for i, lines in enumerate(
        (
            map(_tombstone_line, backend.takedowns()),
            map(_current_line, backend.currents()),
            map(_version_line, backend.versions()),
        )
    ):
        for n, line in enumerate(lines, 1):
            write(line)
            written[i] += 1
            if progress is not None and n % BATCH == 0:
                progress(BATCH)
        if progress is not None:
            progress(written[i] % BATCH)
    return written[1], written[2], written[0]


# -- reading -------------------------------------------------------------------------------
Item = Current | Version | Tombstone


@dataclass(frozen=True, slots=True)
class ArchiveLine:
    """One record of an archive and where it is (``item`` None: it was rejected)."""

    line: int
    item: Item | None
    error: str | None = None
