"""Reading input, round two (issue #15, items 4, 6 and 19): never lose a record, never crash.

* Leading blank space, however long (beyond the 1 MiB the format is sniffed from, or a
  pipe's first read), is read past: the records after it land, with their line numbers.
* A ``.gz`` that cannot be decompressed, wherever it breaks (its header, its first block,
  inside a long blank run), is one rejection for that file; the next file is read.
* NDJSON lines end at ``\\n``, ``\\r\\n`` or a lone ``\\r`` (old Mac files), mixed or not.
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from newsstore import InvalidRecordError, read_records
from newsstore._reading import _cr_lines
from newsstore._store.sqlite import SQLiteStore
from newsstore_cli.app import app

from ..conftest import SAMPLE

MiB = 1 << 20
AFTER = 999


def line(n: int) -> str:
    return json.dumps(
        {"url": f"https://n.example.com/{n}", "title": f"第{n}篇"}, ensure_ascii=False
    )


def nd(*lines: str, eol: str = "\n") -> bytes:
    return (eol.join(lines) + eol).encode()


def run_import(tmp_path: Path, *paths: Path | str, stdin: bytes | None = None) -> Result:
    after = tmp_path / "after.ndjson"
    after.write_bytes(nd(line(AFTER)))
    args = ["import", "-q", "--store", str(tmp_path / "s.db"), *map(str, paths), str(after)]
    result = CliRunner().invoke(app, args, input=stdin)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(result.output) from result.exception
    assert "Traceback" not in result.output
    return result


def landed(tmp_path: Path) -> set[int]:
    with SQLiteStore(tmp_path / "s.db") as store:
        return {int((s.url or "").rsplit("/", 1)[1]) for s in store.find()}


# -- item 4: leading blank space ------------------------------------------------------------

BLANKS = {
    "2 MiB of newlines": (b"\n" * (2 * MiB), 2 * MiB),
    "2 MiB of spaces": (b" " * (2 * MiB), 0),
    "1 MiB of CRLF": (b"\r\n" * MiB, MiB),
    "BOM, then tabs and a newline": (b"\xef\xbb\xbf" + b"\t" * (2 * MiB) + b"\n", 1),
    "lone CRs and CRLFs cut at 1 MiB": (b" " * (MiB - 1) + b"\r\n" + b"\r" * 10, 11),
}


@pytest.mark.parametrize("blank", list(BLANKS), ids=list(BLANKS))
@pytest.mark.parametrize("name", ["crawl.ndjson", "crawl.dat", "crawl.ndjson.gz"])
def test_ndjson_after_long_blank_space_lands_with_its_line_numbers(
    tmp_path: Path, blank: str, name: str
) -> None:
    prefix, breaks = BLANKS[blank]
    data = prefix + nd(line(1), "{}", line(2))
    path = tmp_path / name
    path.write_bytes(gzip.compress(data, 1) if name.endswith(".gz") else data)
    result = run_import(tmp_path, path)
    assert result.stderr.startswith(f"rejected: {path}:{breaks + 2}: "), result.stderr
    assert landed(tmp_path) == {1, 2, AFTER}


def test_a_json_array_after_long_blank_space(tmp_path: Path) -> None:
    path = tmp_path / "crawl.json"
    path.write_bytes(b"\n" * (3 * MiB) + f"[{line(1)},\n{{}},\n{line(2)}]\n".encode())
    result = run_import(tmp_path, path)
    assert result.stderr.startswith(f"rejected: {path}:{3 * MiB + 2}[1]: "), result.stderr
    assert landed(tmp_path) == {1, 2, AFTER}


def test_a_single_json_object_after_long_blank_space(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    pretty = json.dumps(json.loads(line(1)), indent=2, ensure_ascii=False)
    path.write_bytes(b" \n" * MiB + pretty.encode())
    assert run_import(tmp_path, path).exit_code == 0
    assert landed(tmp_path) == {1, AFTER}


def test_snapshot_text_after_long_blank_space(tmp_path: Path) -> None:
    path = tmp_path / "page.txt"
    path.write_bytes(b"\n" * (2 * MiB) + SAMPLE.read_bytes())
    result = run_import(tmp_path, path)
    assert result.exit_code == 0, result.output
    with SQLiteStore(tmp_path / "s.db") as store:
        assert store.stats().snapshots == 2


def test_standard_input_after_long_blank_space(tmp_path: Path) -> None:
    # A pipe's first read is short of the sniffing size: the blank run spans many reads.
    result = run_import(tmp_path, "-", stdin=b"\n" * (3 * MiB) + nd(line(1), line(2)))
    assert result.exit_code == 0, result.output
    assert landed(tmp_path) == {1, 2, AFTER}


def test_a_stream_without_peek_after_long_blank_space() -> None:
    class Pipe(io.RawIOBase):  # hands out at most 4 KiB a read, as a pipe does
        def __init__(self, data: bytes) -> None:
            self.data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            chunk = self.data.read(min(len(buffer), 4096))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    records = list(read_records(Pipe(b"\r\n" * MiB + nd(line(1), "{}")), name="pipe"))
    assert [(r.line, r.error is None) for r in records] == [(MiB + 1, True), (MiB + 2, False)]


@pytest.mark.parametrize("name", ["blank.ndjson", "blank.json", "blank.ndjson.gz", "blank.txt"])
def test_a_file_of_blank_space_only_is_empty(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    data = b" \r\n\t" * MiB
    path.write_bytes(gzip.compress(data, 1) if name.endswith(".gz") else data)
    result = run_import(tmp_path, path)
    assert result.stderr == f"rejected: {path}: empty file: no records\n"
    assert landed(tmp_path) == {AFTER}


def test_a_bom_is_stripped_only_as_a_whole(tmp_path: Path) -> None:
    # "\xef" starts many UTF-8 characters; only the three bytes of a BOM are blank.
    path = tmp_path / "page.txt"
    path.write_bytes("！".encode() + b"\n" * 10)
    result = run_import(tmp_path, path)
    assert result.stderr.startswith(f"rejected: {path}:"), result.stderr
    assert "empty file" not in result.stderr


# -- item 6: broken .gz files ----------------------------------------------------------------


def _gz(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("at", [0, 1, 2, 3, 9, 10, 11, 12, 20, 40])
@pytest.mark.parametrize("name", ["c.ndjson.gz", "c.json.gz", "c.gz"])
def test_a_gzip_file_corrupted_near_its_start_is_one_rejection(
    tmp_path: Path, at: int, name: str
) -> None:
    data = bytearray(gzip.compress(nd(*(line(n) for n in range(1, 200)))))
    for offset in range(4):
        data[at + offset] ^= 0xA5
    path = _gz(tmp_path, name, bytes(data))
    result = run_import(tmp_path, path, tmp_path / "good.ndjson")
    assert AFTER in landed(tmp_path)
    lines = result.stderr.splitlines()
    assert any(ln.startswith(f"rejected: {path}") for ln in lines), result.stderr
    assert all(ln.startswith("rejected: ") for ln in lines), result.stderr


def test_a_gzip_file_broken_inside_a_long_blank_run(tmp_path: Path) -> None:
    # The blank run is read past while sniffing: the error strikes there, not mid-read.
    data = bytearray(gzip.compress(b"\n" * (8 * MiB) + nd(line(1)), 9))
    data[len(data) // 3] ^= 0xFF
    path = _gz(tmp_path, "c.ndjson.gz", bytes(data))
    result = run_import(tmp_path, path)
    assert result.stderr.startswith(f"rejected: {path}: cannot read"), result.stderr
    assert landed(tmp_path) == {AFTER}


def test_a_gzip_stream_that_is_not_gzip_past_its_magic(tmp_path: Path) -> None:
    result = run_import(tmp_path, "-", stdin=b"\x1f\x8b" + b"\x00" * 100)
    assert result.stderr.startswith("rejected: <stdin>: cannot read"), result.stderr
    assert landed(tmp_path) == {AFTER}


# -- item 19: CR-only line endings -----------------------------------------------------------


@pytest.mark.parametrize("eol", ["\r", "\r\n", "\n"], ids=["CR", "CRLF", "LF"])
@pytest.mark.parametrize("name", ["crawl.ndjson", "crawl.dat", "crawl.ndjson.gz"])
def test_ndjson_lines_end_at_any_line_break(tmp_path: Path, eol: str, name: str) -> None:
    data = nd(line(1), "", "{}", line(2), eol=eol)
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    result = run_import(tmp_path, path)
    assert result.stderr.startswith(f"rejected: {path}:3: "), result.stderr
    assert landed(tmp_path) == {1, 2, AFTER}


def test_mixed_line_endings_each_end_a_line(tmp_path: Path) -> None:
    path = tmp_path / "mixed.ndjson"
    path.write_bytes(f"{line(1)}\r{line(2)}\n{{}}\r\n{line(3)}\r\r{line(4)}".encode())
    result = run_import(tmp_path, path)
    assert result.stderr.startswith(f"rejected: {path}:3: "), result.stderr
    assert landed(tmp_path) == {1, 2, 3, 4, AFTER}


def test_a_cr_only_file_on_standard_input(tmp_path: Path) -> None:
    result = run_import(tmp_path, "-", stdin=nd(*(line(n) for n in range(1, 501)), eol="\r"))
    assert result.exit_code == 0, result.output
    assert len(landed(tmp_path)) == 501


def test_a_pretty_printed_object_with_cr_endings_is_one_json_record(tmp_path: Path) -> None:
    path = tmp_path / "one.dat"
    pretty = json.dumps(json.loads(line(1)), indent=2, ensure_ascii=False)
    path.write_bytes(pretty.replace("\n", "\r").encode())
    assert run_import(tmp_path, path).exit_code == 0
    assert landed(tmp_path) == {1, AFTER}


def test_a_cr_inside_a_line_rejects_only_its_parts(tmp_path: Path) -> None:
    # A raw CR is not valid inside a JSON string, so it can only be a line break.
    path = tmp_path / "crawl.ndjson"
    path.write_bytes(nd(line(1), line(2)[:20] + "\r" + line(2)[20:], line(3)))
    result = run_import(tmp_path, path)
    assert [ln.split(": ")[1] for ln in result.stderr.splitlines()] == [
        f"{path}:2",
        f"{path}:3",
    ]
    assert landed(tmp_path) == {1, 3, AFTER}


@settings(max_examples=300, deadline=None)
@given(data=st.binary().map(lambda b: bytes(b"ab\r\n"[x % 4] for x in b)), size=st.integers(1, 7))
def test_cr_lines_splits_as_splitlines_does_in_any_chunking(data: bytes, size: int) -> None:
    assert list(_cr_lines(io.BytesIO(data), size)) == data.splitlines(keepends=True)


def test_read_records_raises_for_an_unreadable_gzip_file(tmp_path: Path) -> None:
    path = _gz(tmp_path, "x.ndjson.gz", b"\x1f\x8b\x08\x00" + b"\xff" * 64)
    with pytest.raises(InvalidRecordError, match="cannot read"):
        list(read_records(path))


@pytest.mark.parametrize(
    "fields",
    [
        {"title": "x", "images": [{"position": "3"}]},
        {"title": "x", "images": [{"position": True}]},
        {"title": "x", "images": [{"position": "３"}]},
        {"title": "x", "images": [{"position": 2.0}]},
        {"title": " \u3000\t"},
    ],
    ids=["string", "boolean", "full-width", "float", "blank-title"],
)
def test_lax_values_are_refused_with_their_field(tmp_path, fields) -> None:
    # Issue #15, item 16: strict where a user would expect strict.
    import json

    from newsstore import read_records

    path = tmp_path / "a.ndjson"
    path.write_text(json.dumps(fields, ensure_ascii=False) + "\n", encoding="utf-8")
    (record,) = read_records(path)
    assert record.snapshot is None and record.error is not None
    assert ("images.0.position" if "images" in fields else "title") in str(record.error)


def test_numbers_as_times_are_unix_seconds_never_guessed_milliseconds() -> None:
    # Issue #15, item 14: -62135596800 is 0001-01-01 in seconds (out of range), not 1968.
    from datetime import datetime, timezone

    from pydantic import ValidationError

    from newsstore import Snapshot

    seconds = Snapshot.model_validate({"title": "x", "published_at": 1_700_000_000})
    assert seconds.published_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
    early = Snapshot.model_validate_json('{"title": "x", "published_at": -62135000000}')
    assert early.published_at is not None and early.published_at.year == 1
    for value in (-62135596800, 1_700_000_000_123, 10**20):
        with pytest.raises(ValidationError):
            Snapshot.model_validate({"title": "x", "published_at": value})
