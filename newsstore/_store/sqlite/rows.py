"""How a snapshot is written to a ``snapshots`` row and read back, and a query as SQL.

Pure functions, no connection: the adapter runs what they build. A ``snapshots`` row read
by :data:`SELECT` is ``(key, url, urls, content_hash, hashes, first_seen, last_seen,
seen_count, content)``; ``content`` is the snapshot's JSON with its times in UTC, without
``url`` and ``stored``.
"""

from __future__ import annotations

import json
from datetime import tzinfo
from itertools import chain
from typing import Any

import orjson

from ..._minhash import signature
from ..._query import Query
from ..._rules import Incoming
from ..._schemas import Snapshot, StoredInfo, to_zone
from ..._times import from_ms, to_ms
from ..._urls import host_of, reversed_host
from .schema import item_days
from .similar import band_json

__all__ = [
    "SELECT",
    "archived_of",
    "columns",
    "dumps",
    "hex_list",
    "host_column",
    "payload",
    "payload_of_doc",
    "select_sql",
    "snapshot_of",
    "where",
]

SELECT = (
    "SELECT key, url, urls, content_hash, hashes, first_seen, last_seen, seen_count, content"
    " FROM snapshots"
)

# json.dumps(..., ensure_ascii=False) builds an encoder per call; this one is made once.
dumps = json.JSONEncoder(ensure_ascii=False).encode


def hex_list(values: list[str]) -> str:
    """The JSON array of hex digests (content hashes, record ids): ASCII, so orjson."""
    text: str = orjson.dumps(values).decode()
    return text


def host_column(key: str) -> str | None:
    """The ``host`` column of ``key``: its reversed host (None for a ``content:`` key)."""
    return None if key.startswith("content:") else reversed_host(host_of(key))


def payload(snapshot: Snapshot) -> tuple[Any, ...]:
    """The snapshot's indexed columns, its item days for ``_index_items``, and its body
    fingerprint and band keys for :func:`.similar.index`."""
    sig = signature(snapshot.paragraphs)
    return (
        snapshot.title,
        snapshot.category,
        snapshot.source,
        to_ms(snapshot.published_at),
        to_ms(snapshot.snapshot_at),
        item_days(
            [item.published_at for item in chain(snapshot.related, snapshot.more_in_category)]
        ),
        sig,
        band_json(sig),
    )


def payload_of_doc(doc: dict[str, Any]) -> tuple[Any, ...]:
    """:func:`payload` of a snapshot's validated dict (times in UTC; the fast path)."""
    sig = signature(doc["paragraphs"])
    return (
        doc["title"],
        doc["category"],
        doc["source"],
        to_ms(doc["published_at"]),
        to_ms(doc["snapshot_at"]),
        item_days(
            [item["published_at"] for item in chain(doc["related"], doc["more_in_category"])]
        ),
        sig,
        band_json(sig),
    )


def columns(rec: Incoming) -> tuple[Any, ...]:
    """The values of ``title`` … ``snapshot_at`` and ``content_hash`` for ``rec``."""
    title, category, source, published, snapshot_at = rec.payload[:5]
    return (title, category, source, published, snapshot_at, rec.content_hash)


def snapshot_of(row: tuple[Any, ...], zone: tzinfo) -> Snapshot:
    """The snapshot of a :data:`SELECT` row, its times in ``zone``."""
    key, url, urls, chash, hashes, first, last, seen, content = row
    snap = Snapshot.model_validate_json(content)
    snap.url = url
    snap.stored = StoredInfo(
        key=key,
        content_hash=chash,
        urls=json.loads(urls),
        first_seen=from_ms(first),
        last_seen=from_ms(last),
        seen_count=seen,
        version_count=len(json.loads(hashes)),
    )
    return to_zone(snap, zone)  # a fresh model: no copy needed


def archived_of(row: tuple[Any, ...], zone: tzinfo) -> Snapshot:
    """The snapshot of a ``history`` row ``(key, url, content_hash, archived_at, content)``."""
    key, url, chash, archived, content = row
    snap = Snapshot.model_validate_json(content)
    snap.url = url
    snap.stored = StoredInfo(key=key, content_hash=chash, archived_at=from_ms(archived))
    return to_zone(snap, zone)


def where(query: Query, url_range: tuple[str, str, str | None] | None) -> tuple[str, list[Any]]:
    """The ``WHERE`` clause (or ``""``) and its parameters for ``query``.

    ``url_range`` is how the query's URL filter reads on the columns (``Store._url_range``),
    None when it has no URL.
    """
    clauses: list[str] = []
    params: list[Any] = []
    if url_range is not None:
        column, low, high = url_range
        if high is None:
            clauses.append(f"{column} = ?")
            params.append(low)
        else:
            clauses.append(f"{column} >= ? AND {column} < ?")
            params += [low, high]
    column = query.time_attribute
    if query.start is not None:
        clauses.append(f"{column} >= ?")
        params.append(to_ms(query.start))
    if query.end is not None:
        clauses.append(f"{column} < ?")
        params.append(to_ms(query.end))
    for name in ("category", "source"):
        value = getattr(query, name)
        if value is not None:
            clauses.append(f"{name} = ?")
            params.append(value)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def select_sql(
    query: Query, url_range: tuple[str, str, str | None] | None
) -> tuple[str, list[Any]]:
    """The :data:`SELECT` of the rows matching ``query``, in its order, and its parameters."""
    clause, params = where(query, url_range)
    column = query.time_attribute
    order = "DESC" if query.sort == "newest" else "ASC"
    sql = f"{SELECT}{clause} ORDER BY {column} {order}, key {order}"
    if query.limit is not None or query.offset:
        sql += " LIMIT ? OFFSET ?"
        params += [-1 if query.limit is None else query.limit, query.offset]
    return sql, params
