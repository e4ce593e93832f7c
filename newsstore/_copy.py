"""Copying a whole store into another directly: ``newsstore copy --to URI``.

Takedowns, current snapshots and history versions are read from the source in batches and
merged into the target by the same path a restore takes (:func:`newsstore._archive.apply_stream`):
takedowns first, a takedown wins over content, history is a union, the newer snapshot is
current. Every step is idempotent, so a copy run again converges. The final check compares
the counts of both stores and, where they differ, looks for what of the source the target
lacks: a target that held data of its own holds more, and passes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import TYPE_CHECKING

from ._archive import BATCH, ArchiveLine, ArchiveReport, ArchiveTarget, Item, check_meta
from ._errors import InvalidQueryError
from ._merging import apply_stream

if TYPE_CHECKING:
    from ._store.base import Store

__all__ = ["CopyReport", "copy_store"]

_KINDS = ("snapshots", "history versions", "takedowns")


@dataclass
class CopyReport:
    """What a copy wrote, and the final check: both stores' counts of current snapshots,
    history versions and takedowns and, where they differ, what of the source the target
    lacks (none: a target that held data of its own holds more, and all of the source)."""

    written: ArchiveReport
    source: tuple[int, int, int]
    target: tuple[int, int, int]
    differences: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        """Whether the target holds everything of the source (merged by the store's rules)."""
        return not self.differences


def copy_store(
    source: Store, target: Store, *, progress: Callable[[int], None] | None = None
) -> CopyReport:
    """Copy everything ``source`` holds into ``target``, merging with what it holds; then
    check the counts on both sides. Raises :class:`~newsstore.KeySettingsError` when the
    two make keys with different tracking lists."""
    src, dst = source._archive_target(), target._archive_target()
    if source.is_same_store(target):
        raise InvalidQueryError(f"{src.name} is the store being copied: choose another target")
    check_meta(source.meta, dst.meta.tracking_params, src.name)
    backend = src.backend

    def items() -> Iterator[tuple[str, ArchiveLine]]:
        stream: Iterator[Item] = chain(backend.takedowns(), backend.currents(), backend.versions())
        for item in stream:
            yield f"{src.name}, key {item.key}", ArchiveLine(0, item)

    written = ArchiveReport()
    with dst.write_group():
        apply_stream(dst, items(), written, progress)
    ours, theirs = backend.counts(), dst.backend.counts()
    if ours == theirs:
        return CopyReport(written, ours, theirs)
    # A target that held data of its own holds more: what matters is that nothing of the
    # source is missing from it, as the merge left it.
    return CopyReport(written, ours, theirs, _missing(src, dst))


def _missing(src: ArchiveTarget, dst: ArchiveTarget) -> list[str]:
    """What of ``src`` ``dst`` lacks, by kind, each with its first key: a takedown, a key's
    current snapshot, a history version (unless ``dst`` took the key down, or made that
    version its current)."""
    lacking: dict[str, list[str]] = {kind: [] for kind in _KINDS}
    pages: tuple[Iterator[Item], ...] = (
        src.backend.currents(),
        src.backend.versions(),
        src.backend.takedowns(),
    )
    for kind, page in zip(_KINDS, map(_batched, pages), strict=True):
        for items in page:
            keys = sorted({item.key for item in items})
            states, tombstoned = dst.backend.load(keys)
            held = set()
            if kind == "history versions":
                held = {(v.key, v.content_hash) for v in dst.backend.versions(keys)}
                held |= {(k, state.content_hash) for k, (state, _) in states.items()}
            for item in items:
                if kind == "takedowns":
                    gone = item.key not in tombstoned
                elif item.key in tombstoned:
                    gone = False  # taken down in the target: held back, as it must be
                elif kind == "snapshots":
                    gone = item.key not in states
                else:
                    gone = (item.key, item.content_hash) not in held  # type: ignore[union-attr]
                if gone:
                    lacking[kind].append(item.key)
    return [
        f"{kind}: {len(keys)} of {src.name} not in {dst.name} (the first: {keys[0]})"
        for kind, keys in lacking.items()
        if keys
    ]


def _batched(items: Iterator[Item]) -> Iterator[list[Item]]:
    while batch := list(islice(items, BATCH)):
        yield batch
