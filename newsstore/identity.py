"""Identity of a snapshot: its dedup key and its content hash (pure functions).

* The **key** is the canonical form of the original URL (:func:`newsstore.urls.canonical_url`).
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
from collections.abc import Callable, Collection
from datetime import datetime, timezone, tzinfo

from .schemas import Snapshot, in_zone
from .urls import canonical_url

__all__ = [
    "content_hash",
    "content_json",
    "fingerprint_key",
    "snapshot_key",
    "to_zone",
    "utc_content",
    "with_zone",
]

_UTC = timezone.utc
# Not mutated; passed to every serialisation rather than rebuilt each time.
_HASH_EXCLUDE_SET = {"url", "stored"}
_SERIALIZER = Snapshot.__pydantic_serializer__


def with_zone(snapshot: Snapshot, zone: tzinfo) -> Snapshot:
    """A copy of ``snapshot`` with every time expressed in ``zone`` (same instants)."""
    return to_zone(_copy(snapshot), zone)


def to_zone(snapshot: Snapshot, zone: tzinfo) -> Snapshot:
    """Express every time of ``snapshot`` in ``zone`` (same instants), in place; returns it.

    For a snapshot nobody else holds (just validated or read back): it changes the object
    instead of copying it, which :func:`with_zone` does at many times the cost (a snapshot
    has some twenty related items, each a model to copy).
    """
    # Plain __dict__ writes: the models have no assignment validation, so this is what
    # setattr would do, minus pydantic's __setattr__ dispatch.
    # in_zone gives times whose offset is not whole minutes (local mean time) in UTC, as
    # JSON cannot hold them; UTC needs no such check.
    convert: Callable[[datetime, tzinfo], datetime] = (
        datetime.astimezone if zone is _UTC else in_zone
    )
    fields = snapshot.__dict__
    for name in ("published_at", "snapshot_at"):
        value = fields[name]
        if value is not None:
            fields[name] = convert(value, zone)
    for items in (snapshot.related, snapshot.more_in_category):
        for item in items:
            item.__dict__["published_at"] = convert(item.published_at, zone)
    stored = snapshot.stored
    if stored is not None:
        fields = stored.__dict__
        for name in ("first_seen", "last_seen", "archived_at"):
            value = fields[name]
            if value is not None:
                fields[name] = convert(value, zone)
    return snapshot


def _copy(snapshot: Snapshot) -> Snapshot:
    """``snapshot`` copied deep enough for :func:`to_zone` to change the copy alone.

    The snapshot, its item lists and items, and ``stored`` are new objects; strings and
    the other lists are shared, as ``model_copy`` shares them.
    """
    copied = snapshot.model_copy()
    fields = copied.__dict__
    for name in ("related", "more_in_category"):
        fields[name] = [item.model_copy() for item in fields[name]]
    if copied.stored is not None:
        fields["stored"] = copied.stored.model_copy()
    return copied


def utc_content(snapshot: Snapshot, *, copy: bool = True) -> tuple[Snapshot, bytes]:
    """The snapshot with its times in UTC and no ``stored`` part, and its content JSON.

    The JSON (times in UTC, no URL, no ``stored``) is what the content hash is taken over.
    With ``copy=False`` the snapshot itself is changed and returned (see :func:`to_zone`).
    """
    utc = to_zone(_copy(snapshot) if copy else snapshot, _UTC)
    utc.__dict__["stored"] = None
    # The serializer's bytes are model_dump_json's, without its decode and our re-encode.
    return utc, _SERIALIZER.to_json(utc, exclude=_HASH_EXCLUDE_SET)


def content_json(snapshot: Snapshot) -> bytes:
    """The canonical JSON the content hash is taken over: times in UTC, no URL, no ``stored``."""
    return utc_content(snapshot)[1]


def content_hash(snapshot: Snapshot) -> str:
    """SHA-256 (hex) of the snapshot's user-visible content, URL excluded, times in UTC."""
    return hashlib.sha256(content_json(snapshot)).hexdigest()


def fingerprint_key(snapshot: Snapshot) -> str:
    """The fallback key of a snapshot without URL: ``content:<32 hex digits>``."""
    published = snapshot.published_at
    parts = [
        snapshot.title,
        published.astimezone(_UTC).isoformat() if isinstance(published, datetime) else "",
        snapshot.source or "",
        snapshot.paragraphs,
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
