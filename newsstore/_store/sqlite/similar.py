"""The SQLite store's body fingerprints: their tables, upgrade, upkeep and lookups.

``signatures`` holds each current snapshot's MinHash signature (:mod:`newsstore._minhash`)
by snapshot row id; ``bands`` its band keys, one row each, as the primary key
``(band, snapshot_id)``: a lookup of 21 band keys is 21 seeks in one B-tree. A snapshot whose
body is too short to fingerprint has neither. A band row is found from its signature (the
bands are a function of it), so ``bands`` needs no second index by snapshot.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from datetime import tzinfo

from ..._errors import NotFoundError
from ..._minhash import bands, signature
from ..._similar import Fingerprinted
from . import copies
from .buffer import RowBuffer
from .story_times import fingerprinted_row

__all__ = [
    "add_fingerprints",
    "band_json",
    "forget",
    "index",
    "sharing_band",
    "signature_of",
]

_TABLES = """
CREATE TABLE IF NOT EXISTS signatures (
    snapshot_id INTEGER PRIMARY KEY,
    signature BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS bands (
    band INTEGER NOT NULL,
    snapshot_id INTEGER NOT NULL,
    PRIMARY KEY (band, snapshot_id)
) WITHOUT ROWID;
"""
_INSERT_BANDS = "INSERT OR IGNORE INTO bands SELECT value, ?1 FROM json_each(?2)"
_COLUMNS = "s.key, s.url, s.source, s.published_at, s.snapshot_at, g.signature"


def band_json(sig: bytes | None) -> str:
    """The band keys of ``sig`` as the JSON array :func:`index` binds ("[]" for None)."""
    return "[]" if sig is None else str(bands(sig))


def add_fingerprints(
    db: sqlite3.Connection, progress: Callable[[int, int], None] | None = None
) -> None:
    """Schema step 5: the fingerprint tables, and a fingerprint for every stored snapshot.

    Runs in the caller's write transaction. ``progress(done, total)`` is called every
    thousand snapshots and at the end.
    """
    for statement in _TABLES.split(";"):
        if statement.strip():
            db.execute(statement)
    total = int(db.execute("SELECT count(*) FROM snapshots").fetchone()[0])
    done = 0
    cursor = db.execute("SELECT id, content FROM snapshots ORDER BY id")
    while rows := cursor.fetchmany(1000):
        batch = []
        for snapshot_id, content in rows:
            sig = signature(json.loads(content).get("paragraphs") or ())
            if sig is not None:
                batch.append((snapshot_id, sig, band_json(sig)))
        _insert(db, batch)
        done += len(rows)
        if progress is not None:
            progress(done, total)
    if progress is not None and not total:
        progress(0, 0)


def _insert(db: sqlite3.Connection, rows: list[tuple[int, bytes, str]]) -> None:
    db.executemany(
        "INSERT INTO signatures (snapshot_id, signature) VALUES (?, ?)",
        [(snapshot_id, sig) for snapshot_id, sig, _ in rows],
    )
    db.executemany(_INSERT_BANDS, [(snapshot_id, keys) for snapshot_id, _, keys in rows])


def forget(
    db: sqlite3.Connection, snapshot_ids: Iterable[int], buffer: RowBuffer, *, items: bool
) -> None:
    """Remove the fingerprints of these snapshots (replaced, or with ``items`` taken down:
    their held item days go too)."""
    ids = list(snapshot_ids)
    if not ids:
        return
    buffer.drop(ids, items=items)
    # Their pairs go with their signatures (a trigger); their partners are paired again.
    buffer.add_repairs(copies.partners(db, ids))
    old = [(key, i) for i, sig in copies.signatures_of(db, ids) for key in bands(sig)]
    db.executemany("DELETE FROM bands WHERE band = ? AND snapshot_id = ?", old)
    copies.forget_heads(db, old)
    db.executemany("DELETE FROM signatures WHERE snapshot_id = ?", [(i,) for i in ids])


def index(
    db: sqlite3.Connection,
    rows: list[tuple[int, bytes | None, str]],
    replaced: list[int],
    buffer: RowBuffer,
) -> None:
    """Write the fingerprints of snapshots just written: ``(id, signature, band JSON)``;
    their band keys are held until the commit (see .buffer).

    ``replaced``: the ids whose current content changed, whose old fingerprint goes first.
    """
    forget(db, replaced, buffer, items=False)
    new = [(i, sig, keys) for i, sig, keys in rows if sig is not None]
    db.executemany(
        "INSERT INTO signatures (snapshot_id, signature) VALUES (?, ?)",
        [(snapshot_id, sig) for snapshot_id, sig, _ in new],
    )
    buffer.add_bands([(snapshot_id, sig, keys) for snapshot_id, sig, keys in new])


def signature_of(db: sqlite3.Connection, key: str, asked: str) -> bytes | None:
    row = db.execute(
        "SELECT s.id, g.signature FROM snapshots s LEFT JOIN signatures g"
        " ON g.snapshot_id = s.id WHERE s.key = ?",
        (key,),
    ).fetchone()
    if row is None:
        raise NotFoundError(f"no snapshot for {asked} (key {key})")
    return None if row[1] is None else bytes(row[1])


def sharing_band(db: sqlite3.Connection, band_keys: list[int], zone: tzinfo) -> list[Fingerprinted]:
    if not band_keys:
        return []
    marks = ",".join("?" * len(band_keys))
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM (SELECT DISTINCT snapshot_id FROM bands WHERE band IN ({marks}))"
        " b JOIN signatures g ON g.snapshot_id = b.snapshot_id"
        " JOIN snapshots s ON s.id = b.snapshot_id",
        band_keys,
    ).fetchall()
    return [fingerprinted_row(row, zone) for row in rows]
