"""The values stores hand back: takedowns, related hits, counts, diagnoses (plain data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from .._copies import COUNTED_DISTANCE
from .._schemas import RelatedItem, Snapshot

__all__ = ["QUARTER_MS", "Diagnosis", "Grouped", "RelatedHit", "Stats", "Tombstone"]

QUARTER_MS = 15 * 60 * 1000
"""The width of :attr:`Grouped.quarters`' buckets, in milliseconds."""


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """What a store runs on, as ``newsstore doctor`` reports it."""

    store: str  # which store: the SQLite file, or the MongoDB database
    server: str  # the engine and its version
    topology: str  # embedded file, standalone, replica set NAME, sharded cluster
    writes: str  # how writes are made durable: the write concern, the journal
    indexes: dict[str, bool]  # every index lookups need, and whether it is there
    notes: list[str]  # anything a user should act on

    @property
    def missing(self) -> list[str]:
        """The indexes lookups need that are not there."""
        return [name for name, present in self.indexes.items() if not present]


@dataclass(frozen=True, slots=True)
class Tombstone:
    """A taken-down key: its snapshot and history were removed and imports skip it."""

    key: str
    url: str | None
    reason: str
    deleted_at: datetime
    # Whether the takedown removed anything (False: a pre-emptive takedown, or a typo).
    removed: bool = True
    # Whether the key was taken down already: this is that takedown, kept as it was.
    earlier: bool = False


@dataclass(frozen=True, slots=True)
class RelatedHit:
    """A related or more-in-category item, the snapshot listing it, and the one it links to."""

    item: RelatedItem
    kind: str  # "related" or "more_in_category"
    listed_by: Snapshot
    links_to: str | None  # key of a stored snapshot the item points at, when one matches


@dataclass(frozen=True, slots=True)
class Grouped:
    """What an adapter counts for :meth:`Store.stats`; None is a missing value.

    ``quarters`` counts published times by quarter hour since the epoch (UTC), fine enough
    to place every count on its calendar day in any zone of whole quarter-hour offsets.
    """

    categories: dict[str | None, int]
    sources: dict[str | None, int]
    quarters: dict[int | None, int]


@dataclass(slots=True)
class Stats:
    """Counts over the whole store."""

    snapshots: int
    history: int
    keys_with_versions: int
    suppressed: int
    by_category: dict[str, int]
    by_source: dict[str, int]
    by_day: dict[str, int]
    # Snapshots with another within ``near_distance`` (the default threshold), which
    # ``similar`` would find; None while a MongoDB store's pairs are not complete
    # (``newsstore backfill``) or when the threshold is beyond what is counted (40).
    near_duplicates: int | None = None
    near_distance: int = 32
    # The largest threshold the count can be made at (not a field: not in ``--json``).
    NEAR_LIMIT: ClassVar[int] = COUNTED_DISTANCE
