"""One input record and its validation: the snapshot it gives, or why it is refused.

A :class:`Record` carries where it came from (file and 1-based line, or 0-based array
index) and its original text, so a rejected record can be reported and kept. An NDJSON
line is validated when its result is first asked for, not when it is read: a reader of
many lines (an import that already knows some of them) pays only for those it looks at.

A rejects-file line (``{"source": …, "error": …, "record": {…}}``) is read as the record it
holds, so a fixed rejects file imports as it is. A document ``mongoexport`` wrote from a
newsstore collection (``snapshots`` or ``history``: an ``_id`` and the fields the store
derives) is read as its snapshot; the key its ``_id`` claims is kept
(:attr:`Record.claimed_key`) for the importer to check against the one it computes. In a
JSON object with a duplicate key, the last value wins (as in JSON.parse and Python's json).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ._ejson import ObjectIdText, loads
from ._errors import InvalidRecordError
from ._schemas import Snapshot

__all__ = ["Record", "rejected", "shown", "validate_json", "validate_obj"]


class Record:
    """One record read from a file: the validated snapshot, or why it was rejected."""

    __slots__ = (
        "_context",
        "_error",
        "_snapshot",
        "claimed_key",
        "data",
        "index",
        "line",
        "source",
        "warning",
    )

    def __init__(
        self,
        source: str,
        line: int | None,
        index: int | None,
        data: str | bytes,
        snapshot: Snapshot | None = None,
        error: InvalidRecordError | None = None,
        *,
        context: dict[str, Any] | None = None,
    ) -> None:
        self.source = source
        self.line = line
        self.index = index
        # The record as read; an NDJSON line stays bytes until its text is asked for.
        self.data = data
        self._snapshot = snapshot
        self._error = error
        # Set while the record waits to be validated (in this validation context).
        self._context = context
        # The key a mongoexport document's _id says it has (checked by the importer).
        self.claimed_key: str | None = None
        # Something to tell about a record that is imported all the same (e.g. a snapshot
        # text without its footer, which may have been cut short).
        self.warning: str | None = None

    @classmethod
    def pending(cls, source: str, line: int | None, data: bytes, context: dict[str, Any]) -> Record:
        """A JSON record validated when its snapshot or error is first asked for."""
        return cls(source, line, None, data, context=context)

    @property
    def validated(self) -> bool:
        """False until the snapshot or error of a pending record is asked for."""
        return self._context is None

    def pending_json(self) -> tuple[bytes, dict[str, Any]] | None:
        """The bytes and validation context of a record not validated yet, else None."""
        context = self._context
        if context is None or not isinstance(self.data, bytes):
            return None
        return self.data, context

    @property
    def snapshot(self) -> Snapshot | None:
        """The validated snapshot, or None when the record was rejected."""
        if self._context is not None:
            self._validate()
        return self._snapshot

    @property
    def error(self) -> InvalidRecordError | None:
        """Why the record was rejected, or None when it is valid."""
        if self._context is not None:
            self._validate()
        return self._error

    @property
    def raw(self) -> str:
        """The record's original text (undecodable bytes as ``\\xNN``, see :func:`shown`)."""
        data = self.data
        return data if isinstance(data, str) else shown(data)

    @property
    def size(self) -> int:
        """The record's length as read (bytes for NDJSON, characters otherwise)."""
        return len(self.data)

    def _validate(self) -> None:
        context, self._context = self._context, None
        assert context is not None
        assert isinstance(self.data, bytes)
        done = validate_json(self.data, context, self.source, self.line, self.index)
        self._snapshot, self._error, self.data = done._snapshot, done._error, done.data
        self.claimed_key = done.claimed_key

    def __repr__(self) -> str:
        where = self.source + (f":{self.line}" if self.line else "")
        state = "pending" if self._context is not None else "valid" if self._snapshot else "bad"
        return f"<Record {where} {state}>"


def error_text(exc: ValidationError) -> str:
    """The first three problems of a validation error, on one line."""
    parts = []
    for err in exc.errors(include_url=False)[:3]:
        loc = ".".join(str(p) for p in err["loc"])
        parts.append(f"{loc}: {err['msg']}" if loc else err["msg"])
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def shown(data: bytes) -> str:
    """Bytes read as the text that messages and the rejects file keep: a byte that is not
    UTF-8 as ``\\xNN``. Replaced by U+FFFD instead, a rejected line's text parsed as a
    record, which a re-import of the rejects file took in, altered."""
    return data.decode("utf-8", errors="backslashreplace")


def validate_json(
    raw: bytes, context: dict[str, Any], source: str, line: int | None, index: int | None
) -> Record:
    """Validate one JSON record's bytes (Extended JSON and rejects-file lines too)."""
    try:
        # Fast path: pydantic parses and validates the bytes in one go (and the text is
        # decoded only if someone asks for it).
        return Record(source, line, index, raw, Snapshot.model_validate_json(raw, context=context))
    except ValidationError as exc:
        # The message, not the exception: a kept exception holds its traceback, whose frames
        # hold it back, a reference cycle per rejected line.
        first = error_text(exc)
    text = shown(raw)
    try:
        data = loads(raw)
    except (ValueError, RecursionError) as exc:
        message = "not valid JSON" if isinstance(exc, RecursionError) else str(exc)
        if isinstance(exc, UnicodeDecodeError):
            message = f"invalid UTF-8: {exc.reason} at byte {exc.start}"
        return rejected(source, line, index, text, message)
    return validate_obj(data, context, source, line, index, text, first)


def validate_obj(
    data: Any,
    context: dict[str, Any],
    source: str,
    line: int | None,
    index: int | None,
    text: str,
    first: str | None = None,
) -> Record:
    """Validate one parsed JSON value; ``first`` is the message of an earlier attempt."""
    if not isinstance(data, dict):
        return rejected(source, line, index, text, f"expected a JSON object, got {_kind(data)}")
    if "record" in data and "error" in data and isinstance(data["record"], dict):
        # A line of a rejects file, fixed by the user and imported again.
        data = data["record"]
    claimed = None
    if "_id" in data:
        data, claimed = _exported(data)
        first = None  # the first attempt saw the store's fields
    try:
        snapshot = Snapshot.model_validate(data, context=context)
    except ValidationError as exc:
        return rejected(source, line, index, text, first or error_text(exc))
    record = Record(source, line, index, text, snapshot)
    record.claimed_key = claimed
    return record


# What a newsstore MongoDB document holds beside the snapshot's own fields.
_DERIVED = frozenset(
    [
        "_id",
        "content_hash",
        "host",
        "urls",
        "hashes",
        "first_seen",
        "last_seen",
        "seen_count",
        "rev",
        "key",
        "archived_at",
        "version_first_seen",
        "version_last_seen",
        "records",
        "minhash",
        "bands",
    ]
)


def _exported(doc: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The snapshot fields of a document mongoexport wrote, and the key it claims.

    A ``snapshots`` document's ``_id`` is its key; a ``history`` one's is ``"<key> <hash>"``
    and names the key in ``key`` too. A server-made ``$oid`` claims no key.
    """
    ident = doc["_id"]
    claimed = doc.get("key", ident) if isinstance(ident, str) else None
    if isinstance(claimed, ObjectIdText) or not isinstance(claimed, str):
        claimed = None
    return {k: v for k, v in doc.items() if k not in _DERIVED}, claimed


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", type(None): "null", bool: "a boolean"}.get(
        type(value), "a number"
    )


def rejected(source: str, line: int | None, index: int | None, text: str, message: str) -> Record:
    """A record refused with ``message``."""
    error = InvalidRecordError(message, source=source, line=line, index=index, raw=text)
    return Record(source, line, index, text, error=error)
