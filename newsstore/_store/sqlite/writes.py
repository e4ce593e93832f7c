"""The SQLite statements a batch's plans (:class:`~newsstore._rules.KeyPlan`) turn into.

Run under the store's write lock, so no other writer can race them; the rules they apply
are decided in :mod:`newsstore._rules`.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from ..._rules import KeyPlan
from ..._times import to_ms
from . import similar
from .buffer import RowBuffer
from .rows import columns, dumps, hex_list, host_column
from .schema import record_days
from .sql import select_in
from .stats import count_added
from .versions import record_reseen

__all__ = ["write_plans"]


def write_plans(
    db: sqlite3.Connection, buffer: RowBuffer, plans: list[KeyPlan], now: datetime
) -> None:
    """Apply the plans of one batch, inside the caller's write transaction."""
    now_ms = to_ms(now)
    archive = [(now_ms, p.key) for p in plans if p.archive_current]
    if archive:
        db.executemany(
            "INSERT OR IGNORE INTO history (key, content_hash, url, snapshot_at,"
            " archived_at, content, first_seen, last_seen) SELECT key, content_hash, url,"
            " snapshot_at, ?, content, version_first_seen, version_last_seen"
            " FROM snapshots WHERE key = ?",
            archive,
        )
    history = [
        (p.key, h.content_hash, h.url, to_ms(h.snapshot_at), now_ms, h.content)
        for p in plans
        for h in p.history
    ]
    if history:
        db.executemany(
            "INSERT OR IGNORE INTO history (key, content_hash, url, snapshot_at,"
            " archived_at, content, first_seen, last_seen) VALUES (?, ?, ?, ?, ?5, ?, ?5, ?5)",
            history,
        )
    record_reseen(db, plans, now)
    inserts = [p for p in plans if p.expected_rev is None and p.current is not None]
    if inserts:
        db.executemany(
            "INSERT INTO snapshots (key, url, urls, host, title, category, source,"
            " published_at, snapshot_at, content_hash, hashes, first_seen, last_seen,"
            " seen_count, records, rev, content, version_first_seen, version_last_seen)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?12, ?12)",
            [
                (
                    p.key,
                    p.current.url,
                    dumps(p.urls),
                    host_column(p.key),
                    *columns(p.current),
                    hex_list(p.new_hashes),
                    now_ms,
                    now_ms,
                    len(p.records),
                    hex_list(p.records),
                    p.current.content,
                )
                for p in inserts
                if p.current is not None
            ],
        )
        count_added(db, [p.current.payload for p in inserts if p.current is not None])
    updates = [p for p in plans if p.expected_rev is not None]
    changed: list[KeyPlan] = []
    rewrites: list[tuple[str, str, str, str]] = []
    for plan in updates:
        # Only the keys with new URLs, hashes or records need their JSON lists rewritten.
        if plan.urls or plan.new_hashes or plan.records:
            urls_text, old_hashes, old_records = plan.stored
            urls = json.loads(urls_text)
            new_urls = [u for u in plan.urls if u not in urls]
            if new_urls or plan.new_hashes or plan.records:
                rewrites.append(
                    (
                        dumps(urls + new_urls),
                        hex_list(old_hashes + plan.new_hashes),
                        hex_list(old_records + plan.records),
                        plan.key,
                    )
                )
        if plan.current is not None:
            changed.append(plan)
    if rewrites:
        db.executemany(
            "UPDATE snapshots SET urls = ?, hashes = ?, records = ? WHERE key = ?", rewrites
        )
    if updates:
        db.executemany(
            "UPDATE snapshots SET last_seen = max(last_seen, ?1), seen_count = seen_count + ?2,"
            " version_last_seen = CASE WHEN ?4 THEN ?1 ELSE version_last_seen END"
            " WHERE key = ?3",
            [(now_ms, len(p.records), p.key, p.reseen_current) for p in updates],
        )
    if changed:
        db.executemany(
            "UPDATE snapshots SET url = ?, title = ?, category = ?, source = ?,"
            " published_at = ?, snapshot_at = ?, content_hash = ?7, content = ?,"
            " rev = rev + 1, version_last_seen = ?10, version_first_seen = CASE WHEN ?11"
            " THEN (SELECT h.first_seen FROM history h WHERE h.key = ?9"
            " AND h.content_hash = ?7) ELSE ?10 END WHERE key = ?9",
            [
                (
                    p.current.url,
                    *columns(p.current),
                    p.current.content,
                    p.key,
                    now_ms,
                    p.unarchive is not None,
                )
                for p in changed
                if p.current is not None
            ],
        )
    unarchived = [(p.key, p.unarchive) for p in plans if p.unarchive is not None]
    if unarchived:
        db.executemany("DELETE FROM history WHERE key = ? AND content_hash = ?", unarchived)
    # A stored content seen under a lesser spelling takes it (after the archiving above,
    # which may have moved the current to history). min() of TEXT is by code point.
    spellings = [(url, p.key, h) for p in plans for h, url in p.spellings.items()]
    if spellings:
        for table in ("snapshots", "history"):
            db.executemany(
                f"UPDATE {table} SET url = min(url, ?) WHERE key = ? AND content_hash = ?",
                spellings,
            )
    current = [p for p in plans if p.current is not None]
    if current:
        _index_items(db, buffer, current)


def _index_items(db: sqlite3.Connection, buffer: RowBuffer, plans: list[KeyPlan]) -> None:
    # The row id of every key written (new keys have theirs now).
    ids = dict(
        select_in(
            db,
            "SELECT key, id FROM snapshots WHERE key IN ({marks})",
            [p.key for p in plans],
        )
    )
    updated = [ids[p.key] for p in plans if p.expected_rev is not None]
    # Held until the commit, then inserted sorted (see .buffer); an updated snapshot's
    # stored rows go as its new days are recorded, which replace any it had held.
    current = [(ids[p.key], p.current.payload) for p in plans if p.current is not None]
    days = [(i, load[5]) for i, load in current]
    record_days(db, days)
    buffer.add_items(days)
    similar.index(db, [(i, load[6], load[7]) for i, load in current], updated, buffer)
