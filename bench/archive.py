"""Dump, restore and copy rates on a SQLite store of 100k snapshots with history (issue #14).

``python -m bench.archive [--count N] [--runs R]`` builds (once, cached in ``bench/work/``)
a store from the generated data set (``bench/generate.py``: 10% of the records repeat a URL,
half of them with new content, so some keys have history), then times, ``R`` times each,
a dump to an NDJSON file, a restore of that file into a fresh store, and a copy into a fresh
store, and prints the median rate in records a second (records = snapshots + history
versions + takedowns) with the runs' spread. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from .generate import GenParams, write_ndjson
from .measure import ROOT, remove_db, timed

WORK = ROOT / "bench" / "work"


def _store(count: int) -> Path:
    """A store imported from ``count`` generated records (built once)."""
    from newsstore._store.sqlite import SQLiteStore

    params = GenParams()
    db = WORK / f"archive-{params.tag()}-{count}.db"
    if db.exists():
        return db
    WORK.mkdir(parents=True, exist_ok=True)
    source = WORK / f"archive-{params.tag()}-{count}.ndjson"
    with source.open("w", encoding="utf-8") as fp:
        write_ndjson(fp, count, params)
    partial = db.with_suffix(".partial.db")
    remove_db(partial)
    with SQLiteStore(partial) as store:
        store.import_records([source])
        # A few takedowns, so the archive carries every kind of record.
        for snapshot in list(store.find())[:50]:
            assert snapshot.stored is not None
            store.delete(snapshot.stored.key, reason="bench")
    partial.rename(db)
    for suffix in ("-wal", "-shm"):
        Path(str(partial) + suffix).unlink(missing_ok=True)
    source.unlink()
    return db


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.archive")
    # 112,400 generated records give a store of 100,000 snapshots.
    parser.add_argument("--count", type=int, default=112_400, help="generated records")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    from newsstore import copy_store
    from newsstore._store.sqlite import SQLiteStore

    db = _store(args.count)
    archive = WORK / "archive-bench.ndjson"
    target = WORK / "archive-target.db"
    with SQLiteStore(db) as store:
        counts = store._archive_backend().counts()
    records = sum(counts)
    rates: dict[str, list[float]] = {"dump": [], "restore": [], "copy": []}
    for _ in range(args.runs):
        for step in rates:
            remove_db(target)
            with timed() as timing:
                if step == "dump":
                    with SQLiteStore(db) as store, archive.open("w", encoding="utf-8") as fp:
                        store.dump(fp)
                elif step == "restore":
                    with SQLiteStore(target) as fresh:
                        report = fresh.restore(archive)
                        assert report.rejected == 0, report.errors[:3]
                else:
                    with SQLiteStore(db) as source, SQLiteStore(target) as fresh:
                        assert copy_store(source, fresh).equal
            rates[step].append(records / timing.wall)
    remove_db(target)
    result = {
        "store": {"snapshots": counts[0], "history": counts[1], "takedowns": counts[2]},
        "archive_mb": round(archive.stat().st_size / 1e6, 1),
        "runs": args.runs,
        "records_per_s": {
            step: {
                "median": round(statistics.median(values)),
                "min": round(min(values)),
                "max": round(max(values)),
            }
            for step, values in rates.items()
        },
    }
    archive.unlink()
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
