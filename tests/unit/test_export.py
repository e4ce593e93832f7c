"""Writers: every format is valid import input, and Extended JSON reads in pymongo and Node."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from bson import json_util

from newsstore import InvalidQueryError, Snapshot, read_records, write_snapshots

BEIJING = timezone(timedelta(hours=8))


@pytest.fixture
def snapshot() -> Snapshot:
    return Snapshot(
        url="https://n.example.com/1",
        title="标题",
        published_at=datetime(2023, 11, 14, 11, 19, 0, 123000, tzinfo=BEIJING),
        images=[{"position": 3, "caption": "图"}],
        related=[{"title": "旧闻", "published_at": datetime(1960, 1, 1, tzinfo=timezone.utc)}],
    )


def export(snapshots: list[Snapshot], fmt: str, **kw: object) -> str:
    buf = io.StringIO()
    assert write_snapshots(snapshots, buf, format=fmt, **kw) == len(snapshots)  # type: ignore[arg-type]
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["ndjson", "json", "ejson", "ejson-canonical"])
def test_every_format_imports_back_to_the_same_snapshot(snapshot, fmt, tmp_path: Path) -> None:
    path = tmp_path / "out"
    path.write_text(export([snapshot, snapshot], fmt), encoding="utf-8")
    back = [r.snapshot for r in read_records(path)]
    assert back == [snapshot, snapshot]


def test_plain_json_keeps_the_offset(snapshot) -> None:
    assert (
        json.loads(export([snapshot], "ndjson"))["published_at"]
        == "2023-11-14T11:19:00.123000+08:00"
    )
    assert export([], "json") == "[]\n"


def test_extended_json_reads_in_pymongo(snapshot) -> None:
    for fmt in ("ejson", "ejson-canonical"):
        doc = json_util.loads(export([snapshot], fmt))
        published = doc["published_at"]
        assert published.replace(tzinfo=timezone.utc) == snapshot.published_at
        assert doc["images"][0]["position"] == 3
        assert doc["related"][0]["published_at"].year == 1960


def test_canonical_extended_json_is_typed(snapshot) -> None:
    doc = json.loads(export([snapshot], "ejson-canonical"))
    assert doc["published_at"] == {"$date": {"$numberLong": "1699931940123"}}
    assert doc["images"][0]["position"] == {"$numberInt": "3"}
    relaxed = json.loads(export([snapshot], "ejson"))
    assert relaxed["published_at"] == {"$date": "2023-11-14T03:19:00.123Z"}
    assert relaxed["related"][0]["published_at"] == {"$date": {"$numberLong": "-315619200000"}}


def test_fields_selects_and_refuses_unknown_names(snapshot) -> None:
    assert json.loads(export([snapshot], "ndjson", fields=["title", "url"])) == {
        "url": "https://n.example.com/1",
        "title": "标题",
    }
    with pytest.raises(InvalidQueryError, match="unknown field"):
        export([snapshot], "ndjson", fields=["title", "$where"])


def _node_bson() -> str | None:
    if shutil.which("node") is None:
        return None
    probe = subprocess.run(
        ["node", "-e", "require.resolve('bson')"], capture_output=True, env=os.environ, check=False
    )
    return "node" if probe.returncode == 0 else None


@pytest.mark.skipif(_node_bson() is None, reason="needs node with the bson package (NODE_PATH)")
@pytest.mark.parametrize("fmt", ["ejson", "ejson-canonical"])
def test_extended_json_reads_in_the_node_driver(snapshot, fmt) -> None:
    script = (
        "const {EJSON} = require('bson');"
        "let s = ''; process.stdin.on('data', d => s += d).on('end', () => {"
        " const doc = EJSON.parse(s, {relaxed: false});"
        " console.log(JSON.stringify([doc.published_at.toISOString(), doc.title,"
        " Number(doc.images[0].position)])); });"
    )
    out = subprocess.run(
        ["node", "-e", script],
        input=export([snapshot], fmt),
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == ["2023-11-14T03:19:00.123Z", "标题", 3]
