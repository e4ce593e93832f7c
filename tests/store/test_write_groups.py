"""An import's batches share SQLite transactions, and still land or fail batch by batch.

``SQLiteStore._write_group`` keeps one transaction open across batches for up to
``_GROUP_SECONDS``. These tests hold a group open for the whole import (a long group) and
check that it behaves as if each batch had committed on its own.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import date, timezone
from pathlib import Path
from typing import Any

import pytest

from newsstore import InvalidRecordError, StoreError, open_store
from newsstore._store import sqlite as sqlite_store
from newsstore._store.sqlite import SQLiteStore
from newsstore._times import day_range


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


def _fail_batch(monkeypatch: pytest.MonkeyPatch, failing: int) -> None:
    """Make the ``failing``-th batch fail once its rows are written."""
    real = SQLiteStore._write_plans
    calls = 0

    def fails(self: SQLiteStore, plans: Any, now: Any) -> set[str]:
        nonlocal calls
        calls += 1
        written = real(self, plans, now)  # the batch's rows are in, then the batch fails
        if calls == failing:
            raise sqlite3.OperationalError("disk I/O error")
        return written

    monkeypatch.setattr(SQLiteStore, "_write_plans", fails)


@pytest.fixture
def long_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_store, "_GROUP_SECONDS", 1e9)


@pytest.mark.usefixtures("long_groups")
def test_a_failing_batch_is_undone_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _write(tmp_path / "a.ndjson", [f"第{n}篇" for n in range(50)])
    db = tmp_path / "news.db"
    real = SQLiteStore._write_plans
    _fail_batch(monkeypatch, 3)
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


@pytest.mark.parametrize(
    ("seconds", "batches", "commits"),
    [
        (0.0, 20, [0, 10, 20, 30, 40]),  # its time is up after every batch
        (1e9, 2, [0, 20, 40]),  # small records come fast: its batch count ends it first
    ],
)
def test_a_group_releases_the_lock_after_its_time_or_its_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seconds, batches, commits
) -> None:
    monkeypatch.setattr(sqlite_store, "_GROUP_SECONDS", seconds)
    monkeypatch.setattr(sqlite_store, "_GROUP_BATCHES", batches)
    source = _write(tmp_path / "a.ndjson", [f"第{n}篇" for n in range(50)])
    db = tmp_path / "news.db"
    seen: list[int] = []
    with open_store(db) as store:
        store.import_records([source], batch_size=10, progress=lambda r, s: seen.append(_rows(db)))
    assert sorted(set(seen)) == commits
    assert _rows(db) == 50


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


def _index_rows(db: Path) -> tuple[list[tuple[Any, ...]], int]:
    with closing(sqlite3.connect(db)) as conn:
        items = conn.execute(
            "SELECT i.day, s.key FROM items i JOIN snapshots s ON s.id = i.snapshot_id"
            " ORDER BY 1, 2"
        ).fetchall()
        lines = int(conn.execute("SELECT count(*) FROM lines").fetchone()[0])
    return items, lines


def _with_items(path: Path, days: dict[int, list[str]]) -> Path:
    lines = [
        json.dumps(
            {
                "url": f"https://n.example.com/{n}",
                "title": f"第{n}篇",
                "related": [{"published_at": t} for t in times],
            }
        )
        for n, times in days.items()
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.usefixtures("long_groups")
def test_held_index_rows_of_a_failing_batch_are_undone_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # items and lines rows are inserted at the commit (sqlite/buffer.py): a batch that
    # fails must leave none of them, as it leaves no snapshot row.
    source = _with_items(tmp_path / "a.ndjson", {n: ["2023-11-14T10:00:00Z"] for n in range(30)})
    db = tmp_path / "news.db"
    _fail_batch(monkeypatch, 2)
    with open_store(db) as store, pytest.raises(StoreError, match="disk I/O error"):
        store.import_records([source], batch_size=10)
    items, lines = _index_rows(db)
    assert _rows(db) == 10
    assert len(items) == 10 and lines == 10  # the first batch's, not the failed one's
    assert {key for _, key in items} == {f"https://n.example.com/{n}" for n in range(10)}


@pytest.mark.usefixtures("long_groups")
def test_a_snapshot_replaced_within_a_group_keeps_only_its_new_item_days(tmp_path: Path) -> None:
    first = {n: ["2023-11-14T10:00:00Z", "2023-11-20T10:00:00Z"] for n in range(3)}
    # Later snapshots of the same URLs (another content, a later snapshot time): updated.
    source = _with_items(tmp_path / "a.ndjson", first)
    later = tmp_path / "b.ndjson"
    later.write_text(
        "".join(
            json.dumps(
                {
                    "url": f"https://n.example.com/{n}",
                    "title": f"第{n}篇 新",
                    "snapshot_at": "2024-01-01T00:00:00Z",
                    "related": [{"published_at": "2023-12-01T10:00:00Z"}],
                }
            )
            + "\n"
            for n in range(3)
        ),
        encoding="utf-8",
    )
    db = tmp_path / "news.db"
    with open_store(db) as store:
        report = store.import_records([source, later], batch_size=2)
        assert (report.inserted, report.updated) == (3, 3)
        assert list(store.related_on(*day_range(date(2023, 11, 14), timezone.utc))) == []
    items, _ = _index_rows(db)
    day = (date(2023, 12, 1) - date(1970, 1, 1)).days
    assert items == [(day, f"https://n.example.com/{n}") for n in range(3)]
