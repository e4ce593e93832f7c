"""Identity of a snapshot: its dedup key and its content hash (pure functions).

* The **key** is the canonical form of the original URL (:func:`newsstore._urls.canonical_url`).
  A snapshot without a URL is keyed by a fingerprint of what identifies the page:
  ``content:`` + the first 32 hex digits of SHA-256 over title, published time (UTC),
  source and body paragraphs. Importing the same URL-less snapshot twice keeps one record.
* The **content hash** is SHA-256 over every user-visible field except the URL (another
  spelling of the same URL is not new content) and the store's derived ``stored`` part,
  with every time in UTC so the zone it was written in does not matter.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection
from datetime import datetime
from typing import Any, NamedTuple

from ._errors import InvalidQueryError, InvalidRecordError
from ._schemas import Snapshot, copy_snapshot, to_zone
from ._times import UTC
from ._urls import canonical_url, lookup_url, without_userinfo

__all__ = [
    "MAX_RECORD_BYTES",
    "Identity",
    "RecordTooLargeError",
    "bson_size",
    "check_size",
    "fingerprint_key",
    "fingerprint_of",
    "identify",
    "lookup_key",
    "snapshot_key",
    "utc_content",
]

# MongoDB refuses documents over 16 MiB; refusing them in every store keeps stores alike.
MAX_RECORD_BYTES = 16 * 1024 * 1024 - 64 * 1024
_BSON_GROWTH = 5

# Not mutated; passed to every serialisation rather than rebuilt each time.
_HASH_EXCLUDE_SET = {"url", "stored"}
_SERIALIZER = Snapshot.__pydantic_serializer__


def utc_content(snapshot: Snapshot, *, copy: bool = True) -> tuple[Snapshot, bytes]:
    """The snapshot with its times in UTC and no ``stored`` part, and its content JSON.

    The JSON (times in UTC, no URL, no ``stored``) is what the content hash is taken over.
    With ``copy=False`` the snapshot itself is changed and returned (see :func:`to_zone`).
    """
    utc = to_zone(copy_snapshot(snapshot) if copy else snapshot, UTC)
    utc.__dict__["stored"] = None
    # The serializer's bytes are model_dump_json's, without its decode and our re-encode.
    return utc, _SERIALIZER.to_json(utc, exclude=_HASH_EXCLUDE_SET)


def fingerprint_key(snapshot: Snapshot) -> str:
    """The fallback key of a snapshot without URL: ``content:<32 hex digits>``."""
    return fingerprint_of(
        snapshot.title, snapshot.published_at, snapshot.source, snapshot.paragraphs
    )


def fingerprint_of(
    title: str, published: datetime | None, source: str | None, paragraphs: list[str]
) -> str:
    """:func:`fingerprint_key` of a snapshot's fields (for callers without the model)."""
    parts = [
        title,
        published.astimezone(UTC).isoformat() if isinstance(published, datetime) else "",
        source or "",
        paragraphs,
    ]
    digest = hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()
    return "content:" + digest[:32]


def snapshot_key(snapshot: Snapshot, *, tracking_params: Collection[str] | None = None) -> str:
    """The dedup key: the canonical URL, else :func:`fingerprint_key`.

    ``tracking_params`` replaces the default list of query parameters dropped from the key.
    Raises :class:`~newsstore.InvalidURLError` when the URL is present but not an http(s) URL.
    """
    if snapshot.url is None or not snapshot.url.strip():
        return fingerprint_key(snapshot)
    return canonical_url(snapshot.url, tracking_params=tracking_params)


class Identity(NamedTuple):
    """What a snapshot is to a store: its key, its content hash, and what they were taken over."""

    key: str
    content_hash: str
    utc: Snapshot  # the snapshot with its times in UTC, no ``stored`` part, no URL user info
    content: bytes  # the JSON the hash was taken over


def identify(
    snapshot: Snapshot, *, tracking_params: Collection[str] | None = None, copy: bool = True
) -> Identity:
    """Key and content hash of ``snapshot`` (raises InvalidURLError for a bad URL).

    ``copy=False`` moves ``snapshot`` itself to UTC, for callers that own it, such as the
    importer (copying costs more than the rest).
    """
    key = snapshot_key(snapshot, tracking_params=tracking_params)
    utc, content = utc_content(snapshot, copy=copy)
    if utc.url is not None and "@" in utc.url:
        # The spelling a store keeps never holds a credential (the content JSON has no URL).
        utc.__dict__["url"] = without_userinfo(utc.url)
    return Identity(key, hashlib.sha256(content).hexdigest(), utc, content)


class RecordTooLargeError(InvalidRecordError):
    """A record over the document size limit (an import keeps only its start)."""


def check_size(identity: Identity) -> None:
    """Refuse a record over MongoDB's document size limit, in every store alike.

    The size is the record's JSON, or its BSON form when that may be larger.
    """
    size = len(identity.content)
    if size > MAX_RECORD_BYTES // _BSON_GROWTH:
        # BSON spends up to ~5x the JSON on tiny list items (type byte, index key, length),
        # so a record under the limit as JSON can be over it as a MongoDB document.
        size = max(size, bson_size(identity.utc.model_dump(exclude={"stored"})))
    if size > MAX_RECORD_BYTES:
        raise RecordTooLargeError(
            f"record is {size / 2**20:.1f} MiB; the limit is 16 MiB (MongoDB's document size limit)"
        )


def bson_size(value: dict[str, Any]) -> int:
    """The size of ``value`` encoded as a BSON document, computed without the driver.

    Covers what a snapshot dumps to: documents, arrays, strings, ints, floats, bools,
    datetimes and None (BSON spec: length, elements of type byte + key + value, NUL).
    """

    def element(key: str, item: Any) -> int:
        return 1 + len(key.encode("utf-8", "surrogatepass")) + 1 + size_of(item)

    def size_of(item: Any) -> int:
        if isinstance(item, dict):
            return 5 + sum(element(k, v) for k, v in item.items())
        if isinstance(item, (list, tuple)):
            return 5 + sum(element(str(i), v) for i, v in enumerate(item))
        if isinstance(item, str):
            return 4 + len(item.encode("utf-8", "surrogatepass")) + 1
        if item is None:
            return 0
        if isinstance(item, bool):
            return 1
        if isinstance(item, int):
            return 4 if -(2**31) <= item < 2**31 else 8
        return 8  # float, datetime

    return size_of(value)


_FALLBACK_KEY = re.compile(r"content:[0-9a-f]{32}")


def lookup_key(url_or_key: object, tracking_params: Collection[str] | None) -> str:
    """The key a URL (any spelling) or an existing key (``content:…``) stands for."""
    if not isinstance(url_or_key, str):
        # Only a literal string is ever a key: a dict ({"$ne": None}) never reaches a store.
        raise InvalidQueryError(f"a URL or key must be a string, not {type(url_or_key).__name__}")
    if url_or_key.startswith("content:"):
        # A fallback key is "content:" and 32 hex digits (fingerprint_key): any other text
        # is no key a snapshot can have, and no takedown is recorded for it.
        if not _FALLBACK_KEY.fullmatch(url_or_key):
            raise InvalidQueryError(
                f"not a key: {url_or_key!r} (a key is content: and 32 hex digits)"
            )
        return url_or_key
    # A scheme-less URL (example.com/a) is read as the CDX API reads it.
    return canonical_url(lookup_url(url_or_key), tracking_params=tracking_params)
