"""The store's metadata in the ``meta`` table (schema version 5): one JSON row, ``store``."""

from __future__ import annotations

import json
import sqlite3

from ..._archive import StoreMeta

__all__ = ["read_meta", "write_meta"]


def read_meta(db: sqlite3.Connection) -> StoreMeta | None:
    """The metadata recorded in the store, or None when none is yet."""
    row = db.execute("SELECT value FROM meta WHERE name = 'store'").fetchone()
    return None if row is None else StoreMeta.from_json(json.loads(row[0]))


def write_meta(db: sqlite3.Connection, meta: StoreMeta) -> None:
    """Record ``meta`` (inside the caller's write transaction)."""
    db.execute(
        "INSERT OR REPLACE INTO meta (name, value) VALUES ('store', ?)",
        (json.dumps(meta.to_json(), ensure_ascii=False),),
    )
