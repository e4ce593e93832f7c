"""A file ``mongoexport`` wrote from a newsstore MongoDB collection imports into any store.

mongoexport writes one relaxed Extended JSON document a line (``$date``, ``$oid``,
``$numberLong``); pymongo's ``bson.json_util`` in relaxed mode writes the same, and stands
in for it here. The ``_id`` of each document is checked against the key the importing store
computes: a mismatch is a rejection naming the file and line, and the other lines land.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bson import ObjectId
from bson.json_util import RELAXED_JSON_OPTIONS, dumps

from newsstore import Snapshot
from newsstore._store.mongo import MongoStore
from newsstore._store.sqlite import SQLiteStore

URL = "https://news.example.com/world/1.html"


def _export(collection: Any, path: Path, *, extra: list[dict[str, Any]] | None = None) -> None:
    """Write the collection as mongoexport does, then ``extra`` documents."""
    docs = [*collection.find().sort("_id"), *(extra or [])]
    path.write_text(
        "".join(
            dumps(d, json_options=RELAXED_JSON_OPTIONS, ensure_ascii=False) + "\n" for d in docs
        ),
        encoding="utf-8",
    )


def test_a_mongoexport_file_imports_with_its_ids_checked(
    mongodb: Any, make: Callable[..., Snapshot], later: Callable[..., Any], tmp_path: Path
) -> None:
    first = make(url="http://www.news.example.com/world/1.html?utm_source=x")
    with MongoStore(mongodb) as mongo:
        mongo.save(first)
        mongo.save(make(url=URL, paragraphs=["新"], snapshot_at=later(first, 1)))
        mongo.save(make(url="https://news.example.com/world/2.html", title="二"))
        stored = {s.stored.key: s.stored.content_hash for s in mongo.find() if s.stored}
    snapshots, history = tmp_path / "snapshots.json", tmp_path / "history.json"
    wrong = dict(mongodb.snapshots.find_one({"_id": URL}), _id="https://news.example.com/other")
    server_id = {"_id": ObjectId(), "url": "https://news.example.com/world/3.html", "title": "三"}
    _export(mongodb.snapshots, snapshots, extra=[wrong, server_id])
    _export(mongodb.history, history)
    assert '"$date"' in snapshots.read_text(encoding="utf-8")
    assert '"$oid"' in snapshots.read_text(encoding="utf-8")
    with SQLiteStore(tmp_path / "s.db") as target:
        report = target.import_records([snapshots, history])
        assert report.rejected == 1
        assert report.errors == [
            f"{snapshots}:3: _id https://news.example.com/other is not the key of this record"
            f" ({URL})"
        ]
        assert report.inserted == 3
        assert report.versioned == 1
        for key, content_hash in stored.items():
            got = target.get(key).stored
            assert got is not None
            assert got.content_hash == content_hash
        assert [h.paragraphs for h in target.history(URL)] == [["第一段。", "第二段。"]]
