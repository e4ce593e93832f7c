"""A version's first and last seen times are in the store's zone, as every time it returns."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from newsstore import Snapshot, Version
from newsstore._store import Store
from newsstore_cli.app import app

URL = "https://news.example.com/world/2023/11/14/putin.html"
KATHMANDU = ZoneInfo("Asia/Kathmandu")  # +05:45: neither UTC nor the default zone


@pytest.fixture(params=["sqlite", "mongodb"])
def kathmandu(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh, empty store of each kind in Kathmandu time."""
    if request.param == "sqlite":
        from newsstore._store.sqlite import SQLiteStore

        with SQLiteStore(tmp_path / "store.db", timezone=KATHMANDU) as st:
            yield st
        return
    from newsstore._store.mongo import MongoStore

    with MongoStore(request.getfixturevalue("mongodb"), timezone=KATHMANDU) as st:
        yield st


def _saved(store: Store, versions: list[Snapshot]) -> tuple[list[Version], datetime, datetime]:
    """The versions of ``versions`` saved in turn, and instants before and after saving."""
    before = datetime.now(timezone.utc)
    for snapshot in versions:
        store.save(snapshot)
    after = datetime.now(timezone.utc)
    return store.versions(URL), before, after


def _seen(versions: list[Version]) -> list[datetime]:
    times = [t for v in versions for t in (v.first_seen, v.last_seen)]
    assert all(t is not None for t in times)
    return times  # type: ignore[return-value]


def test_a_versions_seen_times_are_in_the_stores_zone(
    store: Store, three_versions: list[Snapshot]
) -> None:
    versions, before, after = _saved(store, three_versions)
    times = _seen(versions)
    assert all(t.utcoffset() == store.zone.utcoffset(t) for t in times)
    assert all(before.replace(microsecond=0) <= t <= after for t in times)
    # As ``get`` gives them: the current content's last seen is the key's.
    stored = store.get(URL).stored
    assert stored is not None and stored.last_seen is not None
    assert versions[-1].last_seen == stored.last_seen
    assert versions[-1].last_seen.isoformat() == stored.last_seen.isoformat()


def test_a_versions_seen_times_are_in_a_zone_asked_for(
    kathmandu: Store, three_versions: list[Snapshot]
) -> None:
    versions, before, after = _saved(kathmandu, three_versions)
    times = _seen(versions)
    assert all(t.isoformat().endswith("+05:45") for t in times)
    assert all(before.replace(microsecond=0) <= t <= after for t in times)
    assert [v.snapshot_at for v in versions] == [s.snapshot_at for s in three_versions]
    for older, newer in pairwise(versions):
        assert older.first_seen <= older.last_seen <= newer.first_seen  # type: ignore[operator]


def test_history_json_gives_the_seen_times_in_the_zone_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, three_versions: list[Snapshot]
) -> None:
    monkeypatch.setenv("NEWSSTORE_STORE", str(tmp_path / "cli.db"))
    monkeypatch.delenv("NEWSSTORE_TIMEZONE", raising=False)
    source = tmp_path / "versions.ndjson"
    source.write_text("".join(s.model_dump_json() + "\n" for s in three_versions), "utf-8")
    runner = CliRunner()
    assert runner.invoke(app, ["import", str(source)]).exit_code == 0

    def history(zone: str) -> list[dict[str, str]]:
        result = runner.invoke(app, ["history", URL, "--json", "--tz", zone])
        assert result.exit_code == 0, result.output
        rows: list[dict[str, str]] = json.loads(result.stdout)
        return rows

    local, utc = history("Asia/Kathmandu"), history("UTC")
    fields = ("snapshot_at", "first_seen", "last_seen")
    assert all(row[f].endswith("+05:45") for row in local for f in fields)
    instants = [[datetime.fromisoformat(row[f]) for f in fields] for row in utc]
    assert [[datetime.fromisoformat(row[f]) for f in fields] for row in local] == instants
    got = runner.invoke(app, ["get", URL, "--tz", "Asia/Kathmandu"])
    assert got.exit_code == 0, got.output
    assert json.loads(got.stdout)["stored"]["last_seen"] == local[-1]["last_seen"]
