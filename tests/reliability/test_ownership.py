"""newsstore opens only its own SQLite stores (issue #15, item 1).

A store newsstore creates carries its ``PRAGMA application_id``; a store written by an
earlier version (application id 0) is recognised by its ``snapshots`` table and its
``user_version`` (1 to 4) and gets the id stamped when it is opened. Any other non-empty
database is refused with :class:`~newsstore.StoreUnavailableError` naming the file — before
anything is changed: no table dropped or added, no switch to WAL, not a byte written.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from newsstore import Snapshot, StoreUnavailableError, open_store
from newsstore._store.sqlite import SQLiteStore
from newsstore._store.sqlite.schema import APPLICATION_ID, SCHEMA_VERSION
from newsstore_cli.app import app

# Other programs' databases that the schema upgrade of version 3 used to take for newsstore's
# own older tables (it dropped them), and a few that merely share a table name.
FOREIGN = {
    "lines table with a key column": "CREATE TABLE lines (key TEXT, body TEXT);"
    " INSERT INTO lines VALUES ('k', 'keep me');",
    "items table with published_at": "CREATE TABLE items (id INTEGER PRIMARY KEY,"
    " published_at TEXT); INSERT INTO items VALUES (1, '2023-11-14');",
    "snapshots table of another shape": "CREATE TABLE snapshots (id INTEGER, taken TEXT);"
    " INSERT INTO snapshots VALUES (1, 'x');",
    "an index and a view only": "CREATE TABLE t (a); CREATE VIEW v AS SELECT a FROM t;",
    "newsstore's layout with user_version 0": "",  # filled in by the test (see below)
    "newsstore's layout with user_version 99": "",
    "another program's application_id": "PRAGMA application_id = 1234;",
}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _state(path: Path) -> tuple[str, str, list[tuple[str, str]], bool]:
    """The file's bytes, journal mode and schema, and whether a WAL file appeared."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        schema = conn.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
    return _digest(path), mode, schema, Path(f"{path}-wal").exists()


def _foreign(tmp_path: Path, case: str) -> Path:
    db = tmp_path / "app.db"
    if case.startswith("newsstore's layout"):
        SQLiteStore(db).close()
        version = 0 if "version 0" in case else 99
        with closing(sqlite3.connect(db)) as conn:
            conn.execute("PRAGMA journal_mode = DELETE")
            conn.execute("PRAGMA application_id = 0")
            conn.execute(f"PRAGMA user_version = {version}")
        return db
    with closing(sqlite3.connect(db)) as conn:
        conn.executescript(FOREIGN[case])
        conn.commit()
    return db


@pytest.mark.parametrize("case", list(FOREIGN))
def test_another_programs_database_is_refused_untouched(tmp_path: Path, case: str) -> None:
    db = _foreign(tmp_path, case)
    before = _state(db)
    with pytest.raises(StoreUnavailableError) as caught:
        open_store(db)
    message = str(caught.value)
    assert str(db) in message and "not a newsstore store" in message, message
    assert "\n" not in message
    assert _state(db) == before


@pytest.mark.parametrize("command", [["stats"], ["find"], ["import", "-"]])
def test_the_cli_refuses_it_in_one_line(tmp_path: Path, command: list[str]) -> None:
    db = _foreign(tmp_path, "lines table with a key column")
    before = _state(db)
    result = CliRunner().invoke(app, [*command, "--store", str(db)], input="")
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"Error: {db}: not a newsstore store"), result.stderr
    assert result.stderr.count("\n") == 1
    assert _state(db) == before
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT body FROM lines").fetchall() == [("keep me",)]


def test_a_new_store_carries_newsstores_application_id(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    SQLiteStore(db).close()
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_an_empty_file_becomes_a_store(tmp_path: Path, make: Callable[..., Snapshot]) -> None:
    db = tmp_path / "empty.db"
    db.touch()
    with open_store(db) as store:
        store.save(make())
        assert store.stats().snapshots == 1
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION + 1))
def test_a_store_of_an_earlier_version_is_recognised_and_stamped(
    tmp_path: Path, version: int, make: Callable[..., Snapshot]
) -> None:
    db = tmp_path / "old.db"
    snapshot = make()
    with SQLiteStore(db) as store:
        store.save(snapshot)
    with closing(sqlite3.connect(db)) as conn:  # as versions before the id left it
        conn.execute("PRAGMA application_id = 0")
        conn.execute(f"PRAGMA user_version = {version}")
    with open_store(db) as store:
        assert store.get(snapshot.url or "").title == snapshot.title
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_store_of_a_newer_version_is_refused_untouched(
    tmp_path: Path, make: Callable[..., Snapshot]
) -> None:
    db = tmp_path / "news.db"
    with SQLiteStore(db) as store:
        store.save(make())
    with closing(sqlite3.connect(db)) as conn:  # as a later release would leave it
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    with pytest.raises(StoreUnavailableError, match="newer newsstore") as caught:
        open_store(db)
    assert str(db) in str(caught.value)
    result = CliRunner().invoke(app, ["import", "--store", str(db), "-"], input="")
    assert result.exit_code == 1 and "newer newsstore" in result.output
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_stamping_an_old_store_never_waits_for_a_writer(
    tmp_path: Path, make: Callable[..., Snapshot]
) -> None:
    # A reader of a current-version store from before the id is not blocked by a writer:
    # the id is stamped when the lock is free, a later open does it otherwise.
    db = tmp_path / "old.db"
    snapshot = make()
    with SQLiteStore(db) as store:
        store.save(snapshot)
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA application_id = 0")
    with closing(sqlite3.connect(db, isolation_level=None)) as holder:
        holder.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        with SQLiteStore(db, timeout=30) as store:
            assert store.get(snapshot.url or "").title == snapshot.title
        assert time.monotonic() - started < 5
        holder.execute("ROLLBACK")
    with SQLiteStore(db) as store:
        pass
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


def test_a_file_that_is_not_a_database_is_refused_untouched(tmp_path: Path) -> None:
    db = tmp_path / "notes.db"
    db.write_text("just some notes\n" * 100)
    before = _digest(db)
    with pytest.raises(StoreUnavailableError, match="file is not a database"):
        open_store(db)
    assert _digest(db) == before


# -- MongoDB: the same promises, for a database ---------------------------------------------


def _contents(db: Any) -> dict[str, Any]:
    """Every collection of ``db`` with its documents and index names."""
    return {
        name: (
            sorted(map(repr, db[name].find())),
            sorted(db[name].index_information()),
        )
        for name in sorted(db.list_collection_names())
    }


@pytest.mark.parametrize(
    ("collection", "doc"),
    [
        ("snapshots", {"_id": "http://a/", "hello": 1}),
        ("meta", {"_id": "settings", "theme": "dark"}),
    ],
)
def test_another_programs_mongodb_database_is_refused_untouched(
    mongodb: Any, collection: str, doc: dict[str, Any]
) -> None:
    from newsstore._store.mongo import MongoStore

    mongodb[collection].insert_one(doc)
    before = _contents(mongodb)
    with pytest.raises(StoreUnavailableError, match="is not a newsstore store"):
        MongoStore(mongodb)
    assert _contents(mongodb) == before


@pytest.mark.parametrize("marker", ["store", "indexes"])
def test_a_mongodb_store_of_a_newer_version_is_refused_untouched(
    mongodb: Any, make: Callable[..., Snapshot], marker: str
) -> None:
    from newsstore._store.mongo import MongoStore

    with MongoStore(mongodb) as store:
        store.save(make())
    field = "format" if marker == "store" else "version"
    mongodb["meta"].update_one({"_id": marker}, {"$inc": {field: 1}})
    before = _contents(mongodb)
    with pytest.raises(StoreUnavailableError, match="a store of a newer newsstore"):
        MongoStore(mongodb)
    assert _contents(mongodb) == before


def test_reading_a_mongodb_database_that_holds_no_store_creates_nothing(mongodb: Any) -> None:
    from newsstore._store.mongo import MongoStore

    with pytest.raises(StoreUnavailableError, match="no newsstore store in"):
        MongoStore(mongodb, create=False)  # a mistyped name, read by find or copy
    assert mongodb.list_collection_names() == []
    with MongoStore(mongodb) as store:  # a command that writes creates it
        assert store.stats().snapshots == 0


def test_a_mongodb_store_from_before_the_markers_is_still_opened(
    mongodb: Any, make: Callable[..., Snapshot]
) -> None:
    from newsstore._store.mongo import MongoStore

    with MongoStore(mongodb) as store:
        store.save(make())
    mongodb.drop_collection("meta")  # as a store written before the meta collection
    with MongoStore(mongodb, create=False) as store:
        assert store.stats().snapshots == 1
