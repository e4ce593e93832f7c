"""Other copies of a story: near-duplicate lookups and clusters, the same for every store.

Each stored snapshot carries the MinHash signature of its body (:mod:`newsstore._minhash`)
and its band keys, indexed. :meth:`SimilarStore.similar` reads the snapshots that share a
band with the one asked about and keeps those within ``max_distance``;
:meth:`SimilarStore.clusters` groups the snapshots of a window into stories: two are in
one story when their distance is within ``max_distance``, and stories are the connected
groups of that relation; :meth:`SimilarStore.near_duplicates` counts the snapshots that
have a copy, from the pairs the stores keep as they write (:mod:`newsstore._copies`). The
adapters supply four primitives (``_signature_of``, ``_sharing_band``, ``_fingerprinted``,
``_near_duplicates``); :class:`~newsstore.Store` inherits the rest.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from ._copies import COUNTED_DISTANCE
from ._errors import InvalidQueryError
from ._minhash import SLOTS, bands, distance, signature
from ._schemas import Snapshot
from ._settings import Settings

__all__ = ["Fingerprinted", "SimilarHit", "SimilarStore", "StoryCluster", "default_max_distance"]


def default_max_distance() -> int:
    """The threshold when none is given: ``NEWSSTORE_SIMILAR_DISTANCE`` (default 32)."""
    return Settings().similar_distance


@dataclass(frozen=True, slots=True)
class Fingerprinted:
    """A stored snapshot as the lookups read it: who published it, when, and its signature."""

    key: str
    url: str | None
    source: str | None
    published_at: datetime | None
    snapshot_at: datetime | None
    signature: bytes


@dataclass(frozen=True, slots=True)
class SimilarHit:
    """Another stored snapshot of the same story, and how far its body is (0–64 slots)."""

    key: str
    url: str | None
    distance: int
    source: str | None
    published_at: datetime | None
    snapshot_at: datetime | None


@dataclass(frozen=True, slots=True)
class StoryCluster:
    """The snapshots of one story, earliest publication first.

    Each member's ``distance`` is to the earliest one (:attr:`first`), who published first.
    """

    members: tuple[SimilarHit, ...]
    sources: tuple[str, ...] = field(default=())

    @property
    def first(self) -> SimilarHit:
        """The member published first (unknown times last)."""
        return self.members[0]

    @property
    def size(self) -> int:
        return len(self.members)


def _check(max_distance: int | None) -> int:
    if max_distance is None:
        return default_max_distance()
    if isinstance(max_distance, bool) or not isinstance(max_distance, int):
        raise InvalidQueryError(f"max_distance must be an integer, not {max_distance!r}")
    if not 0 <= max_distance <= SLOTS:
        raise InvalidQueryError(f"max_distance must be between 0 and {SLOTS}, not {max_distance}")
    return max_distance


def _when(item: Fingerprinted | SimilarHit) -> tuple[bool, datetime | None, str]:
    # Unknown publication times sort last; the key breaks ties, so the order is stable.
    return (item.published_at is None, item.published_at, item.key)


def _hit(item: Fingerprinted, dist: int) -> SimilarHit:
    return SimilarHit(item.key, item.url, dist, item.source, item.published_at, item.snapshot_at)


def nearest(
    sig: bytes, candidates: Iterable[Fingerprinted], max_distance: int, exclude: str | None
) -> list[SimilarHit]:
    """The candidates within ``max_distance`` of ``sig``, nearest first, then earliest."""
    hits = []
    for item in candidates:
        if item.key == exclude:
            continue
        dist = distance(sig, item.signature)
        if dist <= max_distance:
            hits.append(_hit(item, dist))
    hits.sort(key=lambda h: (h.distance, *_when(h)))
    return hits


def group(items: list[Fingerprinted], max_distance: int) -> list[StoryCluster]:
    """Stories among ``items``: connected groups of pairs within ``max_distance``.

    Pairs are only compared when they share a band, as the index does, so a window costs
    its size, not its square. Single snapshots are no story; largest first, then earliest.
    """
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_band: dict[int, list[int]] = {}
    for i, item in enumerate(items):
        for band in bands(item.signature):
            by_band.setdefault(band, []).append(i)
    compared: set[tuple[int, int]] = set()
    for sharing in by_band.values():
        for n, i in enumerate(sharing):
            for j in sharing[n + 1 :]:
                if (i, j) in compared:
                    continue
                compared.add((i, j))
                if root(i) != root(j) and distance(items[i].signature, items[j].signature) <= (
                    max_distance
                ):
                    parent[root(j)] = root(i)
    groups: dict[int, list[Fingerprinted]] = {}
    for i, item in enumerate(items):
        groups.setdefault(root(i), []).append(item)
    clusters = []
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=_when)
        first = members[0].signature
        sources = tuple(dict.fromkeys(m.source for m in members if m.source))
        hits = tuple(_hit(m, distance(first, m.signature)) for m in members)
        clusters.append(StoryCluster(hits, sources))
    clusters.sort(key=lambda c: (-c.size, *_when(c.first)))
    return clusters


class SimilarStore(abc.ABC):
    """What :class:`~newsstore.Store` gets for near-duplicates; adapters supply the primitives."""

    @abc.abstractmethod
    def key_for(self, url_or_key: str) -> str: ...

    @abc.abstractmethod
    def key_of(self, snapshot: Snapshot) -> str: ...

    def similar(
        self, url_or_snapshot: str | Snapshot, *, max_distance: int | None = None
    ) -> list[SimilarHit]:
        """The other stored snapshots of the same story, nearest first.

        ``url_or_snapshot``: a stored snapshot's URL (any spelling) or key, or a
        :class:`~newsstore.Snapshot` (stored or not; its own key is left out of the
        answer). ``max_distance``: how many of the 64 signature slots may differ (default
        ``NEWSSTORE_SIMILAR_DISTANCE``, 32). Raises NotFoundError for a URL that is not
        stored; a body too short to fingerprint has no copies ([]).
        """
        limit = _check(max_distance)
        if isinstance(url_or_snapshot, Snapshot):
            exclude = self.key_of(url_or_snapshot)
            sig = signature(url_or_snapshot.paragraphs)
        else:
            exclude = self.key_for(url_or_snapshot)
            sig = self._signature_of(exclude, url_or_snapshot)
        if sig is None:
            return []
        return nearest(sig, self._sharing_band(bands(sig)), limit, exclude)

    def clusters(
        self, start: datetime, end: datetime, *, max_distance: int | None = None
    ) -> list[StoryCluster]:
        """The stories published in ``[start, end)`` with two snapshots or more, largest first.

        Snapshots are in one story when a chain of pairs within ``max_distance`` joins them
        (default ``NEWSSTORE_SIMILAR_DISTANCE``); each cluster lists its members earliest
        publication first, and its sources.
        """
        limit = _check(max_distance)
        return group(list(self._fingerprinted(start, end)), limit)

    def backfill(self, *, progress: Callable[[int, int], None] | None = None) -> int:
        """Fingerprint the stored snapshots that have no fingerprint yet; returns how many.

        Resumable: an interrupted backfill leaves what it did, and the next one goes on
        with the rest. ``progress(done, total)`` is called as it goes. SQLite stores are
        fingerprinted when an older store is first opened, so there it does nothing.
        """
        return 0

    def near_duplicates(self, *, max_distance: int | None = None) -> int | None:
        """How many stored snapshots have another within ``max_distance`` (default
        ``NEWSSTORE_SIMILAR_DISTANCE``): those for which :meth:`similar` finds something.

        Counted from the pairs of near snapshots, which the store keeps as it writes
        (:mod:`newsstore._copies`), not by a lookup per snapshot; they are kept up to a
        distance of 40, so a larger ``max_distance`` raises InvalidQueryError. None when a
        MongoDB store written before those pairs has not been through :meth:`backfill` yet.
        """
        limit = _check(max_distance)
        if limit > COUNTED_DISTANCE:
            raise InvalidQueryError(
                f"near-duplicates are counted up to a distance of {COUNTED_DISTANCE}, not {limit}"
            )
        return self._near_duplicates(limit)

    def _near_duplicates_counted(self) -> tuple[int | None, int]:
        # What ``stats`` shows, and at which threshold: None too when the threshold set is
        # beyond what is counted.
        limit = default_max_distance()
        return None if limit > COUNTED_DISTANCE else self._near_duplicates(limit), limit

    @abc.abstractmethod
    def _near_duplicates(self, max_distance: int) -> int | None:
        """How many stored snapshots have a kept pair within ``max_distance`` (None: the
        pairs are not complete)."""

    @abc.abstractmethod
    def _signature_of(self, key: str, asked: str) -> bytes | None:
        """The stored signature of ``key`` (None: its body is too short); raises
        NotFoundError naming ``asked`` when the key is not stored."""

    @abc.abstractmethod
    def _sharing_band(self, band_keys: list[int]) -> Iterable[Fingerprinted]:
        """Each stored snapshot with one of ``band_keys``, once."""

    @abc.abstractmethod
    def _fingerprinted(self, start: datetime, end: datetime) -> Iterable[Fingerprinted]:
        """Each fingerprinted snapshot published in ``[start, end)``."""
