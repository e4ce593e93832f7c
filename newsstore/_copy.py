"""Copying a whole store into another directly: ``newsstore copy --to URI``.

Takedowns, current snapshots and history versions are read from the source in batches and
merged into the target by the same path a restore takes (:func:`newsstore._archive.apply_stream`):
takedowns first, a takedown wins over content, history is a union, the newer snapshot is
current. Every step is idempotent, so a copy run again converges. The final check compares
the counts of both stores.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import TYPE_CHECKING

from ._archive import ArchiveLine, ArchiveReport, Item, check_meta
from ._errors import InvalidQueryError
from ._merging import apply_stream

if TYPE_CHECKING:
    from ._store.base import Store

__all__ = ["CopyReport", "copy_store"]

_KINDS = ("snapshots", "history versions", "takedowns")


@dataclass
class CopyReport:
    """What a copy wrote, and the final check: both stores' counts of current snapshots,
    history versions and takedowns, and every count that differs, named."""

    written: ArchiveReport
    source: tuple[int, int, int]
    target: tuple[int, int, int]
    differences: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        """Whether both stores hold as many of each."""
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
    differences = [
        f"{kind}: {a} in {src.name}, {b} in {dst.name}"
        for kind, a, b in zip(_KINDS, ours, theirs, strict=True)
        if a != b
    ]
    return CopyReport(written, ours, theirs, differences)
