"""Readers: every format, streamed, with file and line (or index) on every record."""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
from pathlib import Path

import pytest

from newsstore import InvalidRecordError, Record, read_records
from newsstore import _jsonarray as jsonarray_module
from newsstore._files import iter_files

from ..conftest import SAMPLE


def rec(n: int, **extra: object) -> dict[str, object]:
    return {"url": f"https://n.example.com/{n}", "title": f"第{n}篇", **extra}


def line(n: int, **extra: object) -> str:
    return json.dumps(rec(n, **extra), ensure_ascii=False)


def read(path: Path | str, **kw: object) -> list[Record]:
    return list(read_records(path, **kw))  # type: ignore[arg-type]


def test_ndjson_with_bom_crlf_and_blank_lines_keeps_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "a.ndjson"
    path.write_bytes(b"\xef\xbb\xbf" + f"{line(1)}\r\n\r\n{line(2)}\r\n[1]\r\n".encode())
    got = read(path)
    assert [(r.line, r.snapshot.title if r.snapshot else None) for r in got] == [
        (1, "第1篇"),
        (3, "第2篇"),
        (4, None),
    ]
    assert got[2].error is not None
    assert str(got[2].error) == f"{path}:4: expected a JSON object, got an array"


def test_json_array_streams_elements_with_index_and_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(jsonarray_module, "_CHUNK", 16)  # force elements across buffer refills
    path = tmp_path / "a.json"
    body = ",\n".join(json.dumps(rec(i), ensure_ascii=False, indent=1) for i in range(5))
    path.write_text("[\n" + body + "\n]\n", encoding="utf-8")
    got = read(path)
    assert [r.index for r in got] == [0, 1, 2, 3, 4]
    assert [r.snapshot.title for r in got if r.snapshot] == [f"第{i}篇" for i in range(5)]
    assert got[1].line == 6  # each pretty element spans 4 lines, after the "[" line
    assert json.loads(got[3].raw) == rec(3)


def test_json_array_with_a_bad_element_keeps_the_others(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text(f'[{line(1)}, {{"title": 5}}, {line(3)}]', encoding="utf-8")
    got = read(path)
    assert [r.snapshot is not None for r in got] == [True, False, True]
    assert str(got[1].error).startswith(f"{path}:1[1]: title: Input should be a valid string")


def test_truncated_json_array_yields_what_came_before_then_fails(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(f"[{line(1)},\n{line(2)[:20]}", encoding="utf-8")
    reader = read_records(path)
    assert next(reader).snapshot is not None
    with pytest.raises(InvalidRecordError, match=r"t\.json:2\[1\]: truncated JSON"):
        next(reader)


def test_single_pretty_object(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps(rec(1), indent=2), encoding="utf-8")
    assert [r.snapshot.title for r in read(path) if r.snapshot] == ["第1篇"]


def test_extended_json_relaxed_and_canonical(tmp_path: Path) -> None:
    path = tmp_path / "e.ndjson"
    relaxed = rec(1, published_at={"$date": "2023-11-14T03:19:00Z"})
    canonical = rec(
        2,
        published_at={"$date": {"$numberLong": "1699931940000"}},
        images=[{"position": {"$numberInt": "2"}}],
    )
    unsupported = rec(3, title={"$binary": {"base64": "AA==", "subType": "00"}})
    path.write_text("\n".join(json.dumps(r) for r in (relaxed, canonical, unsupported)) + "\n")
    got = read(path)
    assert got[0].snapshot and got[0].snapshot.published_at
    assert got[0].snapshot.published_at.isoformat() == "2023-11-14T03:19:00+00:00"
    assert got[1].snapshot and got[1].snapshot.published_at == got[0].snapshot.published_at
    assert got[1].snapshot.images[0].position == 2
    assert got[2].error is not None and "unsupported Extended JSON type $binary" in str(
        got[2].error
    )


def test_nan_and_infinity_are_not_json(tmp_path: Path) -> None:
    path = tmp_path / "n.ndjson"
    path.write_text('{"title": NaN}\n{"title": "x", "url": Infinity}\n')
    errors = [str(r.error) for r in read(path)]
    assert all("NaN is not valid JSON" in e or "Infinity is not valid JSON" in e for e in errors)


def test_gzip_and_stdin(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "a.ndjson.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fp:
        fp.write(line(1) + "\n" + line(2) + "\n")
    assert len([r for r in read(path) if r.snapshot]) == 2

    stdin = io.TextIOWrapper(io.BytesIO((line(7) + "\n").encode()), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    got = read("-")
    assert got[0].source == "<stdin>" and got[0].snapshot and got[0].snapshot.title == "第7篇"


def test_snapshot_text_and_its_errors(tmp_path: Path) -> None:
    assert read(SAMPLE)[0].snapshot is not None
    junk = tmp_path / "junk.txt"
    junk.write_text("just a line\nand another\n", encoding="utf-8")
    got = read(junk)
    assert got[0].error is not None and str(got[0].error).startswith(f"{junk}:")


def test_empty_and_binary_files_are_refused_clearly(tmp_path: Path) -> None:
    empty = tmp_path / "empty.ndjson"
    empty.write_bytes(b"\n \n")
    with pytest.raises(InvalidRecordError, match="empty file"):
        read(empty)
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(InvalidRecordError, match="binary file"):
        read(binary)


def test_directories_recurse_filter_and_stay_inside(tmp_path: Path) -> None:
    root = tmp_path / "crawl"
    (root / "b").mkdir(parents=True)
    (root / "a.ndjson").write_text(line(1))
    (root / "b" / "c.ndjson").write_text(line(2))
    (root / "b" / "notes.md").write_text("x")
    outside = tmp_path / "secret.ndjson"
    outside.write_text(line(3))
    os.symlink(outside, root / "link.ndjson")
    os.symlink(root / "a.ndjson", root / "b" / "inside.ndjson")

    found = [Path(p).relative_to(root).as_posix() for p in iter_files([root], glob="*.ndjson")]
    assert found == ["a.ndjson", "b/c.ndjson", "b/inside.ndjson"]
    followed = list(iter_files([root], glob="*.ndjson", follow_symlinks=True))
    assert str(root / "link.ndjson") in followed


def test_ndjson_on_a_pipe_is_streamed_even_when_the_first_line_arrives_in_pieces(
    tmp_path: Path,
) -> None:
    import subprocess

    # A writer that sends half a line, pauses, then the rest: the reader's peek sees a
    # partial first line and must still stream NDJSON rather than read a single object.
    script = (
        "import sys, time; data = sys.argv[1].encode(); half = len(data) // 2;"
        "sys.stdout.buffer.write(data[:half]); sys.stdout.flush(); time.sleep(0.3);"
        "sys.stdout.buffer.write(data[half:]); sys.stdout.flush()"
    )
    payload = line(1) + "\n" + line(2) + "\n"
    reader = (
        "import sys; from newsstore import read_records;print([r.line for r in read_records('-')])"
    )
    writer = subprocess.Popen([sys.executable, "-c", script, payload], stdout=subprocess.PIPE)
    out = subprocess.run(
        [sys.executable, "-c", reader],
        stdin=writer.stdout,
        capture_output=True,
        text=True,
        check=True,
    )
    writer.wait()
    assert out.stdout.strip() == "[1, 2]"


def test_bson_size_matches_the_driver_for_a_snapshot(make) -> None:
    import bson

    from newsstore._identity import bson_size

    snapshot = make(images=[{"position": 3, "caption": None}], paragraphs=["", "中文", "x" * 300])
    doc = snapshot.model_dump(exclude={"stored"})
    doc["big"] = 2**40
    assert bson_size(doc) == len(bson.encode(doc))


def test_read_records_takes_a_binary_file_object_plain_or_gzip() -> None:
    import gzip
    import io

    lines = b'{"title": "\xe7\xac\xac1\xe7\xaf\x87"}\n\n{"title": ""}\n'
    for data in (lines, gzip.compress(lines)):
        stream = io.BytesIO(data)
        got = list(read_records(stream, name="body"))
        assert [(r.source, r.line, r.snapshot.title if r.snapshot else None) for r in got] == [
            ("body", 1, "第1篇"),
            ("body", 3, None),
        ]
        assert got[1].error is not None and "body:3" in str(got[1].error)
        assert not stream.closed  # the caller's to close
