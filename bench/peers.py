"""What the import is compared with, on the same NDJSON file and in the same run.

* :func:`sqlite_utils_upsert` — ``sqlite-utils upsert DB snapshots FILE --nl --pk url``, the
  command a user would run instead, as a subprocess (its start-up, measured on a one-line
  file, is subtracted so that only the import is compared);
* :func:`floor` — the least any importer must do: ``json.loads`` each line and
  ``executemany`` the rows into a table like newsstore's ``snapshots`` (same columns that
  matter, same indexes, same PRAGMAs, a transaction per 1,000 rows), nothing else.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
from pathlib import Path
from typing import Any

from .measure import Timing, remove_db, run_child, timed

__all__ = ["floor", "sqlite_utils_upsert"]

_FLOOR_SCHEMA = """
CREATE TABLE snapshots (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    url TEXT,
    title TEXT NOT NULL,
    category TEXT,
    source TEXT,
    published_at TEXT,
    snapshot_at TEXT,
    content BLOB NOT NULL
);
CREATE INDEX snapshots_published ON snapshots (published_at);
CREATE INDEX snapshots_snapshot ON snapshots (snapshot_at);
CREATE INDEX snapshots_category ON snapshots (category, published_at);
CREATE INDEX snapshots_source ON snapshots (source, published_at);
"""


def _sqlite_utils() -> str:
    found = shutil.which("sqlite-utils") or str(Path(sys.executable).with_name("sqlite-utils"))
    if not Path(found).exists():
        raise RuntimeError("sqlite-utils is not installed: pip install -e '.[bench]'")
    return found


def sqlite_utils_upsert(source: Path, work: Path) -> dict[str, Any]:
    """Time ``sqlite-utils upsert --nl --pk url`` of ``source`` into a fresh database."""
    exe = _sqlite_utils()
    db = work / "peer-sqlite-utils.db"
    one = work / "peer-one-line.ndjson"
    with source.open("rb") as fp:
        one.write_bytes(fp.readline())
    remove_db(db)
    # Start-up and table creation, to subtract: the same command on a one-line file.
    _, startup = run_child([exe, "upsert", str(db), "snapshots", str(one), "--nl", "--pk", "url"])
    remove_db(db)
    _, timing = run_child([exe, "upsert", str(db), "snapshots", str(source), "--nl", "--pk", "url"])
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT count(*) FROM snapshots").fetchone()[0]
    remove_db(db)
    one.unlink()
    return {
        "wall": timing.wall,
        "cpu": timing.cpu,
        "startup_wall": startup.wall,
        "startup_cpu": startup.cpu,
        "rows": rows,
        "command": f"sqlite-utils upsert DB snapshots {source.name} --nl --pk url",
    }


def floor(source: Path, work: Path, batch: int = 1000) -> tuple[Timing, int]:
    """json.loads + executemany of ``source`` into a comparable table; (timing, lines)."""
    db = work / "peer-floor.db"
    remove_db(db)
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.executescript(_FLOOR_SCHEMA)
    sql = (
        "INSERT OR REPLACE INTO snapshots (key, url, title, category, source, published_at,"
        " snapshot_at, content) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    )
    lines = 0
    with timed() as timing, source.open("rb") as fp:
        rows: list[tuple[Any, ...]] = []
        for line in fp:
            obj = json.loads(line)
            url = obj["url"]
            rows.append(
                (
                    url or obj["title"],
                    url,
                    obj["title"],
                    obj["category"],
                    obj["source"],
                    obj["published_at"],
                    obj["snapshot_at"],
                    line,
                )
            )
            if len(rows) >= batch:
                lines += len(rows)
                con.execute("BEGIN IMMEDIATE")
                con.executemany(sql, rows)
                con.execute("COMMIT")
                rows = []
        if rows:
            lines += len(rows)
            con.execute("BEGIN IMMEDIATE")
            con.executemany(sql, rows)
            con.execute("COMMIT")
    con.close()
    remove_db(db)
    return timing, lines
