"""What a SQLite store runs on, for ``newsstore doctor``."""

from __future__ import annotations

import re
import sqlite3

from ..values import Diagnosis
from . import schema, story_times

__all__ = ["diagnose"]

# Every index the schema declares, by name.
_INDEXES = tuple(
    re.findall(
        r"CREATE INDEX IF NOT EXISTS (\w+)",
        schema._SCHEMA + schema.VERSION_INDEX + story_times._TABLE,
    )
)


def diagnose(db: sqlite3.Connection, path: str) -> Diagnosis:
    """The SQLite version, journal, schema version and indexes of the store at ``path``."""
    present = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    journal = db.execute("PRAGMA journal_mode").fetchone()[0]
    synchronous = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(
        db.execute("PRAGMA synchronous").fetchone()[0], "?"
    )
    version = db.execute("PRAGMA user_version").fetchone()[0]
    notes = []
    if journal.lower() != "wal":
        notes.append(f"journal mode {journal}: readers may wait for writers (WAL expected)")
    if version < schema.SCHEMA_VERSION:
        notes.append(f"schema version {version}: opening it for writing upgrades it")
    columns = [row[1] for row in db.execute("PRAGMA table_info(snapshots)")]
    if columns and columns[-1] != "content":
        notes.append(
            "snapshot rows of an older layout (columns after the content): re-imports read"
            " and rewrite a page more per snapshot; `newsstore copy` to a new store lays"
            " them out anew"
        )
    return Diagnosis(
        store=f"SQLite file {path}",
        server=f"SQLite {sqlite3.sqlite_version}, schema version {version}",
        topology="embedded file (one machine; writers serialise on its lock)",
        writes=f"journal {journal}, synchronous={synchronous}, one transaction a batch",
        indexes={name: name in present for name in _INDEXES},
        notes=notes,
    )
