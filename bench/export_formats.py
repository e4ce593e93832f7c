"""Export speed by format, as ratios to NDJSON on the same store, in one run (issue #18).

``python -m bench.export_formats [--count N] [--runs R]`` builds a SQLite store of N
generated snapshots (cached in bench/work/), then exports it R times in each format through
``open_output`` (the CLI's path) into a file, interleaving the formats so that load
on a shared machine hits them alike. It prints each format's median CPU seconds and its
ratio to NDJSON's median (target: json and ejson within 1.5×).
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from pathlib import Path

from newsstore import SQLiteStore, open_output

from .generate import GenParams, write_ndjson

FORMATS = ("ndjson", "json", "ejson", "ejson-canonical")
WORK = Path(__file__).parent / "work"


def _store(count: int) -> Path:
    db = WORK / f"export-formats-{count}.db"
    if not db.exists():
        WORK.mkdir(exist_ok=True)
        data = WORK / f"export-formats-{count}.ndjson"
        with data.open("w", encoding="utf-8") as fp:
            write_ndjson(fp, count, GenParams())
        with SQLiteStore(db) as store:
            store.import_records([str(data)])
        data.unlink()
    return db


def _export(db: Path, format: str) -> float:
    with SQLiteStore(db) as store:
        start = time.process_time()
        # A file, as users export to: its write and rename are part of the cost.
        with open_output(WORK / "export-formats.out", io.StringIO()) as fp:
            store.export(fp, format=format)  # type: ignore[arg-type]
        spent = time.process_time() - start
    (WORK / "export-formats.out").unlink()
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    db = _store(args.count)
    times: dict[str, list[float]] = {f: [] for f in FORMATS}
    for _ in range(args.runs):
        for format in FORMATS:
            times[format].append(_export(db, format))
    base = statistics.median(times["ndjson"])
    print(f"{args.count:,} snapshots, {args.runs} runs, median CPU seconds")
    for format in FORMATS:
        median = statistics.median(times[format])
        print(f"{format:<16} {median:7.3f} s  {median / base:5.2f}× ndjson")


if __name__ == "__main__":
    main()
