"""How copies of a story are shown: tables for people, JSON for machines, a backfill's bar.

Part of :mod:`.output` (the only place that prints), kept apart for its size.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

from .output import SafeTable, emit, note, show

if TYPE_CHECKING:
    from newsstore import SimilarHit, StoryCluster

__all__ = ["clusters", "similar"]


def _when(t: datetime | None) -> str:
    return "" if t is None else t.strftime("%Y-%m-%d %H:%M")


def _hit_json(hit: SimilarHit) -> dict[str, object]:
    def iso(t: datetime | None) -> str | None:
        return None if t is None else t.isoformat()

    return {
        "key": hit.key,
        "url": hit.url,
        "distance": hit.distance,
        "source": hit.source,
        "published_at": iso(hit.published_at),
        "snapshot_at": iso(hit.snapshot_at),
    }


def similar(hits: list[SimilarHit], *, as_json: bool) -> None:
    """The other copies of a story: a table, or a JSON array."""
    if as_json:
        emit(json.dumps([_hit_json(h) for h in hits], ensure_ascii=False, indent=2))
        return
    if not hits:
        note("No other copies within the distance.")
        return
    table = SafeTable("distance", "published", "source", "URL / key")
    for h in hits:
        table.add_row(str(h.distance), _when(h.published_at), h.source or "", h.url or h.key)
    show(table)


def clusters(found: list[StoryCluster], *, as_json: bool) -> None:
    """Stories of a window, largest first: a table of each, or a JSON array."""
    if as_json:
        rows = [
            {
                "size": c.size,
                "sources": list(c.sources),
                "first": _hit_json(c.first),
                "members": [_hit_json(m) for m in c.members],
            }
            for c in found
        ]
        emit(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not found:
        note("No story has two snapshots or more in this window.")
        return
    table = SafeTable(
        "story", "copies", "first published", "first by", "sources", "first URL / key"
    )
    for n, c in enumerate(found, 1):
        first = c.first
        table.add_row(
            str(n),
            str(c.size),
            _when(first.published_at),
            first.source or "",
            ", ".join(c.sources),
            first.url or first.key,
        )
    show(table)
