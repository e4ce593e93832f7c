"""Merging records into a store: what restore, copy and re-key write through.

The rules are the store's: a takedown wins over content, history is a union, the newer
snapshot is current (:func:`~newsstore._rules.merge_stored`). Every record is validated
and its content hash (and key) checked before it is written; a bad one is rejected with
where it came from and the rest land. Every step is idempotent, so a restore or copy that
was killed converges when run again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from ._archive import (
    BATCH,
    ArchiveLine,
    ArchiveReport,
    ArchiveTarget,
    Current,
    Merge,
    StoreMeta,
    Version,
    check_meta,
)
from ._archive_reading import read_archive
from ._errors import InvalidRecordError, NewsstoreError, StoreError
from ._records import error_text
from ._rules import Incoming, StoredKey, merge_stored
from ._schemas import Snapshot
from ._store.values import Tombstone
from ._times import UTC

__all__ = [
    "apply_currents",
    "apply_stream",
    "apply_tombstones",
    "apply_versions",
    "restore_archive",
]

_UTC_CONTEXT = {"timezone": UTC}
_MAX_ROUNDS = 20


def _prepared(
    target: ArchiveTarget,
    key: str,
    url: str | None,
    content: bytes | dict[str, Any],
    content_hash: str,
    *,
    check_key: bool = True,
) -> Incoming:
    """The record ready to write under ``key``, checked: it is valid, its hash (and unless
    ``check_key`` is false its key) its own."""
    try:
        if isinstance(content, bytes):
            snapshot = Snapshot.model_validate_json(content, context=_UTC_CONTEXT)
        else:
            snapshot = Snapshot.model_validate(content, context=_UTC_CONTEXT)
    except ValidationError as exc:
        raise ValueError(error_text(exc)) from None
    snapshot.url = url
    incoming = target.prepare(snapshot)
    if incoming.content_hash != content_hash:
        raise ValueError(
            f"content hash {content_hash} is not its content's ({incoming.content_hash})"
        )
    if incoming.key != key:
        if check_key:
            raise ValueError(f"key {key} is not the record's own ({incoming.key})")
        incoming = replace(incoming, key=key)
    return incoming


def _retrying(
    target: ArchiveTarget,
    keys: list[str],
    plan: Callable[[dict[str, tuple[StoredKey, int]], set[str], list[str]], list[Merge]],
) -> None:
    """Load, merge and write ``keys``, merging again those that lost a race."""
    pending = keys
    for _ in range(_MAX_ROUNDS):
        now = datetime.now(UTC)
        with target.transaction():
            states, tombstoned = target.backend.load(pending)
            merges = plan(states, tombstoned, pending)
            conflicts = target.backend.apply(merges, now) if merges else set()
        if not conflicts:
            return
        pending = [k for k in pending if k in conflicts]
    raise StoreError(f"{len(pending)} keys kept conflicting with concurrent writers")


def apply_currents(
    target: ArchiveTarget,
    items: list[tuple[str, Current]],
    report: ArchiveReport,
) -> None:
    """Merge current snapshots (each with where it came from) into the store."""
    ready: dict[str, tuple[Current, Incoming]] = {}
    for where, c in items:
        try:
            incoming = _prepared(target, c.key, c.url, c.content, c.state.content_hash)
        except (ValueError, NewsstoreError) as exc:
            report.reject(f"{where}: {exc}")
            continue
        if c.key in ready:  # the same key twice in one batch: merged in order
            _retrying(target, list(ready), _planner(ready, report))
            ready = {}
        state = replace(c.state, snapshot_at=incoming.snapshot_at)
        ready[c.key] = (Current(c.key, incoming.url, state, c.content), incoming)
    if ready:
        _retrying(target, list(ready), _planner(ready, report))


def _planner(
    ready: dict[str, tuple[Current, Incoming]], report: ArchiveReport
) -> Callable[[dict[str, tuple[StoredKey, int]], set[str], list[str]], list[Merge]]:
    counted = set()

    def plan(
        states: dict[str, tuple[StoredKey, int]], tombstoned: set[str], keys: list[str]
    ) -> list[Merge]:
        merges = []
        for key in keys:
            current, incoming = ready[key]
            if key not in counted:  # a key merged again after a lost race counts once
                counted.add(key)
                if key in tombstoned:
                    report.suppressed += 1
                else:
                    report.snapshots += 1
            if key in tombstoned:
                continue
            stored = states.get(key)
            theirs = current.state
            if stored is None:
                merges.append(Merge(key, None, theirs, current=incoming))
                continue
            ours, rev = stored
            theirs_wins, merged = merge_stored(ours, theirs)
            if theirs_wins:
                unarchive = incoming.content_hash if incoming.content_hash in ours.hashes else None
                merges.append(
                    Merge(
                        key,
                        rev,
                        merged,
                        current=incoming,
                        archive_current=True,
                        unarchive=unarchive,
                    )
                )
            elif incoming.content_hash != ours.content_hash:
                # The other content is history, as if it had stopped being current when
                # last seen (a fixed time: merging again writes the same entry).
                merges.append(
                    Merge(
                        key,
                        rev,
                        merged,
                        history=[(incoming, theirs.last_seen)],
                        seen={incoming.content_hash: theirs.version_seen},
                    )
                )
            elif merged != ours:
                merges.append(Merge(key, rev, merged))
        return merges

    return plan


def apply_versions(
    target: ArchiveTarget,
    items: list[tuple[str, Version]],
    report: ArchiveReport,
    *,
    check_keys: bool = True,
) -> None:
    """Add history versions to the store (a key's current content is not history).

    ``check_keys=False``: the versions are re-keyed with their current, so their own URL
    need not give their key (their content is checked all the same).
    """
    ready: dict[str, list[tuple[Incoming, datetime]]] = {}
    seen: dict[str, dict[str, tuple[datetime | None, datetime | None]]] = {}
    for where, v in items:
        try:
            incoming = _prepared(
                target, v.key, v.url, v.content, v.content_hash, check_key=check_keys
            )
        except (ValueError, NewsstoreError) as exc:
            report.reject(f"{where}: {exc}")
            continue
        ready.setdefault(v.key, []).append((incoming, v.archived_at))
        seen.setdefault(v.key, {})[incoming.content_hash] = (v.first_seen, v.last_seen)
    counted: set[str] = set()

    def plan(
        states: dict[str, tuple[StoredKey, int]], tombstoned: set[str], keys: list[str]
    ) -> list[Merge]:
        merges = []
        for key in keys:
            if key not in counted:
                counted.add(key)
                if key in tombstoned:
                    report.suppressed += len(ready[key])
                else:
                    report.history += len(ready[key])
            if key in tombstoned:
                continue
            stored = states.get(key)
            if stored is None:
                # History of a key with no current here: kept as it is.
                merges.append(Merge(key, None, None, history=ready[key], seen=seen[key]))
                continue
            ours, rev = stored
            entries = [(r, at) for r, at in ready[key] if r.content_hash != ours.content_hash]
            new = tuple(r.content_hash for r, _ in entries if r.content_hash not in ours.hashes)
            if not entries:
                continue
            state = None
            if new:
                state = replace(ours, hashes=ours.hashes + new)
            merges.append(Merge(key, rev, state, history=entries, seen=seen[key]))
        return merges

    if ready:
        _retrying(target, list(ready), plan)


def apply_tombstones(
    target: ArchiveTarget, items: list[tuple[str, Tombstone]], report: ArchiveReport
) -> None:
    """Record takedowns the store does not have yet (removing what it holds of their keys)."""
    _, tombstoned = target.backend.load([t.key for _, t in items])
    for _, t in items:
        report.tombstones += 1
        if t.key not in tombstoned:
            target.takedown(t.key, t.url, t.reason, t.deleted_at)
            tombstoned.add(t.key)


def restore_archive(
    target: ArchiveTarget,
    path: str,
    *,
    progress: Callable[[int], None] | None = None,
) -> ArchiveReport:
    """Merge the archive at ``path`` into the store; see the module's docstring."""
    header, lines = read_archive(path)
    try:
        meta = StoreMeta.from_json(header.get("store"))
    except StoreError as exc:
        raise InvalidRecordError(str(exc), source=path, line=1) from None
    check_meta(meta, target.meta.tracking_params, f"the archive {path}")
    report = ArchiveReport()
    with target.write_group():
        apply_stream(target, ((f"{path}:{a.line}", a) for a in lines), report, progress)
    return report


def apply_stream(
    target: ArchiveTarget,
    lines: Iterable[tuple[str, ArchiveLine]],
    report: ArchiveReport,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Merge archive records in batches of one kind, in the order they come."""
    batch: list[tuple[str, Any]] = []
    kind: type | None = None

    def flush() -> None:
        if not batch:
            return
        if kind is Tombstone:
            apply_tombstones(target, batch, report)
        elif kind is Current:
            apply_currents(target, batch, report)
        else:
            apply_versions(target, batch, report)
        if progress is not None:
            progress(len(batch))
        batch.clear()

    for where, line in lines:
        if line.item is None:
            report.reject(f"{where}: {line.error}")
            continue
        if type(line.item) is not kind or len(batch) >= BATCH:
            flush()
            kind = type(line.item)
        batch.append((where, line.item))
    flush()
