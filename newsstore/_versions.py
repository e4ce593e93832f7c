"""A key's versions, numbered, and which keys got a new version in a window (pure, no I/O).

Every content a key has had is a *version*: the history entries, oldest snapshot first (a
missing snapshot time is oldest; ties broken by content hash, as the rules order them),
then the current content, always last, so version *n* is the current one. Version 1 is
the first content seen by snapshot time; a key *changed* in a window when one of its
versions after the first has its snapshot time in it (as NewsDiffs' front page counts).

Each version keeps when it was first and last seen. Stores written before these times were
kept (SQLite schema 4, MongoDB index version 1) do not know them for the earlier versions
of a key that already had several: those are None.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from ._diff import SnapshotDiff, diff_snapshots
from ._errors import NotFoundError
from ._schemas import Snapshot

__all__ = [
    "KeyChange",
    "Version",
    "VersionDiff",
    "VersionEntry",
    "changed_keys",
    "compare",
    "number_versions",
    "pick",
]

_OLDEST = datetime.min.replace(tzinfo=timezone.utc)
SeenTimes = tuple[datetime | None, datetime | None]


@dataclass(frozen=True, slots=True)
class Version:
    """One content of a key: its number (1 = oldest, the current one last) and its times.

    ``changed`` names the fields that differ from the version before (``paragraphs``
    included), ``diff`` is that difference; both are empty for version 1.
    """

    number: int
    key: str
    content_hash: str
    snapshot_at: datetime | None
    first_seen: datetime | None
    last_seen: datetime | None
    current: bool
    changed: tuple[str, ...]
    diff: SnapshotDiff | None
    snapshot: Snapshot


@dataclass(frozen=True, slots=True)
class KeyChange:
    """A key that got a new version in a window: when (the latest such snapshot time) and
    how many versions it has in all."""

    key: str
    url: str | None
    changed_at: datetime
    versions: int


@dataclass(frozen=True, slots=True)
class VersionEntry:
    """What :func:`changed_keys` needs of one stored content (adapters read these)."""

    key: str
    content_hash: str
    snapshot_at: datetime | None
    current: bool
    url: str | None = None


def _order(snapshot_at: datetime | None, content_hash: str) -> tuple[datetime, str]:
    return (snapshot_at or _OLDEST, content_hash)


def number_versions(
    current: Snapshot, history: Iterable[Snapshot], times: Mapping[str, SeenTimes]
) -> list[Version]:
    """Number a key's contents: ``history`` oldest first, then ``current``.

    ``times`` gives each content hash's first and last seen times, where the store has them.
    """
    assert current.stored is not None
    earlier = sorted(
        history,
        key=lambda s: _order(s.snapshot_at, s.stored.content_hash if s.stored else ""),
    )
    snapshots = [*earlier, current]
    versions: list[Version] = []
    previous: Snapshot | None = None
    for number, snap in enumerate(snapshots, 1):
        assert snap.stored is not None
        chash = snap.stored.content_hash
        first, last = times.get(chash, (None, None))
        if len(snapshots) == 1 and first is None:
            # The only content a key had: the key's own times are its times.
            first, last = snap.stored.first_seen, snap.stored.last_seen
        diff = None if previous is None else diff_snapshots(previous, snap)
        versions.append(
            Version(
                number=number,
                key=snap.stored.key,
                content_hash=chash,
                snapshot_at=snap.snapshot_at,
                first_seen=first,
                last_seen=last,
                current=snap is current,
                changed=() if diff is None else diff.changed_fields,
                diff=diff,
                snapshot=snap,
            )
        )
        previous = snap
    return versions


def pick(versions: list[Version], number: int, what: str = "version") -> Version:
    """Version ``number`` (1-based; negative counts from the current one, -1); NotFoundError
    naming the versions there are when it is out of range."""
    count = len(versions)
    index = number - 1 if number > 0 else count + number
    if number == 0 or not 0 <= index < count:
        key = versions[0].key if versions else "the key"
        raise NotFoundError(
            f"{key} has {count} version{'s' if count != 1 else ''} (1–{count}):"
            f" there is no {what} {number}"
        )
    return versions[index]


def changed_keys(
    entries: Iterable[VersionEntry], start: datetime | None, end: datetime | None
) -> list[KeyChange]:
    """The keys among ``entries`` (every content of each key) with a version after the first
    whose snapshot time is in ``[start, end)``; latest change first."""
    by_key: dict[str, list[VersionEntry]] = {}
    for entry in entries:
        by_key.setdefault(entry.key, []).append(entry)
    found: list[KeyChange] = []
    for key, items in by_key.items():
        if len(items) < 2:
            continue
        current = [e for e in items if e.current]
        earlier = sorted(
            (e for e in items if not e.current), key=lambda e: _order(e.snapshot_at, e.content_hash)
        )
        ordered = earlier + current
        times = [
            e.snapshot_at
            for e in ordered[1:]
            if e.snapshot_at is not None
            and (start is None or e.snapshot_at >= start)
            and (end is None or e.snapshot_at < end)
        ]
        if times:
            url = current[0].url if current else None
            found.append(KeyChange(key, url, max(times), len(items)))
    found.sort(key=lambda c: (c.changed_at, c.key), reverse=True)
    return found


@dataclass(frozen=True, slots=True)
class VersionDiff:
    """Two versions of a key and what changed from ``old`` to ``new``."""

    key: str
    old: Version
    new: Version
    diff: SnapshotDiff


def compare(versions: list[Version], old: int | None, new: int | None) -> VersionDiff:
    """The diff of versions ``old`` and ``new`` (default: the last two; a key with one version
    is compared with itself). NotFoundError when either is out of range."""
    to = pick(versions, new if new is not None else len(versions), "version")
    frm = versions[max(to.number - 2, 0)] if old is None else pick(versions, old, "version")
    diff = (
        to.diff
        if to.diff is not None and frm.number == to.number - 1
        else diff_snapshots(frm.snapshot, to.snapshot)
    )
    return VersionDiff(to.key, frm, to, diff)
