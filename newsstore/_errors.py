"""Errors raised by newsstore.

Every error newsstore raises on purpose derives from one root, so callers can
catch a single class::

    NewsstoreError                 catch this to handle anything newsstore refuses
    ├── InvalidURLError            a URL that cannot be canonicalised (not http/https, no host)
    ├── InvalidQueryError          a lookup filter newsstore will not run (operators, bad dates)
    ├── SnapshotParseError         text that is not a snapshot page; carries the line number
    ├── InvalidRecordError         an import record that failed validation; carries file and line
    ├── DiffConflictError          a diff applied to a snapshot it was not made from
    ├── NotFoundError              no stored snapshot (or tombstone) for a URL or key
    │   └── TakenDownError         the key was taken down: when and why are in the message
    └── StoreError                 the store failed or refused a write
        ├── StoreUnavailableError  the store cannot be reached or opened
        └── KeySettingsError       the store's keys were made with another tracking list

The driver's own exception, when there is one, is kept as ``__cause__``. A value longer
than :data:`LONGEST_VALUE` characters in a message (a 100 KB host, a data: URL) is shown
shortened (:func:`shorten_values`), so that every message stays one readable line; the
rejects file keeps the record itself.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "DiffConflictError",
    "InvalidQueryError",
    "InvalidRecordError",
    "InvalidURLError",
    "KeySettingsError",
    "NewsstoreError",
    "NotFoundError",
    "SettingsError",
    "SnapshotParseError",
    "StoreError",
    "StoreUnavailableError",
    "TakenDownError",
    "shorten_values",
]

LONGEST_VALUE = 200
_LONGEST_MESSAGE = 1000
_LONG_RUN = re.compile(rf"\S{{{LONGEST_VALUE + 1},}}")


def shorten_values(message: str) -> str:
    """``message`` with every run of over :data:`LONGEST_VALUE` non-blank characters cut
    to its start and end, saying how much was left out."""

    def cut(match: re.Match[str]) -> str:
        run = match.group()
        head, tail = run[: LONGEST_VALUE - 40], run[-20:]
        return f"{head}…[{len(run) - len(head) - len(tail)} more characters]…{tail}"

    if len(message) <= LONGEST_VALUE:
        return message
    message = _LONG_RUN.sub(cut, message)
    if len(message) > _LONGEST_MESSAGE:  # long values with blanks in them
        left = len(message) - _LONGEST_MESSAGE
        message = f"{message[:_LONGEST_MESSAGE]}…[{left} more characters]"
    return message


class NewsstoreError(Exception):
    """Root of every error newsstore raises on purpose."""


class InvalidURLError(NewsstoreError, ValueError):
    """A URL is not an absolute http(s) URL with a host, so it has no canonical key."""

    def __init__(self, message: str) -> None:
        super().__init__(shorten_values(message))


class SettingsError(NewsstoreError, ValueError):
    """A setting (a ``NEWSSTORE_…`` variable or a :class:`~newsstore.Settings` value) is invalid."""


class InvalidQueryError(NewsstoreError, ValueError):
    """A lookup was asked with values newsstore refuses (operator keys, unparsable dates)."""


class SnapshotParseError(NewsstoreError, ValueError):
    """Text is not a snapshot page. ``line`` is the 1-based line where parsing gave up."""

    def __init__(self, message: str, *, line: int | None = None, source: str | None = None):
        self.reason = message = shorten_values(message)
        self.line = line
        self.source = source
        where = ":".join(str(p) for p in (source, line) if p is not None)
        super().__init__(f"{where}: {message}" if where else message)


class InvalidRecordError(NewsstoreError, ValueError):
    """An import record was rejected.

    ``source`` names the file (or ``<stdin>``), ``line`` the 1-based line for
    line-oriented input and ``index`` the 0-based position in a JSON array.
    ``raw`` keeps the record's original text so it can be written to a rejects file.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        index: int | None = None,
        raw: str | None = None,
    ):
        self.reason = message = shorten_values(message)
        self.source = source
        self.line = line
        self.index = index
        self.raw = raw
        # Set when a strict import stops at this record: the ImportReport of what landed
        # before it (Any: the models import this module, not the other way round).
        self.report: Any = None
        super().__init__(f"{self.location}: {message}" if self.location else message)

    @property
    def location(self) -> str:
        """``file:line`` or ``file[index]``, as much as is known."""
        where = self.source or ""
        if self.line is not None:
            where += f":{self.line}"
        if self.index is not None:
            where += f"[{self.index}]"
        return where


class DiffConflictError(NewsstoreError, ValueError):
    """A diff was applied to a snapshot it was not made from (:func:`newsstore.apply_diff`)."""


class NotFoundError(NewsstoreError, LookupError):
    """No stored snapshot matches the URL or key."""


class TakenDownError(NotFoundError):
    """The snapshot asked for was taken down; ``tombstone`` says when and why."""

    def __init__(self, message: str, *, tombstone: object) -> None:
        super().__init__(message)
        self.tombstone = tombstone


class StoreError(NewsstoreError):
    """The store failed or refused an operation."""


class StoreUnavailableError(StoreError):
    """The store cannot be reached, opened or written (server down, file locked or read-only)."""


class KeySettingsError(StoreError):
    """The store's keys were made with another tracking-parameter list than the one given
    (``newsstore rekey`` re-keys it under the new one)."""
