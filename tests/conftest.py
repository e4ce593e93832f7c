"""Shared fixtures: the sample, snapshot factories, and one store fixture over every adapter.

The ``store`` fixture runs each contract test on the embedded SQLite store (a fresh file per
test) and on MongoDB: on the server ``NEWSSTORE_TEST_MONGODB_URI`` names when it is set (CI
starts a wire-protocol server; a real mongod works the same), each test in a database of
its own, dropped afterwards; else on pytest-mongodb's mongomock database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from newsstore import Snapshot
from newsstore._store import Store

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "snapshot-zh-intl-2023-11-14.txt"
BEIJING = ZoneInfo("Asia/Shanghai")
MONGODB_URI = os.environ.get("NEWSSTORE_TEST_MONGODB_URI")


def _patch_mongomock() -> None:
    """mongomock 4.3 predates pymongo 4.11, which passes ``sort=`` to bulk builders, and
    takes only dicts, where the driver also sends raw BSON documents.

    The production driver stays current; the test double is taught to ignore the argument
    (mongomock issue #912) and to read a raw document as the server does (as a dict).
    """
    from bson import decode
    from bson.codec_options import CodecOptions
    from bson.raw_bson import RawBSONDocument
    from mongomock.collection import BulkOperationBuilder

    options: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True)

    def plain(value: Any) -> Any:
        # A raw document may be the whole argument or an operator's value ({"$set": raw}).
        if isinstance(value, RawBSONDocument):
            return decode(value.raw, options)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    for name in ("add_insert", "add_update", "add_replace"):
        original = getattr(BulkOperationBuilder, name)
        if getattr(original, "_newsstore_patched", False):
            continue

        def patched(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            kwargs.pop("sort", None)
            return _original(self, *map(plain, args), **kwargs)

        patched._newsstore_patched = True  # type: ignore[attr-defined]
        setattr(BulkOperationBuilder, name, patched)


_patch_mongomock()


@pytest.fixture
def sample_text() -> str:
    return SAMPLE.read_text(encoding="utf-8")


@pytest.fixture
def make() -> Callable[..., Snapshot]:
    """Build a valid snapshot; keyword arguments override fields."""

    def build(**fields: Any) -> Snapshot:
        base: dict[str, Any] = {
            "url": "https://news.example.com/world/2023/11/14/putin.html",
            "title": "普京接过华盛顿请柬",
            "category": "国际",
            "published_at": datetime(2023, 11, 14, 11, 19, tzinfo=BEIJING),
            "source": "河南广播电视台",
            "breadcrumbs": ["我的订阅", "国际"],
            "paragraphs": ["第一段。", "第二段。"],
            "crawler": "td.fyun.cc",
            "snapshot_at": datetime(2023, 11, 14, 15, 45, 17, tzinfo=BEIJING),
            "related": [
                {
                    "title": "美方请柬",
                    "excerpt": "...确定这份请柬",
                    "published_at": datetime(2023, 8, 2, 18, 16, tzinfo=BEIJING),
                }
            ],
        }
        base.update(fields)
        return Snapshot.model_validate(base)

    return build


@pytest.fixture
def later() -> Callable[[Snapshot, int], datetime]:
    """The snapshot time ``hours`` after a snapshot's."""

    def shift(snapshot: Snapshot, hours: int) -> datetime:
        assert snapshot.snapshot_at is not None
        return snapshot.snapshot_at + timedelta(hours=hours)

    return shift


@pytest.fixture(scope="session")
def mongo_server() -> Iterator[Any]:
    """A client of the MongoDB server NEWSSTORE_TEST_MONGODB_URI names, or None without one.

    CI starts a wire-protocol server (tests/mongo_server.py) and sets the variable; point it
    at a real mongod (standalone, replica set or sharded) to run the same tests there.
    """
    if not MONGODB_URI:
        yield None
        return
    from newsstore._store.mongo import connect

    client = connect(MONGODB_URI)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def mongodb(mongodb: Any, mongo_server: Any) -> Iterator[Any]:
    """A fresh MongoDB database: on the test server when one is up (its own database,
    dropped afterwards), else pytest-mongodb's mongomock database."""
    if mongo_server is None:
        yield mongodb
        return
    name = f"newsstore_test_{uuid.uuid4().hex[:12]}"
    try:
        yield mongo_server[name]
    finally:
        mongo_server.drop_database(name)


@pytest.fixture(params=["sqlite", "mongodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh, empty store of each kind: SQLite, and MongoDB (the test server when one is
    up, else mongomock)."""
    if request.param == "sqlite":
        from newsstore._store.sqlite import SQLiteStore

        with SQLiteStore(tmp_path / "store.db") as st:
            yield st
        return
    from newsstore._store.mongo import MongoStore

    with MongoStore(request.getfixturevalue("mongodb")) as st:
        yield st


# Three versions of one article, an hour apart: version 2 edits the title, edits one
# paragraph by a few characters, deletes one and inserts one; version 3 moves a paragraph
# to the end and changes an image caption.
EDITED = "俄罗斯总统普京下令接过美方递来的请帖，他没有像往常一样派遣外长出席。"
EDITED_2 = "俄罗斯总统普京下令接过华盛顿递来的请帖，他没有像往常一样派遣外长出席。"
DELETED = "这一段在第二版被删除。"
MOVED = "这一段在第三版被移到最后。"
KEPT_1 = "需要指出的是，美西方当前只是展现出了与俄罗斯进行沟通的意愿。"
KEPT_2 = "俄罗斯与西方之间最大的症结就是俄乌冲突。"
INSERTED = "第二版新加的一段。"


@pytest.fixture
def three_versions(make: Callable[..., Snapshot], later: Any) -> list[Snapshot]:
    """Versions 1, 2 and 3 of one URL (see EDITED … INSERTED), oldest first."""
    v1 = make(
        title="普京接过请柬",
        paragraphs=[EDITED, DELETED, MOVED, KEPT_1, KEPT_2],
        images=[{"position": 0, "caption": "封面"}, {"position": 2, "caption": "旧的说明"}],
    )
    v2 = make(
        title="普京接过华盛顿请柬",
        paragraphs=[EDITED_2, MOVED, KEPT_1, INSERTED, KEPT_2],
        images=v1.images,
        snapshot_at=later(v1, 1),
    )
    v3 = make(
        title="普京接过华盛顿请柬",
        paragraphs=[EDITED_2, KEPT_1, INSERTED, KEPT_2, MOVED],
        images=[{"position": 0, "caption": "封面"}, {"position": 2, "caption": "新的说明"}],
        snapshot_at=later(v1, 2),
    )
    return [v1, v2, v3]
