"""What a store runs on (doctor), and the MongoDB indexes each lookup is served by."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from newsstore import Query, Store
from newsstore._store.mongo import MongoStore
from newsstore._store.mongo.doctor import INDEX_VERSION

from ..conftest import BEIJING, MONGODB_URI


@pytest.fixture
def served(store: Store, mongo_server: Any) -> Store:
    """The store, skipped on mongomock, which has no server commands (buildInfo, hello)."""
    if isinstance(store, MongoStore) and mongo_server is None:
        pytest.skip(
            "needs a MongoDB server (NEWSSTORE_TEST_MONGODB_URI): mongomock has no buildInfo"
        )
    return store


def test_doctor_reports_the_indexes_lookups_need(served: Store) -> None:
    store = served
    diagnosis = store.diagnose()
    assert diagnosis.indexes and all(diagnosis.indexes.values())
    assert diagnosis.missing == []
    assert diagnosis.server and diagnosis.topology and diagnosis.writes


def test_doctor_names_a_missing_index(served: Store) -> None:
    store = served
    if isinstance(store, MongoStore):
        store._database["snapshots"].drop_index("host_1")
        missing = "snapshots.host_1"
    else:
        store._db.execute("DROP INDEX snapshots_host")  # type: ignore[attr-defined]
        missing = "snapshots_host"
    assert store.diagnose().missing == [missing]


def test_mongodb_indexes_are_created_once_per_store(mongodb: Any, mongo_server: Any) -> None:
    if mongo_server is None:
        pytest.skip(
            "needs a MongoDB server (NEWSSTORE_TEST_MONGODB_URI): mongomock has no buildInfo"
        )
    MongoStore(mongodb)
    assert "host_1" in mongodb["snapshots"].index_information()
    mongodb["snapshots"].drop_index("host_1")
    # A second open finds its marker and does not recreate (nor look up) the indexes;
    # doctor is how a dropped index shows.
    again = MongoStore(mongodb)
    assert "host_1" not in mongodb["snapshots"].index_information()
    assert again.diagnose().missing == ["snapshots.host_1"]


def test_a_store_of_index_version_1_gets_the_history_time_index(mongodb: Any) -> None:
    MongoStore(mongodb)
    mongodb["history"].drop_index("snapshot_at_1")
    mongodb["meta"].replace_one({"_id": "indexes"}, {"version": 1})  # as index version 1 left it
    MongoStore(mongodb)
    assert "snapshot_at_1" in mongodb["history"].index_information()
    assert mongodb["meta"].find_one({"_id": "indexes"})["version"] == INDEX_VERSION


def _real_mongod(mongo_server: Any) -> bool:
    return mongo_server is not None and (
        mongo_server.admin.command("buildInfo").get("gitVersion") != "mongoeco"
    )


def _need_real_mongod(mongo_server: Any) -> None:
    if not _real_mongod(mongo_server):
        pytest.skip(
            "needs a real mongod (NEWSSTORE_TEST_MONGODB_URI): mongoeco and mongomock scan"
            " and have no query planner to explain"
        )


def _stages(plan: Any) -> set[str]:
    found = set()
    if isinstance(plan, dict):
        if "stage" in plan:
            found.add(plan["stage"])
        for value in plan.values():
            found |= _stages(value)
    elif isinstance(plan, list):
        for value in plan:
            found |= _stages(value)
    return found


def test_every_lookup_is_served_by_an_index_on_a_real_mongod(
    mongodb: Any, mongo_server: Any, make
) -> None:
    _need_real_mongod(mongo_server)
    assert MONGODB_URI is not None
    store = MongoStore(mongodb)
    store.save_many(
        [make(url=f"https://n{i}.example.com/a/{i}.html", category=f"c{i % 3}") for i in range(50)]
    )
    day = datetime(2023, 11, 14, tzinfo=BEIJING)
    queries = [
        Query(url="https://n1.example.com/a/1.html"),
        Query(start=day, end=day + timedelta(days=1)),
        Query(start=day, end=day + timedelta(days=1), time_field="snapshot"),
        Query(category="c1"),
        Query(source="河南广播电视台"),
        Query(url="n1.example.com", match="host"),
        Query(url="example.com", match="domain"),
        Query(url="https://n1.example.com/a/", match="prefix"),
    ]
    for query in queries:
        field = query.time_attribute
        cursor = mongodb.snapshots.find(store._filter(query)).sort([(field, -1), ("_id", -1)])
        stages = _stages(cursor.explain()["queryPlanner"]["winningPlan"])
        assert "COLLSCAN" not in stages, (query, stages)
    span = {"$gte": day, "$lt": day + timedelta(days=1)}
    for field in ("related.published_at", "more_in_category.published_at"):
        plan = mongodb.snapshots.find({field: span}).explain()["queryPlanner"]["winningPlan"]
        assert "COLLSCAN" not in _stages(plan), field
    plan = mongodb.history.find({"key": "x"}).explain()["queryPlanner"]["winningPlan"]
    assert "COLLSCAN" not in _stages(plan)
    # find --changed: a window of snapshot times on both collections.
    for name in ("history", "snapshots"):
        plan = mongodb[name].find({"snapshot_at": span}).explain()["queryPlanner"]["winningPlan"]
        assert "COLLSCAN" not in _stages(plan), name


def test_clusters_read_a_covering_index_on_a_real_mongod(
    mongodb: Any, mongo_server: Any, make
) -> None:
    _need_real_mongod(mongo_server)
    store = MongoStore(mongodb)
    day = datetime(2023, 11, 14, tzinfo=BEIJING)
    store.save_many(
        [
            make(url=f"https://n{i}.example.com/a/{i}.html", published_at=day + timedelta(hours=i))
            for i in range(30)
        ]
    )
    explained = store._published_in(day, day + timedelta(days=1)).explain()
    assert "FETCH" not in _stages(explained["queryPlanner"]["winningPlan"])
    assert explained["executionStats"]["totalDocsExamined"] == 0
    assert explained["executionStats"]["nReturned"] == 24
