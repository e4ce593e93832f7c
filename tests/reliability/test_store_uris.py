"""Store URIs (issue #15, item 3): a mistyped URI is an error, never a local SQLite file.

* Schemes are case-insensitive: ``MONGODB://…`` is MongoDB.
* An unknown ``scheme://`` (``mongdb://``, ``postgres://``), a known scheme written wrong
  (``mongodb:/host``, ``sqlite://relative.db``) and any ``scheme:/…`` are refused in one
  line that never shows a password.
* Stores that keep nothing (``:memory:``, ``sqlite:///``, ``file:…?mode=memory``) are
  refused through :func:`open_store`; ``SQLiteStore(":memory:")`` stays for tests.
* ``open_store(…, create=False)`` — what read-only commands use — refuses a SQLite store
  that does not exist, naming the path, and creates nothing (no file, no directory).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from newsstore import (
    InvalidQueryError,
    NewsstoreError,
    Settings,
    Snapshot,
    StoreUnavailableError,
    open_store,
)
from newsstore._settings import redact_uri
from newsstore._store.mongo import MongoStore
from newsstore._store.sqlite import SQLiteStore

SECRET = "pw-s3cret"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty current directory and data home: where a mistyped URI used to land."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return cwd


def _created(workdir: Path) -> list[str]:
    found = [str(p.relative_to(workdir.parent)) for p in workdir.parent.rglob("*")]
    return sorted(f for f in found if f != "cwd")


BAD_URIS = {
    f"mongdb://u:{SECRET}@localhost/news": "unknown store URI scheme 'mongdb'",
    f"postgres://u:{SECRET}@db.example.com/news": "unknown store URI scheme 'postgres'",
    "redis://localhost": "unknown store URI scheme 'redis'",
    "mongodb:/localhost/news": "a MongoDB URI starts with mongodb://",
    f"mongodb:/u:{SECRET}@localhost/news": "a MongoDB URI starts with mongodb://",
    "MongoDB:localhost": "a MongoDB URI starts with mongodb://",
    "mongodb+srv:/cluster.example.com": "a MongoDB URI starts with mongodb+srv://",
    "sqlite://relative.db": "sqlite:///relative/path or sqlite:////absolute/path",
    f"sqlite://u:{SECRET}@host/x.db": "sqlite:///relative/path or sqlite:////absolute/path",
    "sqlite:relative.db": "sqlite:///relative/path or sqlite:////absolute/path",
    "mongdb:/localhost/news": "unknown store URI scheme 'mongdb'",
    "file://otherhost/x.db": "a file: URI names a local file",
    "file:x.db?cache=shared": "file: URI options are not supported",
    # Else the options became part of the file's name ("q.db?mode=ro").
    "sqlite:///q.db?mode=ro": "sqlite: URI options are not supported",
    "sqlite:///q.db#frag": "sqlite: URI options are not supported",
    # An empty URI given is no URI at all, never the default store ("--to $UNSET").
    "": "empty path: name the SQLite file",
}

NOTHING_KEPT = [
    ":memory:",
    "sqlite:///",
    "SQLITE:///",
    "sqlite:///:memory:",
    "file::memory:",
    "file:x.db?mode=memory",
    "file:x.db?mode=memory&cache=shared",
    "FILE:///tmp/x.db?MODE=MEMORY",
]


@pytest.mark.parametrize(("uri", "message"), list(BAD_URIS.items()))
def test_a_mistyped_uri_is_refused(workdir: Path, uri: str, message: str) -> None:
    with pytest.raises((InvalidQueryError, StoreUnavailableError)) as caught:
        open_store(uri)
    text = str(caught.value)
    assert message in text, text
    assert "\n" not in text and SECRET not in text and SECRET not in repr(caught.value.args)
    assert _created(workdir) == []


@pytest.mark.parametrize("uri", NOTHING_KEPT)
def test_a_store_that_keeps_nothing_is_refused(workdir: Path, uri: str) -> None:
    with pytest.raises(StoreUnavailableError, match=r"keeps nothing|empty path"):
        open_store(uri)
    assert _created(workdir) == []


def test_the_same_uri_from_settings_is_refused(workdir: Path) -> None:
    with pytest.raises(StoreUnavailableError, match="unknown store URI scheme 'mongdb'"):
        open_store(settings=Settings(store="mongdb://localhost/news"))
    assert _created(workdir) == []


@pytest.mark.parametrize(
    "scheme", ["MONGODB", "MongoDB", "mongodb", "MONGODB+SRV"], ids=lambda s: s
)
def test_schemes_are_case_insensitive(workdir: Path, scheme: str) -> None:
    host = "127.0.0.1:1" if "SRV" not in scheme else "missing.invalid"
    uri = f"{scheme}://reader:{SECRET}@{host}/news?serverSelectionTimeoutMS=200"
    with pytest.raises(StoreUnavailableError) as caught:
        open_store(uri)
    text = str(caught.value)
    assert text.startswith(("cannot reach MongoDB at mongodb", "cannot reach MongoDB at ")), text
    assert SECRET not in text
    assert _created(workdir) == []  # not a directory named after the password


def test_an_upper_case_mongodb_uri_reaches_mongodb(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # mongomock stands in for the server: what matters is that the MongoDB adapter is built.
    import mongomock

    from newsstore._store import mongo

    given: list[str] = []

    def client(uri: str, **options: object) -> mongomock.MongoClient:
        given.append(uri)
        return mongomock.MongoClient()

    monkeypatch.setattr(mongo, "MongoClient", client)
    with open_store("MONGODB://Example.com/News") as store:
        assert isinstance(store, MongoStore)
    assert given == ["mongodb://Example.com/News"]
    assert _created(workdir) == []


@pytest.mark.parametrize(
    ("uri", "where"),
    [
        ("SQLite:///rel.db", "cwd/rel.db"),
        ("sqlite:///sub/rel.db", "cwd/sub/rel.db"),
        ("plain.db", "cwd/plain.db"),
        ("file:f.db", "cwd/f.db"),
        ("c:d.db", "cwd/c:d.db"),  # one letter is a drive, not a scheme; here a file name
        ("two:d.db", "cwd/two:d.db"),  # no slash after the colon: a file name
        ("sqlite:///my%20store.db", "cwd/my store.db"),  # decoded, as in file: URIs
        ("~/home.db", "home/home.db"),  # no shell expanded it (a settings file, quotes)
        ("sqlite:///~/uri.db", "home/uri.db"),
    ],
)
def test_sqlite_uris_and_paths(
    workdir: Path, uri: str, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(workdir.parent / "home"))
    with open_store(uri) as store:
        assert isinstance(store, SQLiteStore)
    assert (workdir.parent / where).is_file()


def test_absolute_sqlite_and_file_uris(tmp_path: Path) -> None:
    for uri, name in (
        (f"sqlite:///{tmp_path}/a.db", "a.db"),
        (f"file://{tmp_path}/b%20c.db", "b c.db"),
        (f"file://localhost{tmp_path}/d.db", "d.db"),
    ):
        with open_store(uri) as store:
            assert isinstance(store, SQLiteStore)
        assert (tmp_path / name).is_file(), uri


def test_a_throwaway_store_is_still_built_directly(make: Callable[..., Snapshot]) -> None:
    with SQLiteStore(":memory:") as store:
        store.save(make())
        assert store.stats().snapshots == 1


# -- read-only opens -------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["path", "sqlite-uri", "settings", "default"])
def test_create_false_refuses_a_missing_store_and_creates_nothing(workdir: Path, form: str) -> None:
    missing = workdir.parent / "no" / "such" / "news.db"
    default = workdir.parent / "data" / "newsstore" / "newsstore.db"
    opener: dict[str, Callable[[], object]] = {
        "path": lambda: open_store(missing, create=False),
        "sqlite-uri": lambda: open_store(f"sqlite:///{missing}", create=False),
        "settings": lambda: open_store(settings=Settings(store=str(missing)), create=False),
        "default": lambda: open_store(create=False),
    }
    with pytest.raises(StoreUnavailableError) as caught:
        opener[form]()
    named = default if form == "default" else missing
    assert str(caught.value) == f"no SQLite store at {named}: the file does not exist"
    assert _created(workdir) == []


def test_create_false_refuses_an_empty_file_and_leaves_it_empty(workdir: Path) -> None:
    empty = workdir / "empty.db"
    empty.touch()
    with pytest.raises(StoreUnavailableError, match="the file is empty"):
        open_store(empty, create=False)
    assert empty.stat().st_size == 0
    assert sorted(os.listdir(workdir)) == ["empty.db"]


def test_create_false_opens_an_existing_store(
    tmp_path: Path, make: Callable[..., Snapshot]
) -> None:
    db = tmp_path / "news.db"
    snapshot = make()
    with open_store(db) as store:
        store.save(snapshot)
    with open_store(db, create=False) as store:
        assert store.get(snapshot.url or "").title == snapshot.title
    with SQLiteStore(db, create=False) as store:
        assert store.stats().snapshots == 1


def test_every_refusal_is_a_newsstore_error(workdir: Path) -> None:
    for uri in [*BAD_URIS, *NOTHING_KEPT]:
        with pytest.raises(NewsstoreError):
            open_store(uri)


@pytest.mark.parametrize(
    "uri",
    [
        f"MONGODB://reader:a/{SECRET}@host/news",
        f"MongoDB+SRV://reader:a@{SECRET}@cluster.example.com/",
    ],
)
def test_redaction_knows_upper_case_schemes(uri: str) -> None:
    assert SECRET not in redact_uri(f"cannot reach {uri}")


def test_a_path_that_looks_like_a_sqlite_uri_is_a_file_name(workdir: Path) -> None:
    # SQLite reads "file:…" names as URIs: the adapter opens every path as a URI of its own.
    with SQLiteStore("file:x.db?mode=memory") as store:
        assert isinstance(store, SQLiteStore)
    assert (workdir / "file:x.db?mode=memory").is_file()


def test_a_path_object_is_a_path_whatever_it_looks_like(workdir: Path) -> None:
    with open_store(Path("mongodb:") / "x.db") as store:
        assert isinstance(store, SQLiteStore)
    assert (workdir / "mongodb:" / "x.db").is_file()
    with pytest.raises(StoreUnavailableError, match="keeps nothing"):
        open_store(Path(":memory:"))


def test_an_empty_store_setting_is_the_default_store(workdir: Path) -> None:
    # NEWSSTORE_STORE set but empty is unset: only an empty URI given is refused.
    with open_store(settings=Settings(store="")) as store:
        assert store.files()[0] == str(workdir.parent / "data" / "newsstore" / "newsstore.db")


def test_an_option_the_driver_does_not_know_is_refused_not_warned(
    recwarn: pytest.WarningsRecorder,
) -> None:
    # A typo of connectTimeoutMS: pymongo only warns (two lines of stderr) and drops it.
    uri = f"mongodb://u:{SECRET}@127.0.0.1:1/news?connecttimeout=5000"
    with pytest.raises(StoreUnavailableError) as caught:
        open_store(uri)
    text = str(caught.value)
    assert text.startswith("not a usable MongoDB URI: mongodb://***@127.0.0.1:1/news"), text
    assert "Unknown option" in text and "connecttimeoutms" in text
    assert "\n" not in text and SECRET not in text
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]


@pytest.mark.parametrize("name", ["a/b", "a.b", "a$b", "a b", ""])
def test_a_database_name_mongodb_cannot_have_is_one_line(name: str) -> None:
    from pymongo import MongoClient

    from newsstore._store.mongo import database_of

    client: MongoClient[dict[str, object]] = MongoClient("mongodb://127.0.0.1:1", connect=False)
    with pytest.raises(StoreUnavailableError) as caught:
        database_of(client, name, "newsstore")
    assert str(caught.value).startswith(f"not a MongoDB database name: {name!r}")
    assert "\n" not in str(caught.value)


def test_a_password_with_a_newline_is_hidden_whole() -> None:
    uri = "mongodb://u:abc\ndefgh@127.0.0.1:1/db"
    text = redact_uri(f"cannot reach MongoDB at {uri}: refused", uri=uri)
    assert text == "cannot reach MongoDB at mongodb://***@127.0.0.1:1/db: refused"
