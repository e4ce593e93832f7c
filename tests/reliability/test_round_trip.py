"""Property (issue #14): SQLite -> dump -> MongoDB -> dump -> SQLite gives the same archive.

On generated stores with versions (several contents a key, older and newer), URL spellings
(tracking parameters, ``www.``, ``http``, fragments), repeated sightings and takedowns (of
stored keys and pre-emptive ones). Only the archive's own timestamp may differ. MongoDB is
the test server when ``NEWSSTORE_TEST_MONGODB_URI`` is set (each example in a database of
its own, dropped afterwards), else mongomock; the stores are kept small (the test server
scans).
"""

from __future__ import annotations

import io
import json
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsstore import Snapshot
from newsstore._store import Store
from newsstore._store.mongo import MongoStore
from newsstore._store.sqlite import SQLiteStore

from ..conftest import MONGODB_URI

_BASE = datetime(2023, 11, 14, 3, 19, tzinfo=timezone.utc)
_SPELLINGS = (
    "https://n.example.com/{k}.html",
    "http://www.n.example.com/{k}.html?utm_source=feed",
    "https://N.example.com/{k}.html#comments",
)

saves = st.tuples(
    st.integers(0, 3),  # key
    st.integers(0, 2),  # spelling
    st.integers(0, 2),  # content
    st.integers(-3, 3),  # hours from the base snapshot time
)
takedowns = st.tuples(st.integers(0, 4), st.sampled_from(["court order", "request"]))
operations = st.lists(
    st.one_of(saves.map(lambda s: ("save", s)), takedowns.map(lambda t: ("delete", t))),
    min_size=1,
    max_size=14,
)


def _snapshot(key: int, spelling: int, content: int, hours: int) -> Snapshot:
    return Snapshot.model_validate(
        {
            "url": _SPELLINGS[spelling].format(k=key),
            "title": f"标题 {key}",
            "published_at": _BASE,
            "paragraphs": [f"第 {content} 版"],
            "snapshot_at": _BASE + timedelta(hours=hours),
            "related": [{"title": "相关", "published_at": _BASE - timedelta(days=content)}],
        }
    )


def _dump(store: Store) -> tuple[dict[str, Any], list[str]]:
    fp = io.StringIO()
    store.dump(fp)
    header, *lines = fp.getvalue().splitlines()
    data = json.loads(header)
    del data["archived_at"]
    return data, lines


@contextmanager
def _mongo_database() -> Iterator[Any]:
    if MONGODB_URI:
        from newsstore._store.mongo import connect

        client = connect(MONGODB_URI)
        name = f"newsstore_rt_{uuid.uuid4().hex[:12]}"
        try:
            yield client[name]
        finally:
            client.drop_database(name)
            client.close()
        return
    import mongomock

    yield mongomock.MongoClient()["newsstore_rt"]


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(operations)
def test_sqlite_dump_mongodb_dump_sqlite_is_the_same_archive(ops: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with SQLiteStore(root / "first.db") as first:
            for kind, args in ops:
                if kind == "save":
                    first.save(_snapshot(*args))
                else:
                    key, reason = args
                    first.delete(f"https://n.example.com/{key}.html", reason=reason)
            original = _dump(first)
            with (root / "first.ndjson").open("w", encoding="utf-8") as fp:
                first.dump(fp)
        with _mongo_database() as database, MongoStore(database) as mongo:
            report = mongo.restore(root / "first.ndjson")
            assert report.rejected == 0
            assert _dump(mongo) == original
            with (root / "mongo.ndjson").open("w", encoding="utf-8") as fp:
                mongo.dump(fp)
        with SQLiteStore(root / "last.db") as last:
            assert last.restore(root / "mongo.ndjson").rejected == 0
            assert _dump(last) == original
