"""The SQLite store's pairs of near snapshots, which ``stats`` counts.

See :mod:`newsstore._copies` for what is paired (:func:`~newsstore._copies.pairs_of`, the
same rules as MongoDB's). ``copies`` holds the pairs in both orders, keyed by
``(snapshot_id, other_id)``, with their distance. The fingerprints a transaction wrote are
paired at its commit, after their band rows went in (.buffer), by :func:`pair`. A trigger
deletes a fingerprint's pairs when its signature goes (a new content, a takedown), so no
write path leaves one behind; :func:`partners` names the snapshots that were paired with
it, which the commit pairs again.

A fingerprint is compared with the first :data:`~newsstore._copies.PER_BAND` snapshots
stored with each of its bands. ``band_heads`` holds those of every band that has as many:
a band shared by thousands of pages is then a read of four rows, not thousands, and the
bands of few pages are read from ``bands`` whole. (Bounding each band's read in SQL
instead, with a subquery a band, cost 1.6 µs a band, twice what the rest of the read does.)
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from itertools import chain

from ..._copies import PER_BAND, pairs_of
from ..._minhash import band_index, bands
from .sql import select_in, statements

__all__ = [
    "add_copies",
    "forget_heads",
    "near_duplicates",
    "pair",
    "partners",
    "signatures_of",
]

TABLE = """
CREATE TABLE IF NOT EXISTS copies (
    snapshot_id INTEGER NOT NULL,
    other_id INTEGER NOT NULL,
    distance INTEGER NOT NULL,
    PRIMARY KEY (snapshot_id, other_id)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS copies_unsigned AFTER DELETE ON signatures BEGIN
    DELETE FROM copies WHERE other_id = OLD.snapshot_id
        AND snapshot_id IN (SELECT other_id FROM copies WHERE snapshot_id = OLD.snapshot_id);
    DELETE FROM copies WHERE snapshot_id = OLD.snapshot_id;
END;
CREATE TABLE IF NOT EXISTS band_heads (
    band INTEGER NOT NULL,
    snapshot_id INTEGER NOT NULL,
    PRIMARY KEY (band, snapshot_id)
) WITHOUT ROWID;
"""
# The snapshots of the bands in ?1 (a JSON array, sorted: the seeks go through the B-trees
# in order) that share them: of a band without heads, each one with another (its rows are
# few), of a band with heads, its heads. Bands of one snapshot, most of them, give nothing.
_SHARING = """
SELECT d.value, c.snapshot_id, 0 FROM json_each(?1) d JOIN bands c ON c.band = d.value
    WHERE NOT EXISTS (SELECT 1 FROM band_heads e WHERE e.band = d.value)
        AND EXISTS (SELECT 1 FROM bands x WHERE x.band = d.value AND x.snapshot_id <> c.snapshot_id)
UNION ALL
SELECT d.value, e.snapshot_id, 1 FROM json_each(?1) d JOIN band_heads e ON e.band = d.value
"""
# Fingerprints paired at once. What a slice reads, its bands' members, grows with the store
# (more bands have some): at 400k of the bench's records, slices of 10,000 took the
# importing process to 226 MB, of 2,500 to 206 MB, at the same speed (bench/README.md).
SLICE = 2_500
_HEAD = (
    "INSERT OR IGNORE INTO band_heads SELECT band, snapshot_id FROM bands WHERE band = ?"
    f" ORDER BY snapshot_id LIMIT {PER_BAND}"
)


def pair(db: sqlite3.Connection, held: dict[int, bytes]) -> None:
    """Pair these fingerprints (snapshot id -> signature), whose band rows are stored.

    A slice of :data:`SLICE` at a time: what a slice reads (its bands' members, a few for
    each of its bands) is held in memory, and a commit holds up to twenty thousand.
    """
    # The bands the commit's fingerprints crowd get their heads first: read whole from one
    # slice, a band of the commit's many copies spread over its slices would be read n × n.
    _, crowded = band_index(list(held.values()), PER_BAND)
    db.executemany(_HEAD, [(band,) for band in crowded])
    entries = list(held.items())
    for start in range(0, len(entries), SLICE):
        _pair(db, dict(entries[start : start + SLICE]))


def _pair(db: sqlite3.Connection, held: dict[int, bytes]) -> None:
    # The slice's distinct band keys, sorted.
    keys, _ = band_index(list(held.values()), PER_BAND)
    members: dict[int, set[int]] = {}
    headed: set[int] = set()
    for band, other, head in db.execute(_SHARING, (keys,)):
        members.setdefault(band, set()).add(other)
        if head:
            headed.add(band)
    by_band = {band: sorted(ids)[:PER_BAND] for band, ids in members.items()}
    # Bands that reached PER_BAND snapshots get their heads.
    db.executemany(
        "INSERT OR IGNORE INTO band_heads VALUES (?, ?)",
        [
            (band, i)
            for band, ids in members.items()
            if len(ids) >= PER_BAND and band not in headed
            for i in by_band[band]
        ],
    )
    # Only the fingerprints with a band that others have are compared, with those others.
    shared = by_band.keys()
    new = {i: (sig, b) for i, sig in held.items() if not shared.isdisjoint(b := bands(sig))}
    candidates = set(chain.from_iterable(by_band.values())) | new.keys()
    signatures = {i: held[i] for i in candidates if i in held}
    signatures.update(signatures_of(db, sorted(candidates - signatures.keys())))
    pairs = sorted(pairs_of(new, by_band, signatures))
    db.executemany("INSERT OR REPLACE INTO copies VALUES (?, ?, ?)", pairs)


# The heads among (band, snapshot id) pairs, ?1 a JSON array of them: two statements for all
# the rows instead of a DELETE a row (20k bench records into an 80k store: 13,377 DELETEs,
# 3.8 µs a record; the two, 1.9 µs). Not DELETE … RETURNING, which needs SQLite 3.35.
_PAIRED = "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?1)"
_HEADS_AMONG = f"SELECT DISTINCT band FROM band_heads WHERE (band, snapshot_id) IN ({_PAIRED})"
_DELETE_HEADS = f"DELETE FROM band_heads WHERE (band, snapshot_id) IN ({_PAIRED})"


def forget_heads(db: sqlite3.Connection, rows: list[tuple[int, int]]) -> None:
    """(band, snapshot id) rows that went: a band that lost a head takes the next one."""
    if not rows:
        return
    pairs = json.dumps(rows)
    lost = db.execute(_HEADS_AMONG, (pairs,)).fetchall()
    if lost:
        db.execute(_DELETE_HEADS, (pairs,))
        db.executemany(_HEAD, lost)


def partners(db: sqlite3.Connection, ids: list[int]) -> list[tuple[int, bytes]]:
    """The snapshots paired with ``ids`` and their signatures, read before ``ids``'
    fingerprints go: the commit pairs them again."""
    others = {
        other
        for (other,) in select_in(
            db, "SELECT other_id FROM copies WHERE snapshot_id IN ({marks})", ids
        )
    } - set(ids)
    return list(signatures_of(db, sorted(others)))


def signatures_of(db: sqlite3.Connection, ids: list[int]) -> Iterable[tuple[int, bytes]]:
    """(id, signature) of those of ``ids`` that have one."""
    sql = "SELECT snapshot_id, signature FROM signatures WHERE snapshot_id IN ({marks})"
    return ((i, bytes(sig)) for i, sig in select_in(db, sql, ids))


def add_copies(db: sqlite3.Connection) -> None:
    """Schema step 10: ``copies`` and its trigger, filled from the stored fingerprints.

    Runs in the caller's write transaction: the heads of every band in one pass of
    ``bands`` (in its key order), then the fingerprints a thousand at a time.
    """
    for statement in statements(TABLE):
        db.execute(statement)
    db.execute(
        "INSERT OR IGNORE INTO band_heads SELECT band, snapshot_id FROM (SELECT band, snapshot_id,"
        " row_number() OVER (PARTITION BY band ORDER BY snapshot_id) AS r,"
        " count(*) OVER (PARTITION BY band) AS n FROM bands)"
        f" WHERE r <= {PER_BAND} AND n >= {PER_BAND}"
    )
    cursor = db.execute("SELECT snapshot_id, signature FROM signatures ORDER BY snapshot_id")
    while rows := cursor.fetchmany(1000):
        pair(db, {i: bytes(sig) for i, sig in rows})


def near_duplicates(db: sqlite3.Connection, max_distance: int) -> int:
    """How many current snapshots have another within ``max_distance``: a scan of ``copies``."""
    row = db.execute(
        "SELECT count(DISTINCT snapshot_id) FROM copies WHERE distance <= ?", (max_distance,)
    ).fetchone()
    return int(row[0])
