"""Re-imports on SQLite skip validation of lines the store saw before (the line memory).

That shortcut must never change an outcome: the same sequence of imports, takedowns and
policies gives the same reports and the same final store on SQLite (which remembers lines)
as on MongoDB (which does not).
"""

from __future__ import annotations

import io
import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from newsstore import _records as records
from newsstore._store.mongo import MongoStore
from newsstore._store.sqlite import SQLiteStore


def _write(path: Path, versions: dict[int, int], spelling: str = "") -> Path:
    lines = [
        json.dumps(
            {
                "url": f"https://n.example.com/{k}.html{spelling}",
                "title": f"第{k}篇",
                "paragraphs": [f"版本{v}"],
                "snapshot_at": f"2023-11-1{v} 10:00:00",
            },
            ensure_ascii=False,
        )
        for k, v in versions.items()
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _export(store) -> list[dict]:
    buf = io.StringIO()
    store.export(buf)
    return [
        {k: v for k, v in json.loads(line).items() if k != "stored"}
        for line in buf.getvalue().splitlines()
    ]


def test_line_memory_never_changes_an_outcome(tmp_path: Path, mongodb) -> None:
    v1 = _write(tmp_path / "v1.ndjson", {k: 1 for k in range(6)})
    v2 = _write(tmp_path / "v2.ndjson", {k: 2 for k in range(3)})
    v0 = _write(tmp_path / "v0.ndjson", {k: 0 for k in range(6)}, "?utm_source=x")
    steps = [
        ("import", v1, "newest"),
        ("import", v1, "newest"),
        ("import", v2, "newest"),
        ("import", v1, "newest"),  # lines known, but their keys moved on
        ("import", v0, "newest"),
        ("import", v0, "keep"),
        ("import", v1, "replace"),
        ("delete", "https://n.example.com/2.html", None),
        ("import", v1, "newest"),
        ("lift", "https://n.example.com/2.html", None),
        ("import", v1, "newest"),
        ("dry-run", v2, "newest"),
        ("import", v2, "newest"),
    ]
    with SQLiteStore(tmp_path / "s.db") as sqlite, MongoStore(mongodb) as mongo:
        for action, arg, policy in steps:
            outcomes = []
            for store in (sqlite, mongo):
                if action == "delete":
                    store.delete(str(arg), reason="request")
                elif action == "lift":
                    store.lift_takedown(str(arg))
                else:
                    report = store.import_records([arg], policy=policy, dry_run=action == "dry-run")
                    outcomes.append(report.model_dump())
            if outcomes:
                assert outcomes[0] == outcomes[1], (action, arg, policy)
        assert _export(sqlite) == _export(mongo)
        assert [h.paragraphs for h in sqlite.history("https://n.example.com/1.html")] == [
            h.paragraphs for h in mongo.history("https://n.example.com/1.html")
        ]


def test_a_changed_tracking_list_is_not_served_from_memory(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.ndjson", {1: 1}, "?ref=feed")
    db = tmp_path / "t.db"
    with SQLiteStore(db) as default:
        assert default.import_records([path]).inserted == 1
    # Only a store opened to be re-keyed takes another list (any other open is refused).
    with SQLiteStore(db, tracking_params=["utm_*", "ref"], rekey=True) as custom:
        # Under this list the line's key is https://n.example.com/1.html: a new key.
        assert custom.import_records([path]).inserted == 1
        assert custom.count() == 2


def test_a_known_line_is_not_validated_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path / "a.ndjson", {k: 1 for k in range(5)})
    with SQLiteStore(tmp_path / "s.db") as store:
        assert store.import_records([path]).inserted == 5
        validated: list[bytes] = []
        real = records.validate_json

        def counting(raw: bytes, *args: Any) -> Any:
            validated.append(raw)
            return real(raw, *args)

        monkeypatch.setattr(records, "validate_json", counting)
        assert store.import_records([path]).unchanged == 5
        assert validated == []


def test_a_takedown_forgets_the_lines_of_its_key(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.ndjson", {k: 1 for k in range(3)})
    db = tmp_path / "s.db"
    with SQLiteStore(db) as store:
        store.import_records([path])
        store.delete("https://n.example.com/1.html", reason="request")
        assert store.import_records([path]).suppressed == 1
    with closing(sqlite3.connect(db)) as conn:
        kept = conn.execute("SELECT count(*) FROM lines").fetchone()[0]
        orphans = conn.execute(
            "SELECT count(*) FROM lines WHERE snapshot_id NOT IN (SELECT id FROM snapshots)"
        ).fetchone()[0]
    assert (kept, orphans) == (2, 0)
