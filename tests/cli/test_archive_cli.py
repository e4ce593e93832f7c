"""``dump``, ``restore``, ``copy`` and ``rekey`` from the command line, on both stores.

The MongoDB cases run on the test server (``NEWSSTORE_TEST_MONGODB_URI``; skipped without
it): the command needs a server to reach.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from ..conftest import MONGODB_URI

URL = "https://news.example.com/world/1.html"


def _record(url: str = URL, **fields: object) -> str:
    data: dict[str, object] = {
        "url": url,
        "title": "标题",
        "published_at": "2023-11-14 11:19:00",
        "snapshot_at": "2023-11-14 15:45:17",
    }
    data.update(fields)
    return json.dumps(data, ensure_ascii=False)


@pytest.fixture(params=["sqlite", "mongodb"])
def new_store(
    request: pytest.FixtureRequest, tmp_path: Path, mongo_server: Any
) -> Iterator[Callable[[], str]]:
    """Makes the URI of a fresh, empty store of each kind."""
    made: list[str] = []

    def make() -> str:
        name = f"newsstore_cli_{uuid.uuid4().hex[:12]}"
        made.append(name)
        if request.param == "sqlite":
            return str(tmp_path / f"{name}.db")
        assert MONGODB_URI is not None
        return urlunsplit(urlsplit(MONGODB_URI)._replace(path="/" + name))

    if request.param == "mongodb" and not MONGODB_URI:
        pytest.skip("needs a MongoDB server (NEWSSTORE_TEST_MONGODB_URI)")
    yield make
    if request.param == "mongodb":
        for name in made:
            mongo_server.drop_database(name)


def _fill(run: Any, store: str, tmp_path: Path) -> None:
    crawl = tmp_path / "crawl.ndjson"
    crawl.write_text(
        "\n".join(
            [
                _record(),
                _record(
                    "http://www.news.example.com/world/1.html?utm_source=x",
                    paragraphs=["新"],
                    snapshot_at="2023-11-14 16:00:00",
                ),
                _record(paragraphs=["旧"], snapshot_at="2023-11-14 15:00:00"),
                _record("https://news.example.com/world/2.html", title="二"),
                _record("https://news.example.com/world/3.html", title="三"),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    assert run("import", "-q", "--store", store, str(crawl)).exit_code == 0
    deleted = run(
        "delete",
        "--store",
        store,
        "https://news.example.com/world/3.html",
        "--reason",
        "court order",
    )
    assert deleted.exit_code == 0, deleted.output


def _stats(run: Any, store: str) -> dict[str, Any]:
    result = run("stats", "--json", "--store", store)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_dump_then_restore_brings_everything_back(run, new_store, tmp_path: Path) -> None:
    source, target = new_store(), new_store()
    _fill(run, source, tmp_path)
    archive = tmp_path / "store.ndjson.gz"
    dumped = run("dump", "--store", source, "-o", str(archive))
    assert dumped.exit_code == 0, dumped.output
    assert "2 snapshots, 2 history versions, 1 takedowns written to" in dumped.stderr
    restored = run("restore", "--store", target, str(archive))
    assert restored.exit_code == 0, restored.output
    assert restored.stdout.startswith("restored: 2 snapshots, 2 history versions, 1 takedowns")
    assert _stats(run, target) == _stats(run, source)
    got = json.loads(run("get", "--store", target, URL).stdout)
    assert got["stored"]["seen_count"] == 3
    assert len(got["stored"]["urls"]) == 2
    again = run("restore", "--store", target, str(archive))
    assert again.exit_code == 0
    assert _stats(run, target) == _stats(run, source)
    gone = run("get", "--store", target, "https://news.example.com/world/3.html")
    assert gone.exit_code == 1
    assert "taken down" in gone.stderr and "court order" in gone.stderr


def test_restore_onto_data_lets_the_takedown_win(run, new_store, tmp_path: Path) -> None:
    source, target = new_store(), new_store()
    _fill(run, source, tmp_path)
    lone = tmp_path / "lone.ndjson"
    lone.write_text(
        _record("https://news.example.com/world/3.html", title="三") + "\n", encoding="utf-8"
    )
    assert run("import", "-q", "--store", target, str(lone)).exit_code == 0
    archive = tmp_path / "a.ndjson"
    assert run("dump", "--store", source, "-o", str(archive)).exit_code == 0
    assert run("restore", "--store", target, str(archive)).exit_code == 0
    assert run("get", "--store", target, "https://news.example.com/world/3.html").exit_code == 1
    assert _stats(run, target)["snapshots"] == 2


def test_restore_of_a_url_points_to_lift_takedown(run, new_store) -> None:
    result = run("restore", "--store", new_store(), URL)
    assert result.exit_code == 2  # a URL where an archive goes: a usage error
    assert f"newsstore lift-takedown {URL}" in result.stderr


def test_copy_there_and_back_and_the_final_check(run, new_store, tmp_path: Path) -> None:
    source, target = str(tmp_path / "cli.db"), new_store()
    _fill(run, source, tmp_path)
    copied = run("copy", "--store", source, "--to", target)
    assert copied.exit_code == 0, copied.output
    assert "check: both stores hold 2 snapshots, 2 history versions, 1 takedowns" in copied.stdout
    assert run("copy", "--store", source, "--to", target).exit_code == 0  # converges
    back = str(tmp_path / "back.db")
    assert run("copy", "--store", target, "--to", back).exit_code == 0
    assert _stats(run, back) == _stats(run, source)
    extra = tmp_path / "extra.ndjson"
    extra.write_text(_record("https://news.example.com/extra.html") + "\n", encoding="utf-8")
    assert run("import", "-q", "--store", target, str(extra)).exit_code == 0
    # A target that holds data of its own holds more: the check is that it lacks nothing.
    onto = run("copy", "--store", source, "--to", target)
    assert onto.exit_code == 0, onto.output
    assert "check: the target holds all of the source's 2 snapshots" in onto.stdout
    assert "(now 3, 2, 1 in all)" in onto.stdout


def test_copy_onto_the_same_store_by_another_name_is_refused(
    run, tmp_path: Path, monkeypatch
) -> None:
    source = tmp_path / "cli.db"
    _fill(run, str(source), tmp_path)
    (tmp_path / "link.db").symlink_to(source)
    monkeypatch.chdir(tmp_path)
    for other in ("./cli.db", "link.db", f"sqlite:///{source}"):
        refused = run("copy", "--store", str(source), "--to", other)
        assert refused.exit_code == 2, (other, refused.output)
        assert "is the store being copied" in refused.stderr


def test_copy_to_an_empty_uri_is_refused_not_the_default_store(run, tmp_path: Path) -> None:
    source = str(tmp_path / "cli.db")
    _fill(run, source, tmp_path)
    refused = run("copy", "--store", source, "--to", "")
    assert refused.exit_code == 1
    assert "empty path: name the SQLite file" in refused.stderr


def test_copy_writes_to_the_database_its_uri_names(
    run, tmp_path: Path, mongo_server: Any, monkeypatch
) -> None:
    if not MONGODB_URI:
        pytest.skip("needs a MongoDB server (NEWSSTORE_TEST_MONGODB_URI)")
    source = str(tmp_path / "cli.db")
    _fill(run, source, tmp_path)
    named, other = (f"newsstore_cli_{uuid.uuid4().hex[:12]}" for _ in range(2))
    target = urlunsplit(urlsplit(MONGODB_URI)._replace(path="/" + named))
    # NEWSSTORE_DATABASE names the --store's database, never --to's.
    monkeypatch.setenv("NEWSSTORE_DATABASE", other)
    try:
        copied = run("copy", "--store", source, "--to", target)
        assert copied.exit_code == 0, copied.output
        assert mongo_server[named]["snapshots"].count_documents({}) == 2
        assert other not in mongo_server.list_database_names()
    finally:
        mongo_server.drop_database(named)
        mongo_server.drop_database(other)


def test_a_restore_refused_for_its_keys_creates_no_store(run, tmp_path: Path, monkeypatch) -> None:
    source = str(tmp_path / "src.db")  # keyed with another list than the default
    monkeypatch.setenv("NEWSSTORE_TRACKING_PARAMS", "utm_*,ref")
    _fill(run, source, tmp_path)
    archive = tmp_path / "a.ndjson"
    assert run("dump", "--store", source, "-o", str(archive)).exit_code == 0
    target = tmp_path / "fresh.db"
    monkeypatch.delenv("NEWSSTORE_TRACKING_PARAMS")
    refused = run("restore", "--store", str(target), str(archive))
    assert refused.exit_code == 1
    assert "keys its snapshots with the tracking parameters ref,utm_*" in refused.stderr
    assert not target.exists()  # else it recorded the other list, refusing the retry
    monkeypatch.setenv("NEWSSTORE_TRACKING_PARAMS", "utm_*,ref")
    assert run("restore", "--store", str(target), str(archive)).exit_code == 0
    assert _stats(run, str(target)) == _stats(run, source)


def test_rekey_after_the_tracking_list_changes(run, new_store, tmp_path: Path, monkeypatch) -> None:
    store = new_store()
    crawl = tmp_path / "ref.ndjson"
    crawl.write_text(
        _record(URL + "?ref=a")
        + "\n"
        + _record(URL + "?ref=b", paragraphs=["新"], snapshot_at="2023-11-14 16:00:00")
        + "\n",
        encoding="utf-8",
    )
    assert run("import", "-q", "--store", store, str(crawl)).exit_code == 0
    assert _stats(run, store)["snapshots"] == 2
    monkeypatch.setenv("NEWSSTORE_TRACKING_PARAMS", "utm_*,ref")
    refused = run("stats", "--store", store)
    assert refused.exit_code == 1
    assert "keys its snapshots with the tracking parameters _hsenc," in refused.stderr
    assert "not with ref,utm_* as set now" in refused.stderr
    assert "newsstore rekey" in refused.stderr
    rekeyed = run("rekey", "--store", store)
    assert rekeyed.exit_code == 0, rekeyed.output
    assert "re-keyed: 2 snapshots" in rekeyed.stdout
    assert "tracking parameters: ref,utm_*" in rekeyed.stdout
    assert _stats(run, store)["snapshots"] == 1
    assert _stats(run, store)["history"] == 1
    got = json.loads(run("get", "--store", store, URL).stdout)
    assert got["paragraphs"] == ["新"]


@pytest.mark.parametrize("named", ["nosuch.ndjson.gz", URL, "README.md"])
def test_restore_of_something_not_an_archive_creates_no_store(
    run, tmp_path: Path, named: str
) -> None:
    # A typo must not leave an empty store behind: the archive is checked first.
    target = tmp_path / "typo.db"
    result = run("restore", "--store", str(target), named)
    assert result.exit_code in (1, 2)
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.stderr
    assert not target.exists()
