"""The domain interface every store implements, and the write loop shared by all of them.

Adapters supply a handful of primitives (load key states, write plans, run queries); the
rules of :mod:`newsstore._rules` and the batching and retry loop live here, once. A store
may offer one optional capability, a line memory (:mod:`newsstore._linememory`), through
:meth:`Store._line_backend`.
"""

from __future__ import annotations

import abc
import os
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import date, datetime, timedelta, tzinfo
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, ClassVar

from .._errors import InvalidQueryError, NotFoundError, StoreError, TakenDownError
from .._export import ExportFormat, Tick, counted, write_snapshots
from .._identity import lookup_key, snapshot_key
from .._importing import ImportOptions, ImportTarget, import_records
from .._linememory import LineBackend, lines_written, settle
from .._preparing import Payloads, Recipe, RecordPreparer, incoming_of
from .._query import Query, TimeField
from .._rules import Incoming, KeyPlan, KeyState, Policy, plan_key
from .._schemas import ImportReport, RelatedItem, Snapshot
from .._similar import SimilarStore
from .._times import DEFAULT_TIMEZONE, UTC, day_range, quarter_days, utc_window, zone_of
from .._urls import canonical_url, host_of, lookup_url, reversed_host, url_prefix
from .archiving import Archiving
from .values import QUARTER_MS, Diagnosis, Grouped, RelatedHit, Stats, Tombstone
from .versioning import Versioning

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .._archive import ArchiveBackend, ArchiveTarget

__all__ = ["Diagnosis", "Grouped", "RelatedHit", "Stats", "Store", "Tombstone"]

# Keys whose conditional write lost a race are re-planned; a key that loses this many times
# in a row is under a write storm no retry will fix.
_MAX_ROUNDS = 20
# The two lists of items a snapshot carries, as RelatedHit.kind names them.
_ITEM_KINDS = ("related", "more_in_category")
# Sorts after every character, so [prefix, prefix + _TOP) is "starts with prefix".
_TOP = "\U0010ffff"


def _by_count(counts: dict[str | None, int]) -> dict[str, int]:
    merged: Counter[str] = Counter()
    for name, n in counts.items():
        merged[name or ""] += n
    return dict(sorted(merged.items(), key=lambda item: (-item[1], item[0])))


class Store(Archiving, Versioning, SimilarStore):
    """A place snapshots are kept, deduplicated on the canonical URL.

    Open one with :func:`newsstore.open_store`; use it as a context manager or call
    :meth:`close`. All times returned are in the store's ``zone``. The near-duplicate
    lookups (``similar``, ``clusters``, ``backfill``) come from
    :class:`~newsstore._similar.SimilarStore`.
    """

    zone: tzinfo

    def __init__(
        self,
        *,
        timezone: str | tzinfo = DEFAULT_TIMEZONE,
        tracking_params: Collection[str] | None = None,
    ) -> None:
        self.zone = zone_of(timezone)
        # None: newsstore._urls.DEFAULT_TRACKING_PARAMS. Keys depend on it, so a store should
        # keep one list for its lifetime.
        self.tracking_params = None if tracking_params is None else frozenset(tracking_params)

    # -- lifecycle ---------------------------------------------------------------------
    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection."""

    # -- writing -----------------------------------------------------------------------
    def key_of(self, snapshot: Snapshot) -> str:
        """The key this store files ``snapshot`` under (raises InvalidURLError for a bad URL)."""
        return snapshot_key(snapshot, tracking_params=self.tracking_params)

    def _prepare(self, snapshot: Snapshot, *, copy: bool = True) -> Incoming:
        """Key, content hash and adapter payload of a snapshot (see :func:`incoming_of`)."""
        return incoming_of(snapshot, self.tracking_params, self._payload, copy=copy)

    def _prepare_owned(self, snapshot: Snapshot) -> Incoming:
        return self._prepare(snapshot, copy=False)

    # The adapter's payload functions: what it writes of a snapshot beyond its content JSON
    # (times in UTC), computed once per record at prepare time (the rules never read it),
    # and the same of the fast path's validated dict. Module-level functions, so that an
    # import's worker processes use them too (see Recipe). None: no payload, no fast path.
    _payloads: ClassVar[Payloads | None] = None

    def _payload(self, snapshot: Snapshot) -> Any:
        """What this adapter writes of ``snapshot`` beyond its content JSON (times in UTC)."""
        return None if self._payloads is None else self._payloads[0](snapshot)

    def save(self, snapshot: Snapshot, *, policy: Policy = "newest") -> str:
        """Save one snapshot; returns what happened: inserted, updated, unchanged, …"""
        report = self.save_many([snapshot], policy=policy)
        for outcome in ("inserted", "updated", "unchanged", "versioned", "suppressed"):
            if getattr(report, outcome):
                return outcome
        raise StoreError("save reported nothing")  # pragma: no cover - every record is counted

    def save_many(
        self,
        snapshots: Iterable[Snapshot],
        *,
        policy: Policy = "newest",
        batch_size: int = 1000,
    ) -> ImportReport:
        """Save snapshots in batches, deduplicated by key; returns the counts.

        A snapshot whose URL cannot be canonicalised raises :class:`InvalidURLError`;
        use :meth:`import_records` to collect such records instead.
        """
        report = ImportReport()
        batch: list[Incoming] = []
        for snapshot in snapshots:
            batch.append(self._prepare(snapshot))
            if len(batch) >= batch_size:
                report.merge(self._save_prepared(batch, policy, False))
                batch = []
        if batch:
            report.merge(self._save_prepared(batch, policy, False))
        return report

    def _save_prepared(self, batch: list[Incoming], policy: Policy, dry_run: bool) -> ImportReport:
        """Save one batch of prepared records (one transaction or one bulk write).

        With ``dry_run`` the counts are computed against the stored state, nothing is written.
        """
        groups: dict[str, list[Incoming]] = {}
        for rec in batch:
            groups.setdefault(rec.key, []).append(rec)
        counts: Counter[str] = Counter()
        pending = groups
        lines = self._line_backend()
        for _ in range(_MAX_ROUNDS):
            now = datetime.now(UTC)
            with self._write_transaction():
                states, tombstoned = self._load_states(list(pending))
                for key, recs in pending.items():
                    settle(recs, states.get(key), key in tombstoned, self._prepare_owned)
                plans = [
                    plan_key(states.get(key), recs, policy=policy, tombstoned=key in tombstoned)
                    for key, recs in pending.items()
                ]
                writes = [p for p in plans if p.writes]
                conflicts = set() if dry_run else self._write_plans(writes, now)
                if lines is not None and not dry_run:
                    written = (recs for key, recs in pending.items() if key not in conflicts)
                    lines.remember_lines(lines_written(written))
            for plan in plans:
                if plan.key not in conflicts:
                    counts.update(plan.outcomes)
            if not conflicts:
                return ImportReport.model_validate(dict(counts))
            pending = {key: groups[key] for key in conflicts}
        raise StoreError(f"{len(pending)} keys kept conflicting with concurrent writers")

    def _archive_target(self) -> ArchiveTarget:
        # Imported here: newsstore._archive reads this package's values, so importing it
        # first must not need it loaded already.
        from .._archive import STORE_FORMAT, ArchiveTarget, StoreMeta, effective_params

        zone = getattr(self.zone, "key", None) or str(self.zone)
        return ArchiveTarget(
            name=str(self),
            backend=self._archive_backend(),
            meta=StoreMeta(STORE_FORMAT, zone, effective_params(self.tracking_params)),
            prepare=self._prepare_owned,
            transaction=self._write_transaction,
            write_group=self._write_group,
            takedown=self._delete,
            lift=self._restore,
            own_files=self.files(),
        )

    @abc.abstractmethod
    def _archive_backend(self) -> ArchiveBackend:
        """What dump, restore, copy and re-key need of the adapter (its own module)."""

    def _write_group(self) -> AbstractContextManager[Any]:
        """Scope in which consecutive batches may share transactions (an import's).

        Whatever the exit, the batches that completed inside are committed (a batch that
        fails is undone alone), as if each had committed on its own, which is the default.
        """
        return nullcontext()

    def _line_backend(self) -> LineBackend | None:
        """This store's line memory, if it keeps one (see :mod:`newsstore._linememory`)."""
        return None

    def import_records(
        self, paths: Iterable[str | os.PathLike[str]], **options: Unpack[ImportOptions]
    ) -> ImportReport:
        """Import snapshot files (JSON, NDJSON, Extended JSON, snapshot text, ``.gz``, dirs, ``-``).

        Returns the counts. Options: ``format`` (``auto``), ``policy`` (``newest``),
        ``batch_size``, ``rejects`` (a file that receives each rejected record with its
        file, line and reason), ``strict`` (the first bad record raises
        :class:`~newsstore.InvalidRecordError`; records before it have landed), ``dry_run``
        (validate and count against the stored state, write nothing), ``glob`` and
        ``follow_symlinks`` (for directories), ``timezone`` (for naive times; default the
        store's), ``encoding`` (of snapshot text), ``progress`` (called with the records
        and bytes read) and ``workers`` (processes that validate NDJSON lines: ``1``, the
        default, validates here; ``"auto"`` one per core but the writer's; see
        :mod:`newsstore._pipeline`, which also says why a script using them needs
        ``if __name__ == "__main__":``).

        A large import in a program of your own runs faster with Python's cycle collector
        paused around it (``gc.disable()``, then ``gc.enable()``), as ``newsstore import``
        does: its full collections walk every object the program holds, ~19 µs a record
        at 100k bench records.
        """
        target = ImportTarget(
            zone=self.zone,
            tracking_params=self.tracking_params,
            prepare=RecordPreparer(self._prepare_owned, self._raw_preparer()),
            save=self._save_prepared,
            write_group=self._write_group,
            lines=self._line_backend(),
            own_files=self.files(),
            recipe=self._recipe(),
        )
        return import_records(target, paths, **options)

    def _raw_preparer(self) -> Callable[[bytes, dict[str, Any]], Incoming | None] | None:
        """What :meth:`_prepare` gives for an NDJSON line, without its model (None: this
        adapter has no such path; see :mod:`newsstore._fastprepare`)."""
        recipe = self._recipe()
        return None if recipe is None else recipe.raw()

    def _recipe(self) -> Recipe | None:
        """How an import's worker processes prepare this store's records (None: they
        cannot; the import then runs in one process)."""
        if self._payloads is None:
            return None
        tracking = self.tracking_params
        return Recipe(None if tracking is None else frozenset(tracking), *self._payloads)

    def files(self) -> tuple[str, ...]:
        """The local files this store keeps its data in (none for a server): no import
        reads them, and no export or rejects file may overwrite them."""
        return ()

    def is_same_store(self, other: Store) -> bool:
        """Whether ``other`` is this store opened again, however it was named (another
        spelling of the path, a link; another URI of the same servers and database)."""
        return type(other) is type(self) and str(other) == str(self)

    def export(
        self,
        fp: IO[str],
        query: Query | None = None,
        *,
        format: ExportFormat = "ndjson",
        fields: Iterable[str] | None = None,
        progress: Tick = None,
    ) -> int:
        """Stream the snapshots matching ``query`` to ``fp``; returns how many were written.

        ``progress``, if given, is called with the number of snapshots read since its last
        call (every few hundred).
        """
        if format in ("ndjson", "json", "ejson") and fields is None:
            written = self._export_lines(fp, query or Query(), format, progress)
            if written is not None:
                return written
        found = counted(self.find(query), progress)
        return write_snapshots(found, fp, format=format, fields=fields)

    def _export_lines(
        self, fp: IO[str], query: Query, format: ExportFormat, progress: Tick
    ) -> int | None:
        """Write whole records (NDJSON, a JSON array, relaxed Extended JSON) from the stored
        form, if this adapter can (the bytes ``write_snapshots`` gives); None: it cannot,
        the models are written instead."""
        return None

    # -- reading -----------------------------------------------------------------------
    def key_for(self, url_or_key: str) -> str:
        """The key a URL (any spelling) or an existing key (``content:…``) stands for."""
        return lookup_key(url_or_key, self.tracking_params)

    def _url_range(self, query: Query) -> tuple[str, str, str | None]:
        """How a query's URL filter reads on the indexed columns: (column, value or low, high).

        ``key`` holds canonical URLs, so a path prefix is a key range; ``host`` holds the
        reversed host (``com.example.news.``), so a domain and its subdomains are a range too.
        """
        url = lookup_url(query.url or "")
        if query.match == "exact":
            return "key", self.key_for(url), None
        if query.match == "prefix":
            prefix = url_prefix(url, tracking_params=self.tracking_params)
            return "key", prefix, prefix + _TOP
        host = reversed_host(host_of(url_prefix(url)))
        if query.match == "host":
            return "host", host, None
        return "host", host, host + _TOP

    def get(self, url_or_key: str) -> Snapshot:
        """The current snapshot for a URL (any spelling) or key; raises NotFoundError."""
        key = self.key_for(url_or_key)
        found = self._get(key)
        if found is None:
            tomb = self._tombstone(key)
            if tomb is not None:
                when = tomb.deleted_at.isoformat(timespec="seconds")
                raise TakenDownError(
                    f"{key} was taken down on {when}: {tomb.reason}", tombstone=tomb
                )
            raise NotFoundError(f"no snapshot for {url_or_key} (key {key})")
        return found

    def history(self, url_or_key: str) -> list[Snapshot]:
        """Earlier (or set-aside) contents of a key, newest snapshot first; [] when none."""
        return self._history(self.key_for(url_or_key))

    def find(self, query: Query | None = None) -> Iterator[Snapshot]:
        """Snapshots matching ``query``, newest first by default, streamed."""
        return self._find(query or Query())

    def count(self, query: Query | None = None) -> int:
        """How many snapshots match ``query`` (offset and limit ignored)."""
        return self._count((query or Query()).page(0, None))

    def on_day(
        self, day: date, *, time_field: TimeField = "published", zone: tzinfo | None = None
    ) -> Query:
        """A query for one calendar day in ``zone`` (the store's zone by default)."""
        start, end = day_range(day, zone or self.zone)
        return Query(start=start, end=end, time_field=time_field)  # Query checks the field

    def related_on(self, start: datetime, end: datetime) -> Iterator[RelatedHit]:
        """Related and more-in-category items dated in ``[start, end)``, with who lists them.

        An item links to a stored snapshot when its URL has the same key, or when its
        title and time equal a stored snapshot's title and published time.
        """
        start, end = utc_window(start, end)
        for listed_by in self._listing_items(start, end):
            for kind in _ITEM_KINDS:
                for item in getattr(listed_by, kind):
                    if start <= item.published_at < end:
                        yield RelatedHit(item, kind, listed_by, self._link(item))

    def _link(self, item: RelatedItem) -> str | None:
        if item.url:
            try:
                key = canonical_url(item.url, tracking_params=self.tracking_params)
            except Exception:
                key = None
            if key is not None and self._get(key) is not None:
                return key
        if item.title:
            return self._key_by_title(item.title, item.published_at)
        return None

    # -- takedowns ---------------------------------------------------------------------
    def delete(self, url_or_key: str, *, reason: str) -> Tombstone:
        """Take a key down: remove its snapshot and history, and suppress later imports. The
        first takedown of a key stands (returned again, ``earlier`` set; the adapters keep one
        another writer made meanwhile too)."""
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidQueryError(f"a takedown needs a reason, a string: not {reason!r}")
        key = self.key_for(url_or_key)
        if (earlier := self._tombstone(key)) is not None:
            return replace(earlier, removed=False, earlier=True)
        url = url_or_key if not url_or_key.startswith("content:") else None
        now = datetime.now(UTC)  # to the millisecond, as it is stored and read back
        return self._delete(key, url, reason, now - timedelta(microseconds=now.microsecond % 1000))

    def lift_takedown(self, url_or_key: str) -> Tombstone:
        """Lift a takedown so the key can be imported again; returns the takedown lifted.

        Nothing comes back: the takedown removed the snapshot and its history, and a later
        import brings the key in again. Raises NotFoundError when the key is not taken down.
        """
        key = self.key_for(url_or_key)
        tomb = self._tombstone(key)
        if tomb is None or not self._restore(key):
            raise NotFoundError(f"no takedown for {url_or_key} (key {key})")
        return tomb

    def takedown(self, url_or_key: str) -> Tombstone | None:
        """The takedown of a URL's key (any spelling), or None."""
        return self._tombstone(self.key_for(url_or_key))

    @abc.abstractmethod
    def tombstones(self) -> list[Tombstone]:
        """Every current takedown, newest first."""

    @abc.abstractmethod
    def _tombstone(self, key: str) -> Tombstone | None: ...

    # -- stats -------------------------------------------------------------------------
    def stats(self, *, zone: tzinfo | None = None) -> Stats:
        """Counts by category, source and day (in ``zone``), versions and takedowns."""
        zone = zone or self.zone
        grouped = self._grouped()

        def split(start: datetime, midnight: datetime, n: int) -> tuple[int, int]:
            # A quarter with a local midnight inside: its two sides, from the index.
            before = self._count(Query(start=start, end=midnight))
            return before, n - before

        days = quarter_days(grouped.quarters, QUARTER_MS, zone, split)
        near_duplicates, near_distance = self._near_duplicates_counted()
        return Stats(
            snapshots=sum(grouped.categories.values()),
            history=self._history_count(),
            keys_with_versions=self._keys_with_versions(),
            suppressed=len(self.tombstones()),
            by_category=_by_count(grouped.categories),
            by_source=_by_count(grouped.sources),
            by_day=dict(sorted(((d, n) for d, n in days.items() if n), reverse=True)),
            near_duplicates=near_duplicates,
            near_distance=near_distance,
        )

    @abc.abstractmethod
    def diagnose(self) -> Diagnosis:
        """What this store runs on: server version, topology, write durability, indexes."""

    # -- adapter primitives ------------------------------------------------------------
    @abc.abstractmethod
    def _write_transaction(self) -> AbstractContextManager[Any]:
        """Scope of one load-plan-write round (a real transaction where the store has one)."""

    @abc.abstractmethod
    def _load_states(self, keys: list[str]) -> tuple[dict[str, KeyState], set[str]]:
        """The stored state of each key that exists, and which keys are tombstoned."""

    @abc.abstractmethod
    def _write_plans(self, plans: list[KeyPlan], now: datetime) -> set[str]:
        """Apply plans; return the keys whose write lost a race and must be re-planned."""

    @abc.abstractmethod
    def _get(self, key: str) -> Snapshot | None: ...

    @abc.abstractmethod
    def _history(self, key: str) -> list[Snapshot]: ...

    @abc.abstractmethod
    def _find(self, query: Query) -> Iterator[Snapshot]: ...

    @abc.abstractmethod
    def _count(self, query: Query) -> int: ...

    @abc.abstractmethod
    def _listing_items(self, start: datetime, end: datetime) -> Iterator[Snapshot]:
        """Each stored snapshot that may list an item dated in ``[start, end)``, once
        (more is fine: :meth:`related_on` checks every item's time)."""

    @abc.abstractmethod
    def _key_by_title(self, title: str, published_at: datetime) -> str | None: ...

    @abc.abstractmethod
    def _delete(self, key: str, url: str | None, reason: str, now: datetime) -> Tombstone: ...

    @abc.abstractmethod
    def _restore(self, key: str) -> bool: ...

    @abc.abstractmethod
    def _grouped(self) -> Grouped:
        """The current snapshots counted by category, by source and by published quarter
        hour, on the server (a GROUP BY, an aggregation)."""

    @abc.abstractmethod
    def _history_count(self) -> int: ...

    @abc.abstractmethod
    def _keys_with_versions(self) -> int: ...
