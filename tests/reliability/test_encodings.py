"""Encodings (issue #15, item 18): the same decoding rules for every command and format.

``import --encoding E`` reads snapshot text, NDJSON and JSON in ``E`` (``parse --encoding``
reads text the same way); a file that looks like another encoding than the one asked for
(by its byte order mark or where its NUL bytes fall) is refused whole, the message naming
the encoding it looks like. Before, a UTF-16 text was refused as ``binary file`` by
``import --encoding utf-16`` while ``parse`` read it, and in a UTF-16 NDJSON file line 1
was imported and the rest rejected with misleading messages.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsstore import InvalidRecordError, SnapshotParseError, parse_snapshot_bytes, read_records
from newsstore._decoding import looks_like
from newsstore._store.sqlite import SQLiteStore
from newsstore_cli.app import app

from ..conftest import SAMPLE

LINES = [
    json.dumps({"url": f"https://n.example.com/{i}", "title": f"第{i}篇"}, ensure_ascii=False)
    for i in range(3)
]
TEXTS = {
    "ndjson": "\n".join(LINES) + "\n",
    "json": "[" + ",\n".join(LINES) + "]\n",
    "txt": SAMPLE.read_text(encoding="utf-8"),
}
# Encodings to write in, and the one to ask for reading.
WRITTEN = {
    "utf-16": "utf-16",  # with a BOM (little-endian here)
    "utf-16-be": "utf-16",  # no BOM: the byte order is read from the NUL bytes
    "utf-16-le": "utf-16-le",
    "utf-32": "utf-32",
    "gb18030": "gb18030",
}


def write(tmp_path: Path, kind: str, encoding: str) -> Path:
    path = tmp_path / f"in-{encoding}.{kind}"
    path.write_bytes(TEXTS[kind].encode(encoding))
    return path


def import_(tmp_path: Path, path: Path, encoding: str | None):
    with SQLiteStore(tmp_path / "s.db") as store:
        report = store.import_records([path], encoding=encoding)
        return report, sorted(s.title for s in store.find())


def expected_titles(kind: str) -> list[str]:
    if kind == "txt":
        return [parse_snapshot_bytes(SAMPLE.read_bytes()).title]
    return sorted(f"第{i}篇" for i in range(3))


@pytest.mark.parametrize("kind", list(TEXTS))
@pytest.mark.parametrize("written", list(WRITTEN))
def test_every_format_is_read_in_the_encoding_asked_for(
    tmp_path: Path, kind: str, written: str
) -> None:
    path = write(tmp_path, kind, written)
    report, titles = import_(tmp_path, path, WRITTEN[written])
    assert (report.rejected, report.errors) == (0, [])
    assert titles == expected_titles(kind)


@pytest.mark.parametrize("kind", list(TEXTS))
@pytest.mark.parametrize(
    ("written", "asked", "looks"),
    [
        ("utf-16", None, "UTF-16-LE text (byte order mark), not UTF-8"),
        ("utf-16-be", None, "UTF-16-BE text (NUL bytes), not UTF-8"),
        ("utf-32", None, "UTF-32-LE text (byte order mark), not UTF-8"),
        ("utf-16", "utf-8", "UTF-16-LE text (byte order mark), not utf-8"),
        ("utf-16", "gb18030", "UTF-16-LE text (byte order mark), not gb18030"),
        ("utf-16", "utf-32", "it looks like UTF-16-LE text (byte order mark)"),
        ("utf-16-be", "utf-16-le", "it looks like UTF-16-BE text (NUL bytes)"),
        ("utf-8", "utf-16", "it looks like UTF-8 text (valid UTF-8 with non-ASCII"),
        ("utf-8-sig", "gb18030", "UTF-8 text (byte order mark), not gb18030"),
        ("utf-8", "latin-1", "UTF-8 text (valid UTF-8 with non-ASCII characters), not latin-1"),
        ("gb18030", "utf-16", "it looks like an 8-bit encoding (no NUL bytes)"),
    ],
)
def test_a_file_in_another_encoding_is_refused_whole(
    tmp_path: Path, kind: str, written: str, asked: str | None, looks: str
) -> None:
    path = write(tmp_path, kind, written)
    report, titles = import_(tmp_path, path, asked)
    assert titles == []
    assert report.rejected == 1
    assert report.errors[0].startswith(f"{path}: "), report.errors
    assert looks in report.errors[0]
    if kind == "txt":  # parse says the same of the same bytes
        with pytest.raises(SnapshotParseError, match="looks like") as caught:
            parse_snapshot_bytes(path.read_bytes(), encoding=asked)
        assert looks in str(caught.value)


def test_import_and_parse_read_a_utf16_snapshot_alike(tmp_path: Path) -> None:
    path = write(tmp_path, "txt", "utf-16")
    store = tmp_path / "cli.db"
    runner = CliRunner()
    parsed = runner.invoke(app, ["parse", "--encoding", "utf-16", str(path)])
    assert parsed.exit_code == 0, parsed.output
    imported = runner.invoke(
        app, ["import", "--store", str(store), "--encoding", "utf-16", str(path)]
    )
    assert imported.exit_code == 0, imported.output
    with SQLiteStore(store) as opened:
        (snapshot,) = opened.find()
    assert snapshot.title == json.loads(parsed.stdout)["title"]
    refused = runner.invoke(app, ["parse", str(path)])
    assert refused.exit_code == 1
    assert "looks like UTF-16-LE text" in refused.output


def test_a_utf16_file_that_breaks_midway_keeps_what_came_before(tmp_path: Path) -> None:
    path = tmp_path / "broken.ndjson"
    good = TEXTS["ndjson"].encode("utf-16-le") * 20_000  # 3 MiB: more than one read
    bad = "\ud800".encode("utf-16-le", "surrogatepass")
    path.write_bytes(good + bad + good)
    records = read_records(path, encoding="utf-16-le")
    read = []

    def read_all() -> None:
        read.extend(record.snapshot for record in records)

    with pytest.raises(InvalidRecordError, match=r"cannot read on: not valid utf-16-le") as caught:
        read_all()
    assert len(read) == 60_000 and None not in read
    assert f"surrogate at byte {len(good)}" in str(caught.value)


@pytest.mark.parametrize(
    ("data", "looks"),
    [
        (b"{}", None),
        ("新闻".encode(), "utf-8"),
        ("新闻".encode("gb18030"), None),
        ("{新闻}".encode("utf-16-le"), "utf-16-le"),
        ("{新闻}".encode("utf-16-be"), "utf-16-be"),
        # CJK characters whose low byte is NUL (U+4E00 is 4E 00) among ASCII ones
        ("一丁七万 at 10:00\n".encode("utf-16-be"), "utf-16-be"),
        ("{}".encode("utf-32-be"), "utf-32-be"),
        (bytes(range(256)), None),  # binary: NUL bytes but no pattern
        (bytes(range(256)) * 64, None),
    ],
)
def test_what_a_file_looks_like(data: bytes, looks: str | None) -> None:
    assert looks_like(data)[0] == looks
