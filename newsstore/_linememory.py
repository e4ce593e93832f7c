"""The line memory: an import knows an NDJSON line it saved before, without validating it.

A store that keeps one (the SQLite store; MongoDB does not) maps the digest of every NDJSON
line it saved to the key and content hash that line gave. When the same line comes again
(a re-import, an overlapping crawl), its key and hash are recalled instead of recomputed,
which skips validation, the content JSON and the hash: most of an import's cost.

The rules, all here:

* A **digest** is 16 bytes of SHA-256 over a salt and the line. The salt covers everything
  that decides what a line becomes: the package version, the store's line layout, the zone
  naive times are read in (only a named zone can be part of it: another zone turns the
  memory off), the tracking-parameter list keys depend on, the public suffix list's
  version (it decides which hosts lose ``www.``), and the source of every module
  that validates, keys or hashes a line (:data:`DECIDING`).
* A recalled line stands for its key and content hash only. The write loop **settles** it
  (:func:`settle`): when the key is stored, not taken down, and already has that hash, the
  rules decide ``unchanged`` from the hash alone; otherwise (the key was deleted or changed
  by another writer since) the line is validated after all.
* Under a policy where a known hash does not decide the outcome
  (:func:`~newsstore._store.rules.hash_decides`), there is no shortcut: the memory is off.
* Only lines of records that were written are remembered, in the write's transaction.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any, Protocol

from ._errors import InvalidRecordError, NewsstoreError, StoreError
from ._records import Record, validate_json
from ._rules import Incoming, KeyState, Policy, hash_decides
from ._schemas import Snapshot
from ._urls import suffix_list_version
from ._version import __version__

__all__ = [
    "DECIDING",
    "LineBackend",
    "LineMemory",
    "Recalled",
    "Remembered",
    "digester",
    "lines_written",
    "recalled",
    "remembered",
    "settle",
]

# The modules whose code decides the key and content hash a line gives (a test checks that
# every module they import is listed): a change to any of them is a new memory.
DECIDING = (
    "_errors",
    "_ejson",
    "_fastprepare",
    "_identity",
    "_preparing",
    "_records",
    "_rules",
    "_schemas",
    "_times",
    "_types",
    "_urls",
)
Prepared = Incoming | InvalidRecordError


class LineBackend(Protocol):
    """What a store supplies to keep a line memory."""

    @property
    def line_layout(self) -> str:
        """The version of the store's line table, part of every digest."""
        ...

    def recall_lines(self, digests: list[bytes]) -> dict[bytes, tuple[str, str]]:
        """Key and content hash of each line remembered under one of ``digests``."""
        ...

    def remember_lines(self, lines: list[tuple[bytes, str, str]]) -> None:
        """Remember ``(digest, key, content hash)`` of lines just written (in the write's
        transaction); a key that is not stored is skipped."""
        ...


@dataclass(frozen=True, slots=True)
class Remembered(Incoming):
    """A validated record from a line the store will remember by its digest once written."""

    digest: bytes


@dataclass(frozen=True, slots=True)
class Recalled(Incoming):
    """A line the store saved before: its key and content hash recalled, not recomputed.

    Its ``url`` is None (the spelling was added to the key's URLs, and its record to those
    ``seen_count`` counts, when the line was saved: its lines are forgotten when a key is
    taken down, so a recalled line's key still holds both), ``snapshot_at`` and ``payload``
    are None and ``content`` is empty: all the rules need for a hash the key already has.
    :func:`settle` validates the line when they need more.
    """

    raw: bytes
    context: dict[str, Any]
    source: str
    line: int | None

    @property
    def record_id(self) -> str | None:
        return None  # counted when the line was saved


class LineMemory:
    """One import's use of a store's line memory: it recalls, and it tags what to remember."""

    def __init__(self, backend: LineBackend, scope: str) -> None:
        self._backend = backend
        # What the salt covers beside the code: another process makes the same digests
        # from it (:func:`digester`).
        self.scope = scope
        self.digest = digester(scope)
        """The digest of one NDJSON line."""

    @classmethod
    def open(
        cls,
        backend: LineBackend | None,
        *,
        zone: str | tzinfo,
        policy: Policy,
        tracking_params: Collection[str] | None,
    ) -> LineMemory | None:
        """The memory for an import into ``backend``'s store, or None when it cannot serve."""
        name = zone if isinstance(zone, str) else getattr(zone, "key", None)
        if backend is None or not hash_decides(policy) or not isinstance(name, str):
            return None
        params = "" if tracking_params is None else ",".join(sorted(tracking_params))
        return cls(backend, f"{backend.line_layout}|{name}|{params}")

    def recall(
        self, chunk: list[Record]
    ) -> tuple[list[bytes | None], dict[bytes, tuple[str, str]]]:
        """The digest of each NDJSON line among ``chunk`` (None for other records), and
        the key and content hash the store remembers for those it knows: one lookup."""
        digests = [
            self.digest(r.data) if not r.validated and isinstance(r.data, bytes) else None
            for r in chunk
        ]
        return digests, self.known(digests)

    def known(self, digests: list[bytes | None]) -> dict[bytes, tuple[str, str]]:
        """Key and content hash of each line the store remembers among ``digests``."""
        wanted = [d for d in digests if d is not None]
        return self._backend.recall_lines(wanted) if wanted else {}


def digester(scope: str) -> Callable[[bytes], bytes]:
    """The digest function of a memory of ``scope`` (:attr:`LineMemory.scope`), for
    another process: the same bytes, scope and code give the same digests."""
    salt = _salt(scope)

    def digest(raw: bytes) -> bytes:
        h = salt.copy()
        h.update(raw)
        value: bytes = h.digest()
        return value[:16]

    return digest


def recalled(record: Record, key: str, content_hash: str) -> Recalled:
    context = record._context
    assert context is not None
    assert isinstance(record.data, bytes)
    return Recalled(
        key=key,
        content_hash=content_hash,
        url=None,
        snapshot_at=None,
        content=b"",
        payload=None,
        raw=record.data,
        context=context,
        source=record.source,
        line=record.line,
    )


def remembered(prepared: Prepared, digest: bytes) -> Prepared:
    if not isinstance(prepared, Incoming):
        return prepared
    return Remembered(
        key=prepared.key,
        content_hash=prepared.content_hash,
        url=prepared.url,
        snapshot_at=prepared.snapshot_at,
        content=prepared.content,
        payload=prepared.payload,
        digest=digest,
    )


def settle(
    records: list[Incoming],
    state: KeyState | None,
    tombstoned: bool,
    prepare: Callable[[Snapshot], Incoming],
) -> None:
    """Replace, in place, each recalled record the rules cannot decide by its hash alone.

    A recalled record is decided by its hash when its key is tombstoned (``suppressed``) or
    stored with that hash among its hashes (``unchanged``). Otherwise its line is validated
    and prepared again: the same bytes, zone and code gave a valid record before.
    """
    for i, rec in enumerate(records):
        if type(rec) is not Recalled or tombstoned:
            continue
        if state is not None and rec.content_hash in state.hashes:
            continue
        again = validate_json(rec.raw, rec.context, rec.source, rec.line, None)
        if again.snapshot is None:
            raise StoreError(f"a remembered line no longer reads: {again.error}")
        try:
            full = prepare(again.snapshot)
        except NewsstoreError as exc:
            raise StoreError(f"a remembered line no longer prepares: {exc}") from exc
        if full.key != rec.key:  # the digest covers the code that keys a line
            raise StoreError(f"a remembered line no longer gives key {rec.key}")
        records[i] = full


def lines_written(groups: Iterable[list[Incoming]]) -> list[tuple[bytes, str, str]]:
    """``(digest, key, content hash)`` of the remembered records among ``groups``."""
    return [
        (rec.digest, rec.key, rec.content_hash)
        for recs in groups
        for rec in recs
        if type(rec) is Remembered
    ]


@functools.lru_cache(maxsize=16)
def _salt(scope: str) -> Any:
    """The start of every digest in ``scope``: version, layout, zone, list, deciding code."""
    # The suffix list decides which hosts lose "www.": a new list may give new keys.
    salt = hashlib.sha256(f"newsstore {__version__} {suffix_list_version()} {scope}".encode())
    for name in DECIDING:
        module = importlib.import_module(f"newsstore.{name}")
        try:
            salt.update(Path(module.__file__ or "").read_bytes())
        except OSError:
            salt.update(name.encode())  # no source to read: the version stands for it
    return salt
