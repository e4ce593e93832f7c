"""The dedup and versioning rules, written once for every adapter (pure, no I/O).

For each key, the store holds one *current* snapshot, a *history* of other contents seen
for that key, and the set of every content hash seen (current and history). When records
arrive for a key, in order:

* the key is tombstoned (taken down) → ``suppressed``: nothing is written;
* no record yet → ``inserted``;
* content hash already known (current or history) → ``unchanged``: only last-seen time,
  seen count and URL spellings are updated. The hash alone decides this
  (:func:`hash_decides`), except under ``replace``, which makes a known historic content
  current again (``updated``; its history entry goes, as history never holds the current);
* otherwise, by policy:

  - ``newest`` (default): the newer snapshot, by ``snapshot_at`` (a missing time is oldest;
    ties broken by content hash so that every writer, in any order, picks the same one),
    becomes current and the previous current goes to history → ``updated``; an older one
    goes to history → ``versioned``;
  - ``keep``: the first content stays current; later ones go to history → ``versioned``;
  - ``replace``: the last import becomes current → ``updated``.

Whatever the arrival order, ``newest`` converges on the same current record and the same
history, which is what makes concurrent and repeated imports safe. The rest of a key's
state converges too, so that a killed import run again ends exactly where a clean run does:

* ``url`` (of the current, and of each history entry) is the spelling of that content's
  snapshot; when several records with that content came under different spellings, the
  least of them (by code point), whatever came first;
* ``seen_count`` counts distinct input records: a record is its content hash and its URL
  spelling (:attr:`Incoming.record_id`), so the same record read again (a re-run, an
  overlapping crawl) is not counted again, while the same page crawled under another
  spelling, or with other content, is.
"""

from __future__ import annotations

import hashlib
import operator
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timezone
from typing import Any, Literal

from ._types import POLICIES, Policy

__all__ = [
    "POLICIES",
    "Incoming",
    "KeyPlan",
    "KeyState",
    "Outcome",
    "Policy",
    "StoredKey",
    "hash_decides",
    "merge_stored",
    "plan_key",
    "record_id",
]

Outcome = Literal["inserted", "updated", "unchanged", "versioned", "suppressed"]

_OLDEST = datetime.min.replace(tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class Incoming:
    """One validated record on its way in: its identity and what its writes need.

    It holds no snapshot model, so that the importer frees each model as soon as it is
    prepared, while the model is still in the CPU cache: holding a batch of models until
    their write measured 15% of an import. ``content`` is the JSON the hash was taken
    over (times in UTC, no URL, no ``stored``); ``payload`` is what the adapter derived
    from the snapshot for its own writes (see ``Store._payload``).
    """

    key: str
    content_hash: str
    url: str | None
    snapshot_at: datetime | None
    content: bytes
    payload: Any

    @property
    def order(self) -> tuple[datetime, str]:
        """Sort key for ``newest``: snapshot time, then content hash as a stable tie-break."""
        return (self.snapshot_at or _OLDEST, self.content_hash)

    @property
    def record_id(self) -> str | None:
        """What tells this input record from another for ``seen_count`` (see
        :func:`record_id`); None when it was counted before (a recalled line)."""
        return record_id(self.content_hash, self.url)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as its class and field values, so that unpickling (what a worker
        # process sends back) is one call of __init__: a frozen dataclass's own
        # __setstate__ looks up its fields again for every object.
        cls = type(self)
        values = _FIELD_VALUES.get(cls)
        if values is None:
            values = _FIELD_VALUES[cls] = operator.attrgetter(*(f.name for f in fields(cls)))
        return (cls, values(self))


# Each Incoming class's getter of its field values, in __init__ order (more than one field).
_FIELD_VALUES: dict[type[Incoming], Callable[[Incoming], tuple[Any, ...]]] = {}


def record_id(content_hash: str, url: str | None) -> str:
    """The id of an input record: 16 hex digits of SHA-256 over its content and spelling."""
    return hashlib.sha256(f"{content_hash} {url or ''}".encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class KeyState:
    """What the store holds for a key, as much as the rules need."""

    key: str
    content_hash: str
    snapshot_at: datetime | None
    hashes: frozenset[str]
    rev: int
    stored: Any = None  # what else the adapter read, for its own write of the plan
    url: str | None = None  # the current's spelling
    records: frozenset[str] = frozenset()  # ids of the input records counted

    @property
    def order(self) -> tuple[datetime, str]:
        return (self.snapshot_at or _OLDEST, self.content_hash)


@dataclass(slots=True)
class KeyPlan:
    """The writes one key needs, decided from its :class:`KeyState` and the records for it.

    ``expected_rev`` is None when the key is new (insert), else the revision the plan was
    made against: an adapter that cannot lock must make the write of a new current
    conditional on it and re-plan on conflict. ``unarchive`` is the hash of a stored
    content that becomes current again, whose history entry the adapter deletes once the
    current is written. ``stored`` is what the adapter read with the key's state
    (:attr:`KeyState.stored`), handed back for the write.
    """

    key: str
    expected_rev: int | None
    current: Incoming | None = None
    archive_current: bool = False
    history: list[Incoming] = field(default_factory=list)
    new_hashes: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    seen: int = 0
    records: list[str] = field(default_factory=list)
    spellings: dict[str, str] = field(default_factory=dict)
    outcomes: Counter[str] = field(default_factory=Counter)
    unarchive: str | None = None
    stored: Any = None
    # Stored contents these records brought again (for each version's last-seen time): those
    # that stay in history, and whether the stored current, still current, is one of them.
    reseen_history: list[str] = field(default_factory=list)
    reseen_current: bool = False

    @property
    def writes(self) -> bool:
        """False when every record was suppressed: nothing to write at all."""
        return self.seen > 0


def hash_decides(policy: Policy) -> bool:
    """Whether a content hash the key already has makes a record ``unchanged`` by itself.

    True except under ``replace``. Code that skips reading a record whose hash is known
    (the line memory) may do so only where this holds.
    """
    return policy != "replace"


def plan_key(
    state: KeyState | None,
    records: list[Incoming],
    *,
    policy: Policy = "newest",
    tombstoned: bool = False,
) -> KeyPlan:
    """Decide what ``records`` (all for ``state``'s key, in arrival order) do to the store."""
    if state is None and len(records) == 1 and not tombstoned:
        # A new key's one record, most of a first import: what the loop below gives it.
        rec = records[0]
        rid = rec.record_id
        outcomes: Counter[str] = Counter()
        outcomes["inserted"] = 1  # half the cost of Counter(inserted=1)
        return KeyPlan(
            key=rec.key,
            expected_rev=None,
            current=rec,
            new_hashes=[rec.content_hash],
            urls=[] if rec.url is None else [rec.url],
            seen=1,
            records=[] if rid is None else [rid],
            outcomes=outcomes,
        )
    return _plan_in_full(state, records, policy, tombstoned)


def _plan_in_full(
    state: KeyState | None, records: list[Incoming], policy: Policy, tombstoned: bool
) -> KeyPlan:
    plan = KeyPlan(
        key=records[0].key,
        expected_rev=None if state is None else state.rev,
        stored=None if state is None else state.stored,
    )
    if tombstoned:
        plan.outcomes["suppressed"] = len(records)
        return plan

    known: set[str] = set(state.hashes) if state else set()
    stored_hashes = state.hashes if state else frozenset()
    reseen: list[str] = []
    counted: set[str] = set(state.records) if state else set()
    least: dict[str, str] = {}  # the least spelling of each content hash in the batch
    # The current content as the batch goes: either the stored one or an incoming record.
    current_order = state.order if state else None
    current_hash = state.content_hash if state else None
    current_incoming: Incoming | None = None

    def archive_current() -> None:
        if current_incoming is not None:
            plan.history.append(current_incoming)
        else:
            plan.archive_current = True

    for rec in records:
        plan.seen += 1
        url = rec.url
        if url is not None:
            if url not in plan.urls:
                plan.urls.append(url)
            known_url = least.get(rec.content_hash)
            if known_url is None or url < known_url:
                least[rec.content_hash] = url
        rid = rec.record_id
        if rid is not None and rid not in counted:
            counted.add(rid)
            plan.records.append(rid)

        if current_order is None:
            outcome: Outcome = "inserted"
            current_incoming, current_order, current_hash = rec, rec.order, rec.content_hash
        elif rec.content_hash == current_hash or (
            rec.content_hash in known and hash_decides(policy)
        ):
            outcome = "unchanged"
        elif policy == "replace" or (policy == "newest" and rec.order > current_order):
            archive_current()
            outcome = "updated"
            current_incoming, current_order, current_hash = rec, rec.order, rec.content_hash
        else:
            plan.history.append(rec)
            outcome = "versioned"

        if rec.content_hash in stored_hashes and rec.content_hash not in reseen:
            reseen.append(rec.content_hash)
        if rec.content_hash not in known:
            known.add(rec.content_hash)
            plan.new_hashes.append(rec.content_hash)
        plan.outcomes[outcome] += 1

    def spelled(rec: Incoming) -> Incoming:
        url = least.get(rec.content_hash)
        return rec if url is None or rec.url == url else replace(rec, url=url)

    if current_incoming is not None:
        plan.current = spelled(current_incoming)
        # A record that became current and was then replaced within the batch is history.
        plan.history = [h for h in plan.history if h.content_hash != current_hash]
        if state is not None and current_hash in state.hashes:
            plan.unarchive = current_hash  # a stored content, current again
    plan.reseen_history = [h for h in reseen if h != current_hash]
    plan.reseen_current = (
        state is not None and state.content_hash == current_hash and current_hash in reseen
    )
    plan.history = [spelled(h) for h in plan.history]
    if state is not None:
        written = {h.content_hash for h in plan.history}
        if plan.current is not None:
            written.add(plan.current.content_hash)
        for content_hash, url in least.items():
            if content_hash not in state.hashes or content_hash in written:
                continue
            if content_hash == state.content_hash and state.url is not None and state.url <= url:
                continue  # the common re-import: nothing to lower
            plan.spellings[content_hash] = url
    return plan


@dataclass(frozen=True, slots=True)
class StoredKey:
    """A key as a store holds it, with what it derived: what two stores' records of one key
    are merged from (a restore onto a store that has the key, a re-key joining two keys)."""

    content_hash: str
    snapshot_at: datetime | None
    urls: tuple[str, ...]
    hashes: tuple[str, ...]
    first_seen: datetime
    last_seen: datetime
    seen_count: int
    records: tuple[str, ...] = ()  # ids of the input records counted (see KeyState)
    # When the current content was first and last seen (None: not known)
    version_seen: tuple[datetime | None, datetime | None] = (None, None)

    @property
    def order(self) -> tuple[datetime, str]:
        return (self.snapshot_at or _OLDEST, self.content_hash)


def merge_stored(ours: StoredKey, theirs: StoredKey) -> tuple[bool, StoredKey]:
    """Whether ``theirs`` becomes current, and the key after the merge.

    The rules of ``newest``: the newer snapshot (ties broken by content hash) is current and
    the other content goes to history; the spellings and hashes are a union (ours first);
    first seen is the earlier, last seen the later, the record ids a union and the seen count
    the larger of both counts and the union's; a content both hold keeps the earlier first
    and the later last seen of the two: merging the same record twice changes nothing, so a
    restore or re-key that is run again converges.
    """
    theirs_wins = theirs.order > ours.order
    winner = theirs if theirs_wins else ours
    records = ours.records + tuple(r for r in theirs.records if r not in ours.records)
    version_seen = winner.version_seen
    if ours.content_hash == theirs.content_hash:  # one content, seen by both
        firsts = [t for t in (ours.version_seen[0], theirs.version_seen[0]) if t is not None]
        lasts = [t for t in (ours.version_seen[1], theirs.version_seen[1]) if t is not None]
        version_seen = (min(firsts, default=None), max(lasts, default=None))
    return theirs_wins, StoredKey(
        winner.content_hash,
        winner.snapshot_at,
        ours.urls + tuple(u for u in theirs.urls if u not in ours.urls),
        ours.hashes + tuple(h for h in theirs.hashes if h not in ours.hashes),
        min(ours.first_seen, theirs.first_seen),
        max(ours.last_seen, theirs.last_seen),
        # Distinct records: those both counted count once.
        max(ours.seen_count, theirs.seen_count, len(records)),
        records,
        version_seen,
    )
