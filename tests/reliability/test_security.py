"""Security (issue #7): secrets stay secret, filters stay literal, imports stay inside.

* A MongoDB URI's password (or a secret query option) never appears in output, in error
  messages, in exception ``str``/``repr``/tracebacks, in ``Settings`` reprs, or in the
  traceback of an unexpected error (Typer is told not to show locals).
* User input cannot become a MongoDB operator: :class:`Query` takes typed literals only
  (a dict where a string is expected is refused), CLI filters are strings compared for
  equality, URL prefixes are key ranges (no regular expressions), SQLite takes bound
  parameters. Checked on SQLite and mongomock, through the library and the CLI, and as a
  property over arbitrary text for the MongoDB filter.
* Importing a directory does not follow symlinks out of it unless ``--follow-symlinks``;
  with it, a symlink loop does not read the same files over and over.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import mongomock
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

import newsstore_cli.app as cli_app
from newsstore import (
    InvalidQueryError,
    NewsstoreError,
    Query,
    Settings,
    Snapshot,
    StoreUnavailableError,
    open_store,
)
from newsstore._settings import redact_uri
from newsstore._store import Store
from newsstore._store.mongo import MongoStore
from newsstore_cli.app import app

SECRET = "s3cret-pw"
SECRET_URIS = [
    f"mongodb://reader:{SECRET}@127.0.0.1:1/?serverSelectionTimeoutMS=300",
    f"mongodb://reader:{SECRET}@127.0.0.1:1,127.0.0.1:2/db?serverSelectionTimeoutMS=300",
    f"mongodb://reader:a@{SECRET}@127.0.0.1:1/?serverSelectionTimeoutMS=300",  # unescaped @
    f"mongodb://reader:a/{SECRET}@127.0.0.1:1/?serverSelectionTimeoutMS=300",  # unescaped /
    f"mongodb://reader:{SECRET}@127.0.0.1:99999/",  # a port pymongo refuses with ValueError
    f"mongodb://reader:{SECRET}@/",
    f"mongodb+srv://reader:{SECRET}@nonexistent.invalid/",
    "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300"
    f"&tls=true&tlsCertificateKeyFilePassword={SECRET}",
    "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300&authMechanism=MONGODB-AWS"
    f"&authMechanismProperties=AWS_SESSION_TOKEN:{SECRET}",
]
OPERATORS = [
    '{"$ne": null}',
    '{"$where": "sleep(1000) || true"}',
    '{"$function": {"body": "function() {return true}", "args": [], "lang": "js"}}',
    '{"$accumulator": {}}',
    '{"$regex": ".*"}',
    "$where",
    "this.category == 'x' || true",
    "x' OR '1'='1",
    "%",
    ".*",
]


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        todo += [item.__cause__, item.__context__]


# -- secrets ------------------------------------------------------------------------------------
@pytest.mark.parametrize("uri", SECRET_URIS, ids=range(len(SECRET_URIS)))
def test_open_store_errors_never_hold_the_secret(uri: str) -> None:
    with pytest.raises(StoreUnavailableError) as info:
        open_store(uri)
    exc = info.value
    assert str(exc).startswith("cannot reach MongoDB at mongodb")
    assert SECRET not in "".join(traceback.format_exception(exc))
    for item in _chain(exc):  # the driver's error is suppressed, and clean anyway
        assert SECRET not in str(item) and SECRET not in repr(item)
        assert SECRET not in repr(getattr(item, "args", ()))


@pytest.mark.parametrize("uri", SECRET_URIS, ids=range(len(SECRET_URIS)))
def test_cli_never_prints_the_secret(uri: str) -> None:
    result = run("find", "--store", uri)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot reach MongoDB at mongodb")
    assert result.stderr.count("\n") == 1
    assert SECRET not in result.output


def test_secret_from_the_environment_is_not_shown_in_help_or_errors() -> None:
    env = {"NEWSSTORE_STORE": SECRET_URIS[0]}
    for args in (["--help"], ["find", "--help"], ["import", "--help"], ["find"], ["stats"]):
        result = run(*args, env=env)
        assert SECRET not in result.output, args


def test_settings_repr_hides_the_store_uri() -> None:
    settings = Settings(store=SECRET_URIS[0])
    assert SECRET not in repr(settings) and SECRET not in str(settings)
    assert settings.store == SECRET_URIS[0]  # still there to use


def test_redact_uri_keeps_plain_urls_readable() -> None:
    assert redact_uri("no snapshot for https://medium.com/@user/post") == (
        "no snapshot for https://medium.com/@user/post"
    )
    assert redact_uri("https://u:p@ss@example.com/a") == "https://***@example.com/a"


def test_an_unexpected_error_shows_no_locals(tmp_path: Path) -> None:
    """A bug deep in a command prints a traceback, but not the values of its variables."""
    code = (
        "import newsstore_cli.app as a\n"
        "def boom(**kwargs):\n"
        "    uri = kwargs['settings'].store\n"
        "    raise RuntimeError('unexpected')\n"
        "a.newsstore.open_store = boom\n"
        "a.main()\n"
    )
    env = {**os.environ, "NEWSSTORE_STORE": SECRET_URIS[0], "COLUMNS": "200"}
    proc = subprocess.run(
        [sys.executable, "-c", code, "find"], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 1
    assert "RuntimeError" in proc.stderr and "unexpected" in proc.stderr
    assert SECRET not in proc.stdout + proc.stderr


# -- operators ----------------------------------------------------------------------------------
@pytest.fixture
def stocked(store: Store, make: Callable[..., Snapshot]) -> Store:
    store.save(make(url="https://a.example.com/news/1", category="国际", source="新华社"))
    store.save(make(url="https://a.example.com/news/2", category="$in", source="$ne"))
    store.save(make(url="https://b.example.com/x", category="体育", source="新华社"))
    return store


def _urls(store: Store, query: Query) -> list[str]:
    return sorted(s.url or "" for s in store.find(query))


@pytest.mark.parametrize("name", ["url", "category", "source"])
@pytest.mark.parametrize(
    "value",
    [
        {"$ne": None},
        {"$where": "true"},
        {"$function": {"body": "function(){return true}", "args": [], "lang": "js"}},
        {"$accumulator": {}},
        ["国际"],
        5,
    ],
    ids=["ne", "where", "function", "accumulator", "list", "int"],
)
def test_query_refuses_anything_but_a_string(name: str, value: Any) -> None:
    with pytest.raises(InvalidQueryError, match=f"{name} must be a string"):
        Query(**{name: value})


@pytest.mark.parametrize(
    "fields",
    [
        {"start": {"$gt": ""}},
        {"end": "2023-11-14"},
        {"match": {"$regex": ".*"}},
        {"time_field": {"$where": "1"}},
        {"sort": {"$natural": 1}},
        {"limit": "5"},
        {"offset": {"$gt": 0}},
        {"limit": True},
    ],
    ids=lambda f: next(iter(f)),
)
def test_query_refuses_untyped_options(fields: dict[str, Any]) -> None:
    with pytest.raises(InvalidQueryError):
        Query(**fields)


@pytest.mark.parametrize("method", ["get", "history", "delete", "lift_takedown", "takedown"])
def test_lookups_by_key_refuse_operator_dicts(stocked: Store, method: str) -> None:
    call = getattr(stocked, method)
    kwargs = {"reason": "x"} if method == "delete" else {}
    with pytest.raises(InvalidQueryError, match="must be a string"):
        call({"$ne": None}, **kwargs)
    assert stocked.count() == 3


def test_takedown_reason_must_be_a_string(stocked: Store) -> None:
    with pytest.raises(InvalidQueryError, match="a takedown needs a reason, a string"):
        stocked.delete("https://a.example.com/news/1", reason={"$set": {"x": 1}})  # type: ignore[arg-type]
    assert stocked.count() == 3


@pytest.mark.parametrize("text", OPERATORS)
def test_filter_values_are_literals(stocked: Store, text: str) -> None:
    assert _urls(stocked, Query(category=text)) == []
    assert _urls(stocked, Query(source=text)) == []
    assert stocked.count(Query(category=text)) == 0


def test_dollar_strings_match_only_themselves(stocked: Store) -> None:
    assert _urls(stocked, Query(category="$in")) == ["https://a.example.com/news/2"]
    assert _urls(stocked, Query(source="$ne")) == ["https://a.example.com/news/2"]


def test_url_prefix_is_literal_not_a_pattern(stocked: Store) -> None:
    assert len(_urls(stocked, Query(url="https://a.example.com/", match="prefix"))) == 2
    for pattern in (".*", "news/.*", "[a-z]+", "news/%", "news/_", "*"):
        query = Query(url=f"https://a.example.com/{pattern}", match="prefix")
        assert _urls(stocked, query) == [], pattern
    assert _urls(stocked, Query(url="https://a.example.com/news/1", match="prefix")) == [
        "https://a.example.com/news/1"
    ]


def test_url_exact_and_domain_are_literal(stocked: Store) -> None:
    assert _urls(stocked, Query(url="https://a.example.com/news/.")) == []
    assert len(_urls(stocked, Query(url="example.com", match="domain"))) == 3
    for bad in (".*", "*.example.com", "example.com'; --"):
        with pytest.raises(NewsstoreError):
            list(stocked.find(Query(url=bad, match="domain")))


_OPERATOR_KEYS = {"$gte", "$lt"}  # the only operators newsstore's own filters use


def _operator_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        keys = {k for k in value if k.startswith("$")}
        for v in value.values():
            keys |= _operator_keys(v)
        return keys
    if isinstance(value, list):
        return set().union(*(_operator_keys(v) for v in value))
    return set()


_FILTER_STORE = MongoStore(mongomock.MongoClient().db)


@settings(max_examples=200, deadline=None)
@given(
    url=st.none() | st.text(max_size=40),
    match=st.sampled_from(["exact", "prefix", "host", "domain"]),
    category=st.none() | st.text(max_size=20),
    source=st.none() | st.text(max_size=20),
)
def test_mongodb_filter_holds_user_text_only_as_values(
    url: str | None, match: str, category: str | None, source: str | None
) -> None:
    store = _FILTER_STORE  # building a filter sends nothing to the database
    try:
        query = Query(url=url, match=match, category=category, source=source)  # type: ignore[arg-type]
        flt = store._filter(query)
    except NewsstoreError:
        return  # refused: a URL that is not a URL
    assert _operator_keys(flt) <= _OPERATOR_KEYS
    assert set(flt) <= {"_id", "host", "category", "source", "published_at"}
    for name in ("category", "source"):
        if getattr(query, name) is not None:
            assert flt[name] == getattr(query, name)  # the string itself, nothing else


@pytest.fixture
def mongo_cli(mongodb: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """The CLI, with its store opened on the test MongoDB database."""

    def fake_open_store(*, settings: Settings, **_: Any) -> Store:
        return MongoStore(mongodb, timezone=settings.timezone)

    monkeypatch.setattr(cli_app.newsstore, "open_store", fake_open_store)
    monkeypatch.delenv("NEWSSTORE_TIMEZONE", raising=False)
    return run


def test_cli_filters_are_literals_on_mongodb(
    mongo_cli: Callable[..., Result], tmp_path: Path
) -> None:
    source = tmp_path / "a.ndjson"
    rows = [
        {"url": "https://a.example.com/news/1", "title": "一", "category": "国际"},
        {"url": "https://a.example.com/news/2", "title": "二", "category": "$where"},
    ]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert mongo_cli("import", str(source)).stdout == "2 read: 2 inserted, 0 rejected\n"

    def found(*args: str) -> list[str]:
        result = mongo_cli("find", "--json", *args)
        assert result.exit_code == 0, result.output
        return sorted(s["url"] for s in json.loads(result.stdout))

    assert found() == ["https://a.example.com/news/1", "https://a.example.com/news/2"]
    for text in OPERATORS:
        if text != "$where":
            assert found("--category", text) == [], text
            assert found("--source", text) == [], text
    assert found("--category", "$where") == ["https://a.example.com/news/2"]
    assert found("--url", "https://a.example.com/.*", "--match", "prefix") == []
    assert found("--url", "https://a.example.com/news/", "--match", "prefix") == [
        "https://a.example.com/news/1",
        "https://a.example.com/news/2",
    ]
    assert mongo_cli("get", '{"$ne": null}').exit_code == 2  # not a URL: a usage error
    refused = mongo_cli("find", "--url", ".*", "--match", "domain")
    assert refused.exit_code == 2 and refused.stderr.startswith("Error: invalid host")


def test_imported_operator_documents_are_refused_not_stored(
    mongo_cli: Callable[..., Result], tmp_path: Path
) -> None:
    source = tmp_path / "a.ndjson"
    rows = [
        {"url": "https://a.example.com/1", "title": {"$ne": None}},
        {"url": "https://a.example.com/2", "title": "x", "$where": "true"},
        {"url": "https://a.example.com/3", "title": "x", "related": [{"$gt": ""}]},
        {"url": "https://a.example.com/4", "title": "x", "breadcrumbs": [{"$set": {"a": 1}}]},
        {"url": "https://a.example.com/5", "title": "$set"},
    ]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = mongo_cli("import", str(source))
    assert result.stdout == "5 read: 1 inserted, 4 rejected\n"
    got = json.loads(mongo_cli("get", "https://a.example.com/5").stdout)
    assert got["title"] == "$set"


def test_sql_injection_text_is_a_bound_value(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    source = tmp_path / "a.ndjson"
    source.write_text(
        json.dumps({"url": "https://a.example.com/1", "title": "t", "category": "a"}) + "\n"
    )
    run("import", "--store", str(db), str(source))
    for text in ("a' OR '1'='1", "a'; DROP TABLE snapshots; --", "%", "_"):
        result = run("find", "--store", str(db), "--json", "--category", text)
        assert json.loads(result.stdout) == [], text
    assert json.loads(run("find", "--store", str(db), "--json").stdout)[0]["category"] == "a"


# -- symlinks -----------------------------------------------------------------------------------
@pytest.fixture
def crawl(tmp_path: Path) -> Path:
    """crawl/ with an inside file, symlinks leading out (a file, a directory), one inside, a loop."""

    def write(path: Path, n: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"url": f"https://s.example.com/{n}", "title": f"t{n}"}) + "\n")

    root = tmp_path / "crawl"
    write(root / "day1" / "in.ndjson", 1)
    write(tmp_path / "outside" / "secret.ndjson", 2)
    write(tmp_path / "outside-dir" / "more.ndjson", 3)
    os.symlink(tmp_path / "outside" / "secret.ndjson", root / "leak.ndjson")
    os.symlink(tmp_path / "outside-dir", root / "day1" / "leakdir")
    os.symlink(Path("..") / "day1" / "in.ndjson", root / "day1" / "alias.ndjson")
    os.symlink(root / "leak.ndjson", root / "chain.ndjson")  # inside link -> outside file
    os.symlink("..", root / "day1" / "up")  # a loop when followed
    return root


def _imported(db: Path) -> list[str]:
    return sorted(s["url"] for s in json.loads(run("find", "--store", str(db), "--json").stdout))


def test_directory_import_stays_inside_without_follow_symlinks(crawl: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    result = run("import", "--store", str(db), str(crawl))
    assert result.exit_code == 0, result.output
    assert result.stdout == "2 read: 1 inserted, 1 unchanged, 0 rejected\n"  # in + its alias
    assert _imported(db) == ["https://s.example.com/1"]


def test_glob_cannot_reach_out_of_the_directory(crawl: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    result = run("import", "--store", str(db), "--glob", "../outside/*", str(crawl))
    # Nothing in the directory matches: reported as an empty directory, nothing read.
    assert result.stdout == "1 read: 0 inserted, 1 rejected\n"
    assert "empty directory: no files matching '../outside/*'" in result.stderr


def test_follow_symlinks_reads_outside_once_and_survives_a_loop(
    crawl: Path, tmp_path: Path
) -> None:
    db = tmp_path / "s.db"
    result = run("import", "--store", str(db), "--follow-symlinks", str(crawl))
    assert result.exit_code == 0, result.output
    # in, alias, leak, chain, leakdir/more: each real directory walked once despite day1/up.
    assert result.stdout == "5 read: 3 inserted, 2 unchanged, 0 rejected\n"
    assert _imported(db) == [f"https://s.example.com/{n}" for n in (1, 2, 3)]


def test_a_file_named_directly_is_read_even_through_a_symlink(crawl: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    assert run("import", "--store", str(db), str(crawl / "leak.ndjson")).exit_code == 0
    assert _imported(db) == ["https://s.example.com/2"]


@pytest.mark.parametrize(
    "uri",
    [
        "mongodb://alice:pass word@127.0.0.1:9/news?serverSelectionTimeoutMS=200",
        "mongodb://alice:pass\tword@127.0.0.1:9/news?serverSelectionTimeoutMS=200",
        "mongodb://alice:pa%20ss%0Aword@127.0.0.1:9/news?serverSelectionTimeoutMS=200",
    ],
    ids=["space", "tab", "escaped-newline"],
)
def test_a_password_with_whitespace_is_never_printed(uri: str) -> None:
    from urllib.parse import unquote

    from newsstore import open_store

    password = unquote(uri.split(":", 2)[2].rsplit("@", 1)[0])
    with pytest.raises(StoreUnavailableError) as caught:
        open_store(uri)
    message = str(caught.value)
    assert "***" in message
    for piece in (password, *password.split()):
        assert piece not in message, piece
    assert run("stats", "--store", uri).exit_code == 1
    assert "word" not in run("stats", "--store", uri).output
