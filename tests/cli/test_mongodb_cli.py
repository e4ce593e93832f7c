"""The command with a ``mongodb://`` store, over the wire (needs the test server).

CI starts one (tests/mongo_server.py); with no ``NEWSSTORE_TEST_MONGODB_URI`` these skip.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from newsstore import open_store

from ..conftest import DATA, MONGODB_URI

pytestmark = pytest.mark.skipif(
    not MONGODB_URI, reason="needs a MongoDB server (NEWSSTORE_TEST_MONGODB_URI)"
)
SAMPLE_JSON = DATA.parent.parent / "examples" / "snapshot-zh-intl-2023-11-14.json"


def _with_path(uri: str, database: str) -> str:
    parts = urlsplit(uri)
    return urlunsplit(parts._replace(path="/" + database))


@pytest.fixture
def database(mongo_server: Any) -> Iterator[str]:
    name = f"newsstore_cli_{uuid.uuid4().hex[:12]}"
    try:
        yield name
    finally:
        mongo_server.drop_database(name)


def test_import_get_find_and_stats_through_a_mongodb_uri(
    run, database: str, mongo_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert MONGODB_URI is not None
    monkeypatch.setenv("NEWSSTORE_STORE", _with_path(MONGODB_URI, database))
    monkeypatch.delenv("NEWSSTORE_DATABASE", raising=False)
    imported = run("import", "-q", str(SAMPLE_JSON))
    assert imported.exit_code == 0, imported.output
    assert imported.stdout.startswith("1 read: 1 inserted")
    # The URI's path names the database the snapshot went to.
    assert mongo_server[database].snapshots.count_documents({}) == 1
    found = run("find", "--on", "2023-11-14", "--json")
    assert found.exit_code == 0, found.output
    (snapshot,) = json.loads(found.stdout)
    key = snapshot["stored"]["key"]
    got = run("get", key)
    assert got.exit_code == 0 and json.loads(got.stdout)["title"] == snapshot["title"]
    assert run("import", "-q", str(SAMPLE_JSON)).stdout.startswith("1 read: 0 inserted")
    stats = run("stats", "--json")
    assert json.loads(stats.stdout)["snapshots"] == 1


def test_the_database_option_wins_over_the_uri_path(mongo_server: Any, database: str) -> None:
    assert MONGODB_URI is not None
    with open_store(_with_path(MONGODB_URI, "not_this_one"), database=database) as store:
        store.import_records([SAMPLE_JSON])
    assert mongo_server[database].snapshots.count_documents({}) == 1
    assert "not_this_one" not in mongo_server.list_database_names()


def test_an_unreachable_server_is_one_line_and_no_password(run, monkeypatch) -> None:
    monkeypatch.setenv(
        "NEWSSTORE_STORE", "mongodb://alice:s3cret@127.0.0.1:9/news?serverSelectionTimeoutMS=300"
    )
    result = run("stats")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot reach MongoDB at mongodb://***@127.0.0.1:9/")
    assert "s3cret" not in result.output and len(result.stderr.splitlines()) == 1
