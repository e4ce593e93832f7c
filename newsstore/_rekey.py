"""Re-keying a store under a new tracking-parameter list, in one resumable pass.

Keys are canonical URLs, and a canonical URL drops the tracking parameters, so a new list
gives some snapshots new keys. :func:`rekey_store` moves each such key's takedown, current
snapshot and history to the new key, merging with what is there by the store's rules
(:func:`newsstore._archive.apply_currents`: a takedown wins, history is a union, the newer
snapshot is current), and removes the old key. Only then does the store record the new
list. A re-key that is killed leaves keys either moved or not (a key merged but not yet
removed is merged again, which changes nothing), so running it again finishes the job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ._archive import BATCH, ArchiveReport, ArchiveTarget, Current
from ._errors import InvalidURLError
from ._merging import apply_currents, apply_versions
from ._urls import canonical_url

__all__ = ["rekey_store"]

_MAX_PASSES = 5


def _new_key(key: str, url: str | None, params: tuple[str, ...]) -> str:
    if key.startswith("content:") or not url:
        return key  # a fingerprint does not depend on the tracking list
    return canonical_url(url, tracking_params=params)


def rekey_store(
    target: ArchiveTarget, *, progress: Callable[[int], None] | None = None
) -> ArchiveReport:
    """Give every key the form the store's tracking list makes; see the module docstring."""
    report = ArchiveReport()
    backend = target.backend
    params = target.meta.tracking_params
    with target.write_group():
        # Takedowns first: content moved onto a taken-down key is suppressed, never shown.
        for tomb in list(backend.takedowns()):
            try:
                new = _new_key(tomb.key, tomb.url or tomb.key, params)
            except InvalidURLError as exc:
                report.reject(f"takedown {tomb.key}: {exc}")
                continue
            if new != tomb.key:
                _, taken = backend.load([new])
                if new not in taken:
                    target.takedown(new, tomb.url, tomb.reason, tomb.deleted_at)
                target.lift(tomb.key)
                report.tombstones += 1
        for _ in range(_MAX_PASSES):
            if not _pass(target, params, report, progress):
                break
        with target.transaction():
            backend.write_meta(target.meta)
    return report


def _pass(
    target: ArchiveTarget,
    params: tuple[str, ...],
    report: ArchiveReport,
    progress: Callable[[int], None] | None,
) -> bool:
    """One walk over the keys; whether a key was left to move in another pass."""
    backend = target.backend
    after: str | None = None
    again = False
    while page := list(backend.currents(after, limit=BATCH)):
        after = page[-1].key
        moves: dict[str, str] = {}
        for c in page:
            try:
                new = _new_key(c.key, c.url, params)
            except InvalidURLError as exc:
                report.reject(f"key {c.key}: {exc}")
                continue
            if new != c.key:
                moves[c.key] = new
        if moves:
            currents = [
                (f"key {c.key}", Current(moves[c.key], c.url, c.state, c.content))
                for c in page
                if c.key in moves
            ]
            versions = [
                (
                    f"key {v.key}",
                    replace(v, key=moves[v.key]),
                )
                for v in backend.versions(list(moves))
            ]
            apply_currents(target, currents, report)
            apply_versions(target, versions, report, check_keys=False)
            # A key that is also where another moved stays until a later pass moves it.
            landed = set(moves.values())
            gone = [old for old in moves if old not in landed]
            again = again or len(gone) < len(moves)
            with target.transaction():
                backend.remove(gone)
        if progress is not None:
            progress(len(page))
    return again
