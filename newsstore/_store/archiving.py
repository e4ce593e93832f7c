"""The store's whole-store operations: its metadata, dump, restore and re-key.

A mixin of :class:`~newsstore._store.base.Store`, which supplies :meth:`_archive_target`;
the work is done in :mod:`newsstore._archive`, :mod:`newsstore._merging` and
:mod:`newsstore._rekey`, imported when used (they read this package's values, so importing
one of them first must not need this package loaded already).
"""

from __future__ import annotations

import abc
import os
from collections.abc import Callable
from datetime import datetime
from typing import IO, TYPE_CHECKING

from .._times import UTC

if TYPE_CHECKING:
    from .._archive import ArchiveReport, ArchiveTarget, StoreMeta

__all__ = ["Archiving"]

Progress = Callable[[int], None]


class Archiving(abc.ABC):
    """Dump, restore and re-key, for every store."""

    @abc.abstractmethod
    def _archive_target(self) -> ArchiveTarget: ...

    def _open_meta(self, *, create: bool, rekey: bool) -> None:
        """Check the keys' settings against the store's record of them, once at open.

        A store without the record gets it from the first writer that opens it. Raises
        :class:`~newsstore.KeySettingsError` when the tracking lists differ, unless the
        store is opened to be re-keyed.
        """
        from .._archive import check_meta

        target = self._archive_target()
        stored = target.backend.read_meta()
        if stored is None:
            if create:
                with target.transaction():
                    target.backend.write_meta(target.meta)
        elif not rekey:
            check_meta(stored, target.meta.tracking_params, target.name)

    @property
    def meta(self) -> StoreMeta:
        """The store's metadata as recorded (format, zone, tracking parameters), or as it
        will be recorded when the store has none yet."""
        target = self._archive_target()
        return target.backend.read_meta() or target.meta

    def dump(self, fp: IO[str], *, progress: Progress | None = None) -> tuple[int, int, int]:
        """Write the whole store to ``fp`` as one NDJSON archive (see :mod:`newsstore._archive`):
        its metadata, every takedown, current snapshot and history version. Returns how many
        snapshots, history versions and takedowns were written."""
        from .._archive import write_archive

        return write_archive(self._archive_target(), fp, now=datetime.now(UTC), progress=progress)

    def restore(
        self, path: str | os.PathLike[str], *, progress: Progress | None = None
    ) -> ArchiveReport:
        """Rebuild an archive :meth:`dump` wrote into this store, merging by the store's rules:
        takedowns win over content, history is a union, the newer snapshot is current.
        Running it again (after it was killed, say) converges on the same store."""
        from .._merging import restore_archive

        return restore_archive(self._archive_target(), os.fspath(path), progress=progress)

    def rekey(self, *, progress: Progress | None = None) -> ArchiveReport:
        """Recompute every key under this store's tracking-parameter list, merging records
        whose keys now coincide by the usual rules, then record the list. Open the store with
        ``rekey=True`` when its recorded list differs. Resumable: run it again after a kill."""
        from .._rekey import rekey_store

        return rekey_store(self._archive_target(), progress=progress)
