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
from collections.abc import Collection
from datetime import datetime
from typing import NamedTuple

from ._schemas import Snapshot, copy_snapshot, to_zone
from ._times import UTC
from ._urls import canonical_url

__all__ = ["Identity", "fingerprint_key", "identify", "snapshot_key", "utc_content"]

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
    published = snapshot.published_at
    parts = [
        snapshot.title,
        published.astimezone(UTC).isoformat() if isinstance(published, datetime) else "",
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


class Identity(NamedTuple):
    """What a snapshot is to a store: its key, its content hash, and what they were taken over."""

    key: str
    content_hash: str
    utc: Snapshot  # the snapshot with its times in UTC and no ``stored`` part
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
    return Identity(key, hashlib.sha256(content).hexdigest(), utc, content)
