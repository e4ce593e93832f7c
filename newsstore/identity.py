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
from datetime import datetime, timezone, tzinfo

from .schemas import RelatedItem, Snapshot
from .urls import canonical_url

__all__ = [
    "content_hash",
    "content_json",
    "fingerprint_key",
    "snapshot_key",
    "utc_content",
    "with_zone",
]

_UTC = timezone.utc
_HASH_EXCLUDE = frozenset({"url", "stored"})


def with_zone(snapshot: Snapshot, zone: tzinfo) -> Snapshot:
    """A copy of ``snapshot`` with every time expressed in ``zone`` (same instants)."""

    def items(values: list[RelatedItem]) -> list[RelatedItem]:
        return [
            v.model_copy(update={"published_at": v.published_at.astimezone(zone)}) for v in values
        ]

    update: dict[str, object] = {
        "related": items(snapshot.related),
        "more_in_category": items(snapshot.more_in_category),
    }
    for name in ("published_at", "snapshot_at"):
        value = getattr(snapshot, name)
        if value is not None:
            update[name] = value.astimezone(zone)
    stored = snapshot.stored
    if stored is not None:
        update["stored"] = stored.model_copy(
            update={
                name: value.astimezone(zone)
                for name in ("first_seen", "last_seen", "archived_at")
                if (value := getattr(stored, name)) is not None
            }
        )
    return snapshot.model_copy(update=update)


def utc_content(snapshot: Snapshot) -> tuple[Snapshot, bytes]:
    """The snapshot with its times in UTC and no ``stored`` part, and its content JSON.

    The JSON (times in UTC, no URL, no ``stored``) is what the content hash is taken over.
    """
    utc = with_zone(snapshot, _UTC)
    utc.stored = None
    return utc, utc.model_dump_json(exclude=set(_HASH_EXCLUDE)).encode()


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


def snapshot_key(snapshot: Snapshot) -> str:
    """The dedup key: the canonical URL, else :func:`fingerprint_key`.

    Raises :class:`~newsstore.InvalidURLError` when the URL is present but not an http(s) URL.
    """
    if snapshot.url is None or not snapshot.url.strip():
        return fingerprint_key(snapshot)
    return canonical_url(snapshot.url)
