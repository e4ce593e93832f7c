"""SQLite's ``bands`` rows, held until the commit, always match the stored fingerprints.

Every write path (import with updates and takedowns, a batch that fails, restore, re-key)
must leave exactly the band keys of the current signatures: a band row left behind finds a
snapshot that is gone, one missing hides a copy from ``similar``.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from newsstore import StoreError
from newsstore._minhash import bands
from newsstore._store.sqlite import SQLiteStore

BODY = "新华社北京十一月十四日电，国家统计局今天发布数据显示，十月份国民经济持续恢复向好。"


def _write(path: Path, versions: dict[int, int]) -> Path:
    lines = [
        json.dumps(
            {
                "url": f"https://n.example.com/{k}.html",
                "title": f"第{k}篇",
                "paragraphs": [f"{BODY}第{k}篇第{v}版。" * 2, BODY[::-1]],
                "snapshot_at": f"2023-11-1{v} 10:00:00",
                "published_at": f"2023-11-0{k % 9 + 1} 08:00:00",
            },
            ensure_ascii=False,
        )
        for k, v in versions.items()
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _assert_bands_match(db_path: Path) -> int:
    with closing(sqlite3.connect(db_path)) as db:
        want = sorted(
            (band, snapshot_id)
            for snapshot_id, sig in db.execute("SELECT snapshot_id, signature FROM signatures")
            for band in bands(bytes(sig))
        )
        got = sorted(db.execute("SELECT band, snapshot_id FROM bands"))
        live = {i for (i,) in db.execute("SELECT id FROM snapshots")}
        # story_times, inserted with the band rows at the commit, matches the same way.
        stories = sorted(db.execute("SELECT * FROM story_times"))
        want_stories = sorted(
            db.execute(
                "SELECT s.published_at, s.id, s.key, s.url, s.source, s.snapshot_at, g.signature"
                " FROM snapshots s JOIN signatures g ON g.snapshot_id = s.id"
                " WHERE s.published_at IS NOT NULL"
            )
        )
    assert stories == want_stories
    assert got == want
    assert {i for _, i in got} <= live
    return len(got)


def test_band_rows_follow_every_write(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with SQLiteStore(db) as store:
        store.import_records([_write(tmp_path / "a.ndjson", {k: 1 for k in range(30)})])
        assert _assert_bands_match(db) > 0
        # New versions of some keys, in batches sharing one transaction.
        store.import_records(
            [_write(tmp_path / "b.ndjson", {k: 2 for k in range(0, 30, 3)})], batch_size=4
        )
        _assert_bands_match(db)
        store.delete("https://n.example.com/3.html", reason="takedown")
        _assert_bands_match(db)
        # A takedown and a new version inside one import's write group.
        with store._write_group():
            store.import_records([_write(tmp_path / "c.ndjson", {6: 3, 7: 3})])
            store.delete("https://n.example.com/6.html", reason="takedown")
            store.import_records([_write(tmp_path / "d.ndjson", {8: 3})])
        _assert_bands_match(db)
        with (tmp_path / "dump.ndjson").open("w", encoding="utf-8") as fp:
            store.dump(fp)
    with SQLiteStore(tmp_path / "restored.db") as other:
        other.restore(tmp_path / "dump.ndjson")
        assert _assert_bands_match(tmp_path / "restored.db") == _assert_bands_match(db)


def test_a_failed_batch_leaves_no_band_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "s.db"
    with SQLiteStore(db) as store:
        store.import_records([_write(tmp_path / "a.ndjson", {k: 1 for k in range(10)})])
        from newsstore._store.sqlite import similar

        real = similar.index

        def failing(*args: object, **kwargs: object) -> None:
            real(*args, **kwargs)  # type: ignore[arg-type]
            raise StoreError("disk on fire")  # after the batch's band rows are held

        with store._write_group():
            store.import_records([_write(tmp_path / "b.ndjson", {k: 2 for k in range(5)})])
            monkeypatch.setattr(similar, "index", failing)
            with pytest.raises(StoreError):
                store.import_records([_write(tmp_path / "c.ndjson", {k: 3 for k in range(10)})])
            monkeypatch.setattr(similar, "index", real)
            # A batch that succeeds after it releases its own rows, not the failed one's.
            store.import_records([_write(tmp_path / "d.ndjson", {k: 4 for k in range(10, 13)})])
        _assert_bands_match(db)
