"""What an import makes of one record: its :class:`Incoming`, or why it is refused.

One function decides it for every path a record can take (:class:`RecordPreparer`): the
derived fast path of :mod:`newsstore._fastprepare` for an NDJSON line when it serves, else
the models. The store's own prepare and the import's worker processes both use it, so a
record gives the same key, hash, payload and error message wherever it is prepared.

A :class:`Recipe` is what a worker process needs to build the same preparer: the store's
tracking-parameter list and its payload functions (module-level, so that they pickle by
name), never the store or its connection.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from ._errors import InvalidRecordError, NewsstoreError
from ._fastprepare import FastPreparer, preparer
from ._identity import RecordTooLargeError, check_size, identify
from ._records import Record
from ._rules import Incoming
from ._schemas import Snapshot

__all__ = ["Payloads", "Prepared", "Recipe", "RecordPreparer", "incoming_of"]

Prepared = Incoming | InvalidRecordError
"""What a record gives: the record on its way in, or the error that refuses it."""

Payloads = tuple[Callable[[Snapshot], Any], Callable[[dict[str, Any]], Any]]
"""An adapter's payload of a snapshot (times in UTC), and of the fast path's validated dict."""


def incoming_of(
    snapshot: Snapshot,
    tracking_params: Collection[str] | None,
    payload: Callable[[Snapshot], Any],
    *,
    copy: bool = True,
) -> Incoming:
    """Key, content hash and adapter payload of a snapshot, checked against the size limit.

    ``copy=False`` moves ``snapshot`` itself to UTC and keeps it instead of a copy, for
    callers that own it, such as the importer (copying costs more than the rest).
    """
    identity = identify(snapshot, tracking_params=tracking_params, copy=copy)
    check_size(identity)
    utc = identity.utc
    return Incoming(
        identity.key,
        identity.content_hash,
        utc.url,
        utc.snapshot_at,
        identity.content,
        payload(utc),
    )


class RecordPreparer:
    """``preparer(record)``: the :class:`Incoming` of a record the importer owns, or the
    :class:`~newsstore.InvalidRecordError` that refuses it (never raised)."""

    __slots__ = ("_prepare", "_raw")

    def __init__(
        self,
        prepare: Callable[[Snapshot], Incoming],
        raw: Callable[[bytes, dict[str, Any]], Incoming | None] | None,
    ) -> None:
        self._prepare = prepare
        self._raw = raw

    def __call__(self, record: Record) -> Prepared:
        if self._raw is not None and (pending := record.pending_json()) is not None:
            fast = self._raw(*pending)
            if fast is not None:
                return fast
        error = record.error
        if error is not None:
            return error
        assert record.snapshot is not None
        try:
            # The record is ours: prepare may reuse its snapshot rather than copy it.
            incoming = self._prepare(record.snapshot)
            if record.claimed_key is not None and record.claimed_key != incoming.key:
                raise InvalidRecordError(
                    f"_id {record.claimed_key} is not the key of this record ({incoming.key})"
                )
            return incoming
        except NewsstoreError as exc:
            # A record over the size limit is kept by its start: the rest would not fit.
            raw = record.raw[:1000] if isinstance(exc, RecordTooLargeError) else record.raw
            return InvalidRecordError(
                str(exc), source=record.source, line=record.line, index=record.index, raw=raw
            )


@dataclass(frozen=True, slots=True)
class Recipe:
    """How to prepare a store's records in another process (it pickles by value).

    ``payload`` is the adapter's payload of a snapshot with its times in UTC, ``raw_payload``
    the same of the fast path's validated dict; both must be module-level functions.
    """

    tracking_params: frozenset[str] | None
    payload: Callable[[Snapshot], Any]
    raw_payload: Callable[[dict[str, Any]], Any]

    def raw(self) -> FastPreparer | None:
        """The fast path of NDJSON lines (None where it cannot serve)."""
        return preparer(self.tracking_params, self.raw_payload)

    def preparer(self) -> RecordPreparer:
        """The record preparer this recipe describes."""
        tracking, payload = self.tracking_params, self.payload

        def prepare(snapshot: Snapshot) -> Incoming:
            return incoming_of(snapshot, tracking, payload, copy=False)

        return RecordPreparer(prepare, self.raw())
