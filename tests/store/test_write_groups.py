"""An import's batches share SQLite transactions, and still land or fail batch by batch.

``SQLiteStore._write_group`` keeps one transaction open across batches for up to
``_GROUP_SECONDS``. These tests hold a group open for the whole import (a long group) and
check that it behaves as if each batch had committed on its own.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from newsstore import InvalidRecordError, StoreError, open_store
from newsstore._store import sqlite as sqlite_store
from newsstore._store.sqlite import SQLiteStore


def _write(path: Path, titles: list[str]) -> Path:
    lines = [
        json.dumps({"url": f"https://n.example.com/{n}", "title": title}, ensure_ascii=False)
        for n, title in enumerate(titles)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _rows(db: Path) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("SELECT count(*) FROM snapshots").fetchone()[0])


@pytest.fixture
def long_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_store, "_GROUP_SECONDS", 1e9)


@pytest.mark.usefixtures("long_groups")
def test_a_failing_batch_is_undone_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _write(tmp_path / "a.ndjson", [f"第{n}篇" for n in range(50)])
    db = tmp_path / "news.db"
    real = SQLiteStore._write_plans
    calls = 0

    def third_fails(self: SQLiteStore, plans: Any, now: Any) -> set[str]:
        nonlocal calls
        calls += 1
        written = real(self, plans, now)  # the batch's rows are in, then the batch fails
        if calls == 3:
            raise sqlite3.OperationalError("disk I/O error")
        return written

    monkeypatch.setattr(SQLiteStore, "_write_plans", third_fails)
    with open_store(db) as store, pytest.raises(StoreError, match="disk I/O error"):
        store.import_records([source], batch_size=10)
    assert _rows(db) == 20  # the two batches before the failure, not the failed one

    monkeypatch.setattr(SQLiteStore, "_write_plans", real)
    with open_store(db) as store:
        report = store.import_records([source], batch_size=10)
    assert (report.inserted, report.unchanged) == (30, 20)


@pytest.mark.usefixtures("long_groups")
def test_strict_import_lands_what_came_before_the_bad_record(tmp_path: Path) -> None:
    source = _write(tmp_path / "a.ndjson", [f"第{n}篇" for n in range(25)] + [""])
    db = tmp_path / "news.db"
    with open_store(db) as store, pytest.raises(InvalidRecordError, match=":26"):
        store.import_records([source], batch_size=10, strict=True)
    assert _rows(db) == 25


@pytest.mark.usefixtures("long_groups")
def test_other_connections_see_a_group_only_when_it_ends(tmp_path: Path) -> None:
    source = _write(tmp_path / "a.ndjson", [f"第{n}篇" for n in range(30)])
    db = tmp_path / "news.db"
    seen: list[int] = []
    with open_store(db) as store:

        def progress(records: int, size: int) -> None:
            seen.append(_rows(db))  # another connection, while the import runs

        store.import_records([source], batch_size=10, progress=progress)
    assert set(seen) == {0}
    assert _rows(db) == 30


def test_a_group_releases_the_lock_after_its_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store, "_GROUP_SECONDS", 0.0)  # commit after every batch
    source = _write(tmp_path / "a.ndjson", [f"第{n}篇" for n in range(30)])
    db = tmp_path / "news.db"
    seen: list[int] = []
    with open_store(db) as store:
        store.import_records([source], batch_size=10, progress=lambda r, s: seen.append(_rows(db)))
    assert sorted(set(seen)) == [0, 10, 20]


def test_rejected_records_leave_no_reference_cycles(tmp_path: Path) -> None:
    # A process that pauses the cycle collector (the CLI does, for speed) must not grow with
    # every rejected line: rejection makes no garbage that only the collector frees.
    import gc

    source = tmp_path / "bad.ndjson"
    lines = [json.dumps({"title": "", "url": f"https://e.example.com/{i}"}) for i in range(300)]
    source.write_text("\n".join([*lines, *["{not json"] * 300]) + "\n", encoding="utf-8")
    with open_store(tmp_path / "s.db") as store:
        gc.collect()
        gc.disable()
        try:
            assert store.import_records([source]).rejected == 600
            assert gc.collect() == 0
        finally:
            gc.enable()
