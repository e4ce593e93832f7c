"""Several real processes importing overlapping files at once end with one record per key.

On SQLite every batch is a ``BEGIN IMMEDIATE`` transaction; on MongoDB (when a test URI is
given) writes are conditional and retried. Either way: one current record per key, the
newest content current, every other content in history, and the counts add up.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest

from newsstore import Query, open_store

from ..conftest import MONGODB_URI

KEYS = 120
VERSIONS = 3


def _write_inputs(tmp_path: Path, workers: int) -> list[Path]:
    """Each worker gets every key in its own order, with every version of each key."""
    files = []
    for w in range(workers):
        lines = []
        for i in range(KEYS):
            k = (i * (1, 7, 11, 13)[w] + w) % KEYS  # a different permutation per worker
            for v in ((w + i) % VERSIONS, (w + i + 1) % VERSIONS, (w + i + 2) % VERSIONS):
                lines.append(
                    json.dumps(
                        {
                            "url": f"http://www.news.example.com/{k}.html?utm_source=w{w}",
                            "title": f"第{k}篇",
                            "paragraphs": [f"版本{v}"],
                            "snapshot_at": f"2023-11-14 1{v}:00:00",
                        },
                        ensure_ascii=False,
                    )
                )
        path = tmp_path / f"w{w}.ndjson"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        files.append(path)
    return files


def _import(uri: str, database: str, path: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    with open_store(uri, database=database) as store:
        report = store.import_records([path], batch_size=25)
    queue.put(report.model_dump(exclude={"errors", "warnings"}))


def _run_workers(uri: str, database: str, files: list[Path]) -> list[dict[str, int]]:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_import, args=(uri, database, str(f), queue)) for f in files]
    for p in procs:
        p.start()
    reports = [queue.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return reports


def _check(uri: str, database: str, reports: list[dict[str, int]], workers: int) -> None:
    with open_store(uri, database=database) as store:
        assert store.count() == KEYS
        for snapshot in store.find(Query()):
            assert snapshot.paragraphs == [f"版本{VERSIONS - 1}"]  # newest wins everywhere
            assert snapshot.stored is not None
            # Each worker's spelling of each version is a record of its own.
            assert snapshot.stored.seen_count == workers * VERSIONS
            # Whichever worker wrote last, url is the least spelling of the current content.
            key = snapshot.stored.key.rsplit("/", 1)[1]
            assert snapshot.url == f"http://www.news.example.com/{key}?utm_source=w0"
            assert snapshot.stored.version_count == VERSIONS
            history = store.history(snapshot.stored.key)
            assert sorted(h.paragraphs[0] for h in history) == [
                f"版本{v}" for v in range(VERSIONS - 1)
            ]
    counts = [k for k, v in reports[0].items() if isinstance(v, int)]
    total = {k: sum(r[k] for r in reports) for k in counts}
    assert total["rejected"] == 0
    assert total["inserted"] == KEYS
    assert sum(total.values()) == workers * KEYS * VERSIONS
    # Every version beyond the first is recorded exactly once as new (updated or versioned).
    assert total["updated"] + total["versioned"] >= KEYS * (VERSIONS - 1)


@pytest.mark.slow
def test_four_processes_on_one_sqlite_file(tmp_path: Path) -> None:
    files = _write_inputs(tmp_path, 4)
    uri = f"sqlite:///{tmp_path / 'shared.db'}"
    _check(uri, "unused", _run_workers(uri, "unused", files), 4)


@pytest.mark.slow
@pytest.mark.skipif(
    not MONGODB_URI,
    reason="needs a MongoDB server (NEWSSTORE_TEST_MONGODB_URI): processes cannot share mongomock",
)
def test_four_processes_on_one_mongodb(tmp_path: Path) -> None:
    from pymongo import MongoClient

    assert MONGODB_URI is not None
    database = f"newsstore_race_{os.getpid()}"
    files = _write_inputs(tmp_path, 4)
    try:
        _check(MONGODB_URI, database, _run_workers(MONGODB_URI, database, files), 4)
    finally:
        with MongoClient(MONGODB_URI) as client:
            client.drop_database(database)
