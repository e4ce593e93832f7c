"""The store's versions of a key: numbered, compared, and the keys that changed in a window.

A mixin of :class:`~newsstore._store.base.Store`; the rules are in :mod:`newsstore._versions`,
the adapters supply :meth:`_version_times` and :meth:`_version_entries`.
"""

from __future__ import annotations

import abc
from dataclasses import replace
from datetime import datetime, tzinfo

from .. import _versions
from .._errors import InvalidQueryError
from .._schemas import Snapshot
from .._times import in_zone
from .._versions import KeyChange, SeenTimes, Version, VersionDiff, VersionEntry

__all__ = ["Versioning"]


class Versioning(abc.ABC):
    """Versions and diffs, for every store."""

    zone: tzinfo

    @abc.abstractmethod
    def key_for(self, url_or_key: str) -> str: ...

    @abc.abstractmethod
    def get(self, url_or_key: str) -> Snapshot: ...

    @abc.abstractmethod
    def _history(self, key: str) -> list[Snapshot]: ...

    def versions(self, url_or_key: str) -> list[Version]:
        """Every content of a key, numbered 1…n oldest first, the current one last."""
        key = self.key_for(url_or_key)
        current = self.get(key)
        # The adapters read the seen times in UTC; a user gets them in the store's zone.
        times = {
            chash: (self._zoned(first), self._zoned(last))
            for chash, (first, last) in self._version_times(key).items()
        }
        return _versions.number_versions(current, self._history(key), times)

    def _zoned(self, at: datetime | None) -> datetime | None:
        return None if at is None else in_zone(at, self.zone)

    def version(self, url_or_key: str, number: int) -> Version:
        """Version ``number`` of a key (1 = oldest, -1 = current); NotFoundError if none."""
        return _versions.pick(self.versions(url_or_key), number)

    def diff(self, url_or_key: str, old: int | None = None, new: int | None = None) -> VersionDiff:
        """What changed from version ``old`` to ``new`` of a key (default: the last two)."""
        return _versions.compare(self.versions(url_or_key), old, new)

    def changed(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> list[KeyChange]:
        """Keys that got a new version with its snapshot time in ``[start, end)``, latest first."""
        if any(t is not None and t.utcoffset() is None for t in (start, end)):
            raise InvalidQueryError("start and end must be timezone-aware datetimes")
        found = _versions.changed_keys(self._version_entries(start, end), start, end)
        return [replace(c, changed_at=c.changed_at.astimezone(self.zone)) for c in found]

    @abc.abstractmethod
    def _version_times(self, key: str) -> dict[str, SeenTimes]:
        """When each content of ``key`` was first and last seen, by content hash."""

    @abc.abstractmethod
    def _version_entries(self, start: datetime | None, end: datetime | None) -> list[VersionEntry]:
        """Every content of each key that has one with its snapshot time in the window."""
