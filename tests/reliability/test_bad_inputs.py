"""The bad input catalogue (issue #7): each way an input file can be wrong, one row each.

Every case is a file generated from the table ``CASES`` (big, binary and nested inputs are
not worth keeping in git; ``python -m tests.reliability.test_bad_inputs DIR`` writes them
all out). It is imported through the command line, ``newsstore import --rejects R FILE
after.ndjson``, into a fresh SQLite store, and the test checks that:

* stderr holds exactly the expected one-line errors, each naming the file and the line
  (``file:3:``) or the array element (``file:1[2]:``) — and no traceback;
* every valid record around the bad ones landed, and nothing else did, including the one
  in ``after.ndjson``: the import goes on after a file that cannot be read to its end;
* every rejection is in the rejects file, at its place, with the record's own text;
* the exit code is 1 when something was rejected, 0 otherwise.

An expected error is a prefix: it spells out the location and the start of the message
(pydantic's wording after that is not newsstore's to pin).
"""

from __future__ import annotations

import gzip
import json
import re
import sys
import traceback
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsstore._store import Store
from newsstore._store.sqlite import SQLiteStore
from newsstore_cli.app import app

from ..conftest import SAMPLE

UTC = timezone.utc
AFTER = 999_999  # the record of after.ndjson, read after every case file
SAMPLE_KEY = "content:416eab2c0c7802e3eec1b3ba004c83cb"
MiB = 1024 * 1024


def url(n: int) -> str:
    return f"https://n.example.com/{n}"


def rec(n: int, **fields: object) -> dict[str, object]:
    return {"url": url(n), "title": f"第{n}篇", **fields}


def line(n: int, **fields: object) -> str:
    return json.dumps(rec(n, **fields), ensure_ascii=False)


def nd(*lines: str, eol: str = "\n") -> bytes:
    """NDJSON: the lines as given (line k of the file is lines[k-1])."""
    return (eol.join(lines) + eol).encode()


def arr(*elements: str) -> bytes:
    """A JSON array with element i on line i + 1."""
    return ("[" + ",\n".join(elements) + "]\n").encode()


def _sample_without_title() -> bytes:
    text = SAMPLE.read_text(encoding="utf-8")
    title = text.splitlines()[3]
    return "\n".join(ln for ln in text.splitlines() if ln != title).encode()


def _deep(depth: int = 100_000) -> str:
    return "[" * depth + "]" * depth


def _gzip_cut(keep: float) -> Callable[[], bytes]:
    def build() -> bytes:
        body = nd(*(line(n, paragraphs=[f"{n}" * 40]) for n in range(1, 3001)))
        data = gzip.compress(body)
        return data[: int(len(data) * keep)]

    return build


def _check_gzip_prefix(store: Store, db: Path) -> None:
    """What a truncated .gz held up to (about) the cut landed, and nothing made up.

    The reader decompresses in blocks, so the lines of the last block before the cut
    (8 KiB at most) are not read; the file is reported as not read to its end.
    """
    complete = zlib.decompressobj(wbits=31).decompress(_gzip_cut(0.5)()).count(b"\n")
    numbers = sorted(int(s.stored.key.rsplit("/", 1)[1]) for s in store.find() if s.stored)
    assert numbers[-1] == AFTER
    landed = numbers[:-1]
    assert landed == list(range(1, len(landed) + 1))
    assert complete - 100 <= len(landed) <= complete
    assert store.get(url(len(landed))).paragraphs == [f"{len(landed)}" * 40]


def _check_published(expected_utc: datetime, expected_text: str, zone: str | None = None):
    def check(store: Store, db: Path) -> None:
        with SQLiteStore(db, timezone=zone or "Asia/Shanghai") as st:
            got = st.get(url(1)).published_at
        assert got == expected_utc
        assert got is not None and got.isoformat() == expected_text

    return check


def _check_title(n: int, title: str):
    def check(store: Store, db: Path) -> None:
        assert store.get(url(n)).title == title

    return check


@dataclass(frozen=True)
class Case:
    id: str
    name: str
    data: bytes | Callable[[], bytes]
    # Record numbers (see url()) or keys that must be stored, and nothing else; None when
    # the check decides.
    landed: tuple[int | str, ...] | None
    errors: tuple[str, ...] = ()  # expected "rejected: <file><error>" lines, as prefixes
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    check: Callable[[Store, Path], None] | None = None

    def content(self) -> bytes:
        return self.data() if callable(self.data) else self.data


CASES: list[Case] = [
    # -- truncated or malformed JSON ----------------------------------------------------------
    Case(
        "truncated-ndjson-line",
        "a.ndjson",
        nd(line(1), line(2)[:25], line(3)),
        (1, 3),
        (":2: Unterminated string",),
    ),
    Case(
        "truncated-json-array",
        "a.json",
        arr(line(1), line(2), line(3)[:25]).rstrip(b"]\n"),
        (1, 2),
        (":3[2]: truncated JSON",),
    ),
    Case(
        "json-array-not-closed",
        "a.json",
        arr(line(1), line(2)).rstrip(b"]\n"),
        (1, 2),
        (":2[2]: truncated JSON: the array is not closed",),
    ),
    Case(
        "json-array-one-bad-element",
        "a.json",
        arr(line(1), json.dumps({"url": url(2), "title": 5}), line(3)),
        (1, 3),
        (":2[1]: title: Input should be a valid string",),
    ),
    Case(
        "json-array-data-after-the-array",
        "a.json",
        arr(line(1)) + arr(line(2)),  # two arrays back to back: the second is not dropped silently
        (1,),
        (":2: invalid JSON: data after the closing ']'",),
    ),
    Case(
        "json-top-level-scalar",
        "a.json",
        b"42\n",
        (),
        (":1: expected a JSON object, got a number",),
    ),
    Case(
        "ndjson-blank-and-non-object-lines",
        "a.ndjson",
        nd(line(1), "", "[1, 2]", '"text"', "null", "42", "not json", "", line(2)),
        (1, 2),
        (
            ":3: expected a JSON object, got an array",
            ":4: expected a JSON object, got a string",
            ":5: expected a JSON object, got null",
            ":6: expected a JSON object, got a number",
            ":7: Expecting value",
        ),
    ),
    # -- wrong types, missing and unknown fields ----------------------------------------------
    Case(
        "wrong-types",
        "a.ndjson",
        nd(
            line(1, title=5),
            line(2, paragraphs="one paragraph"),
            line(3, breadcrumbs=[1, 2]),
            line(4, images=[{"position": -1}]),
            line(5, url=5),
            line(6),
        ),
        (6,),
        (
            ":1: title: Input should be a valid string",
            ":2: paragraphs: Input should be a valid array",
            ":3: breadcrumbs.0: Input should be a valid string",
            ":4: images.0.position: Input should be greater than or equal to 0",
            ":5: url: Input should be a valid string",
        ),
    ),
    Case(
        "integer-too-big-for-mongodb",
        "a.ndjson",
        nd(line(1, images=[{"position": 2**63}]), line(2, images=[{"position": 2**63 - 1}])),
        (2,),
        (":1: images.0.position: Input should be less than or equal to 9223372036854775807",),
    ),
    Case(
        "missing-required-fields",
        "a.ndjson",
        nd(json.dumps({"url": url(1)}), "{}", line(3, title=""), line(4, related=[{"title": "x"}])),
        (),
        (
            ":1: title: Field required",
            ":2: title: Field required",
            ":3: title: String should have at least 1 character",
            ":4: related.0.published_at: Field required",
        ),
    ),
    Case(
        "unknown-fields",
        "a.ndjson",
        nd(
            line(1, colour="red"),
            line(2, related=[{"published_at": "2023-11-14 10:00:00", "likes": 3}]),
            line(3),
        ),
        (3,),
        (
            ":1: colour: Extra inputs are not permitted",
            ":2: related.0.likes: Extra inputs are not permitted",
        ),
    ),
    Case(
        "forged-stored-part-is-recomputed",
        "a.ndjson",
        nd(line(1, stored={"key": "https://victim.example.com/", "content_hash": "0" * 64})),
        (1,),  # stored under its own URL, not the key it claims
    ),
    # -- dates --------------------------------------------------------------------------------
    Case(
        "impossible-dates",
        "a.ndjson",
        nd(
            line(1, published_at="2023-02-30 10:00:00"),
            line(2, published_at="2023-11-14 25:00:00"),
            line(3, snapshot_at="2023-11-14T10:00:00+25:00"),
            line(4, published_at="2024-02-29 10:00:00"),  # a leap day exists
        ),
        (4,),
        (
            ":1: published_at: Input should be a valid datetime",
            ":2: published_at: Input should be a valid datetime",
            ":3: snapshot_at: Input should be a valid datetime",
        ),
    ),
    Case(
        "date-without-zone-is-beijing-time",
        "a.ndjson",
        nd(line(1, published_at="2023-11-14 11:19:00")),
        (1,),
        check=_check_published(
            datetime(2023, 11, 14, 3, 19, tzinfo=UTC), "2023-11-14T11:19:00+08:00"
        ),
    ),
    Case(
        "date-without-zone-in-NEWSSTORE_TIMEZONE",
        "a.ndjson",
        nd(line(1, published_at="2023-11-14 11:19:00")),
        (1,),
        env={"NEWSSTORE_TIMEZONE": "Europe/Paris"},
        check=_check_published(
            datetime(2023, 11, 14, 10, 19, tzinfo=UTC), "2023-11-14T11:19:00+01:00", "Europe/Paris"
        ),
    ),
    Case(
        "date-with-zone-keeps-its-instant",
        "a.ndjson",
        nd(line(1, published_at="2023-11-14T11:19:00-05:00")),
        (1,),
        check=_check_published(
            datetime(2023, 11, 14, 16, 19, tzinfo=UTC), "2023-11-15T00:19:00+08:00"
        ),
    ),
    Case(
        "out-of-range-years",
        "a.ndjson",
        nd(
            line(1, published_at="0000-01-01T00:00:00Z"),
            line(2, published_at="10000-01-01T00:00:00Z"),
            line(3, published_at="0001-01-01 00:00:00"),  # year 0 in UTC: no datetime holds it
            line(4, published_at="9999-12-31T23:00:00-05:00"),  # year 10000 in UTC
            line(5, related=[{"published_at": "0001-01-01 00:00:00"}]),
            line(6, published_at={"$date": {"$numberLong": "9" * 30}}),
            line(7, published_at="1900-01-01 00:00:00"),
            line(8, published_at=-2208988800),  # Unix seconds: 1900-01-01T00:00Z
        ),
        (7, 8),
        (
            ":1: published_at: Input should be a valid datetime",
            ":2: published_at: Input should be a valid datetime",
            ":3: published_at: Value error, time out of range",
            ":4: published_at: Value error, time out of range",
            ":5: related.0.published_at: Value error, time out of range",
            ":6: $date out of range",
        ),
    ),
    # -- JSON that is not JSON ----------------------------------------------------------------
    Case(
        "nan-and-infinity-literals",
        "a.ndjson",
        nd(
            line(1),
            '{"url": "https://n.example.com/2", "title": "x", "images": [{"position": NaN}]}',
            '{"url": "https://n.example.com/3", "title": Infinity}',
            '{"url": "https://n.example.com/4", "title": "x", "n": -Infinity}',
            line(5),
        ),
        (1, 5),
        (
            ":2: NaN is not valid JSON",
            ":3: Infinity is not valid JSON",
            ":4: -Infinity is not valid JSON",
        ),
    ),
    Case(
        "nan-inside-a-json-array-element",
        "a.json",
        arr(line(1), '{"url": "https://n.example.com/2", "title": NaN}', line(3)),
        (1, 3),
        (":2[1]: NaN is not valid JSON",),
    ),
    Case(
        "lone-surrogate-escape",
        "a.ndjson",
        nd(line(1), '{"url": "https://n.example.com/2", "title": "\\ud800"}', line(3)),
        (1, 3),
        (":2: Invalid JSON",),  # pydantic's words for a lone surrogate (see RELIABILITY.md)
    ),
    Case(
        "deeply-nested-ndjson-line",
        "a.ndjson",
        lambda: nd(line(1), _deep(), line(3)),
        (1, 3),
        (":2: not valid JSON",),
    ),
    Case(
        "deeply-nested-json-array-element",
        "a.json",
        lambda: arr(line(1), _deep(), line(3)),
        (1, 3),
        (":2[1]: not valid JSON: nested too deeply",),
    ),
    Case(
        "deeply-nested-single-object",
        "a.json",
        lambda: ('{"title": ' + _deep() + "}").encode(),
        (),
        (":1: not valid JSON",),
    ),
    Case(
        "duplicate-keys-last-wins",
        "a.ndjson",
        nd('{"url": "https://n.example.com/1", "title": "first", "title": "last"}'),
        (1,),
        check=_check_title(1, "last"),
    ),
    # -- encodings and line ends --------------------------------------------------------------
    Case(
        "invalid-utf8-ndjson-line",
        "a.ndjson",
        nd(line(1)) + b'{"url": "https://n.example.com/2", "title": "\xff\xfe"}\n' + nd(line(3)),
        (1, 3),
        (":2: invalid UTF-8: invalid start byte at byte 45",),
    ),
    Case(
        "invalid-utf8-json-array-element",
        "a.json",
        b"["
        + line(1).encode()
        + b',\n{"url": "https://n.example.com/2", "title": "\xc3("},\n'
        + line(3).encode()
        + b"]",
        (1, 3),
        (":2[1]: invalid UTF-8 at byte 45 of the record",),
    ),
    Case(
        "utf8-bom-ndjson",
        "a.ndjson",
        b"\xef\xbb\xbf" + nd(line(1), line(2, title=7), line(3)),
        (1, 3),
        (":2: title: Input should be a valid string",),
    ),
    Case("utf8-bom-json-array", "a.json", b"\xef\xbb\xbf" + arr(line(1), line(2)), (1, 2)),
    Case(
        "crlf-ndjson",
        "a.ndjson",
        nd(line(1), "", line(2, title=7), line(3), eol="\r\n"),
        (1, 3),
        (":3: title: Input should be a valid string",),
    ),
    Case(
        "crlf-json-array",
        "a.json",
        arr(line(1), line(2, title=7), line(3)).replace(b"\n", b"\r\n"),
        (1, 3),
        (":2[1]: title: Input should be a valid string",),
    ),
    Case("empty-file", "a.ndjson", b"", (), (": empty file: no records",)),
    Case("blank-file", "a.json", b" \r\n\n\t\n", (), (": empty file: no records",)),
    Case(
        "binary-file",
        "blob.bin",
        bytes(range(256)) * 64,
        (),
        (": binary file: not JSON, NDJSON or snapshot text",),
    ),
    Case(
        "truncated-gzip",
        "a.ndjson.gz",
        _gzip_cut(0.5),
        None,  # see _check_gzip_prefix
        (": cannot read on: Compressed file ended before the end-of-stream marker",),
        check=_check_gzip_prefix,
    ),
    Case("not-gzip", "a.ndjson.gz", nd(line(1)), (), (": cannot read: Not a gzipped file",)),
    # -- sizes --------------------------------------------------------------------------------
    Case(
        "record-of-50-MB",
        "a.ndjson",
        lambda: nd(line(1), line(2, paragraphs=["x" * (50 * MiB)]), line(3)),
        (1, 3),
        (":2: record is 50.0 MiB; the limit is 16 MiB (MongoDB's document size limit)",),
    ),
    Case(
        "record-over-16-MiB-in-a-json-array",
        "a.json",
        lambda: arr(line(1), line(2, paragraphs=["x" * (17 * MiB)]), line(3)),
        (1, 3),
        (":2[1]: record is 17.0 MiB; the limit is 16 MiB",),
    ),
    Case(
        # 6 MB as JSON, 19 MiB as a MongoDB document: BSON spends 13 bytes on each "".
        "record-over-mongodb-limit-only-as-bson",
        "a.ndjson",
        lambda: nd(line(1), line(2, paragraphs=[""] * 1_500_000), line(3)),
        (1, 3),
        (":2: record is 19.0 MiB; the limit is 16 MiB",),
    ),
    # -- URLs ---------------------------------------------------------------------------------
    Case(
        "url-not-a-url",
        "a.ndjson",
        nd(line(1, url="not a url"), line(2, url="/relative/path"), line(3)),
        (3,),
        (
            ":1: not an absolute http(s) URL: 'not a url'",
            ":2: not an absolute http(s) URL: '/relative/path'",
        ),
    ),
    Case(
        "url-javascript-and-data-schemes",
        "a.ndjson",
        nd(
            line(1, url="javascript:alert(document.cookie)"),
            line(2, url="data:text/html,<script>alert(1)</script>"),
            line(3, url="JaVaScRiPt://n.example.com/%0aalert(1)"),
            line(4),
        ),
        (4,),
        (
            ":1: not an absolute http(s) URL: 'javascript:alert(document.cookie)'",
            ":2: not an absolute http(s) URL: 'data:text/html,<script>alert(1)</script>'",
            ":3: not an absolute http(s) URL",
        ),
    ),
    Case(
        "url-with-spaces-is-percent-encoded",
        "a.ndjson",
        nd(
            line(1, url=" https://n.example.com/a b "),
            line(2, url="http://www.n.example.com/a%20b"),
        ),
        ("https://n.example.com/a%20b",),  # both spellings: one key
    ),
    Case(
        "url-with-unicode-host-is-punycode",
        "a.ndjson",
        nd(line(1, url="https://例子.中国/新闻"), line(2, url="https://bad host.example.com/")),
        ("https://xn--fsqu00a.xn--fiqs8s/%E6%96%B0%E9%97%BB",),
        (":2: invalid host 'bad host.example.com'",),
    ),
    # -- snapshot text ------------------------------------------------------------------------
    Case(
        "snapshot-text-without-title",
        "page.txt",
        _sample_without_title,
        (),
        (":5: no title: found the meta line where the title should be",),
    ),
    Case(
        "gb18030-text-detected",
        "page.txt",
        lambda: SAMPLE.read_text(encoding="utf-8").encode("gb18030"),
        (SAMPLE_KEY,),
    ),
    Case(
        "gb18030-text-read-as-utf8-is-refused",
        "page.txt",
        lambda: SAMPLE.read_text(encoding="utf-8").encode("gb18030"),
        (),
        (":1: not valid utf-8 text: invalid start byte at byte 0",),
        args=("--encoding", "utf-8"),
    ),
    # -- Extended JSON ------------------------------------------------------------------------
    Case(
        "extended-json-unsupported-types",
        "a.ndjson",
        nd(
            line(1, title={"$binary": {"base64": "AA==", "subType": "00"}}),
            line(2, source={"$oid": "5f1d7f3e9b1e8b1e8b1e8b1e"}),
            line(3, category={"$regex": "^a", "$options": "i"}),
            line(4, images=[{"position": {"$numberInt": 1.5}}]),
            line(5, published_at={"$date": "2023-11-14T03:19:00Z"}),
        ),
        (5,),
        (
            ":1: unsupported Extended JSON type $binary",
            ":2: unsupported Extended JSON type $oid",
            ":3: unsupported Extended JSON type $regex",
            ":4: $numberInt must hold a string",
        ),
    ),
    Case(
        "extended-json-unsupported-type-in-a-json-array",
        "a.json",
        arr(line(1), line(2, source={"$oid": "5f1d7f3e9b1e8b1e8b1e8b1e"}), line(3)),
        (1, 3),
        (":2[1]: unsupported Extended JSON type $oid",),
    ),
]

_LOCATION = re.compile(r"^(?::(\d+)(?:\[(\d+)\])?)?: ")


def _expected_key(item: int | str) -> str:
    return url(item) if isinstance(item, int) else item


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSSTORE_TIMEZONE", raising=False)
    monkeypatch.delenv("NEWSSTORE_STORE", raising=False)
    path = tmp_path / case.name
    data = case.content()
    path.write_bytes(data)
    after = tmp_path / "after.ndjson"
    after.write_bytes(nd(line(AFTER)))
    rejects = tmp_path / "rejects.ndjson"
    db = tmp_path / "store.db"

    result = CliRunner().invoke(
        app,
        [
            "import",
            "--store",
            str(db),
            "--rejects",
            str(rejects),
            *case.args,
            str(path),
            str(after),
        ],
        env=case.env,
    )

    if result.exception is not None and not isinstance(result.exception, SystemExit):
        pytest.fail("".join(traceback.format_exception(result.exception)))
    assert "Traceback" not in result.output
    # One line on stdout (the counts), one line per rejection on stderr.
    assert result.stdout.count("\n") == 1
    assert result.stdout.endswith(f", {len(case.errors)} rejected\n"), result.stdout
    got = result.stderr.splitlines()
    assert len(got) == len(case.errors), result.stderr
    for message, expected in zip(got, case.errors, strict=True):
        assert message.startswith(f"rejected: {path}{expected}"), (message, expected)
    assert result.exit_code == (1 if case.errors else 0)

    # Every valid record around the bad ones landed, and nothing else.
    with SQLiteStore(db) as store:
        keys = {s.stored.key for s in store.find() if s.stored}
        if case.landed is not None:
            assert keys == {_expected_key(k) for k in (*case.landed, AFTER)}
        if case.check is not None:
            case.check(store, db)

    # Every rejection is in the rejects file, where it was, with its text.
    entries = [json.loads(text) for text in rejects.read_text(encoding="utf-8").splitlines()]
    assert len(entries) == len(case.errors)
    lines = data.splitlines() if len(data) < MiB else []
    for entry, expected in zip(entries, case.errors, strict=True):
        match = _LOCATION.match(expected)
        assert match is not None, expected
        at_line, at_index = (int(g) if g is not None else None for g in match.groups())
        assert (entry["source"], entry["line"], entry["index"]) == (str(path), at_line, at_index)
        assert entry["error"] and "\n" not in entry["error"]
        if at_line is not None and at_index is None and path.suffix == ".ndjson" and lines:
            original = lines[at_line - 1].removeprefix(b"\xef\xbb\xbf").strip()
            # A byte that is not UTF-8 is kept as \xNN: no record, so no re-import of it.
            text = original.decode("utf-8", errors="backslashreplace")
            if entry["record"] is not None:
                assert entry["record"] == json.loads(text)
            else:
                assert entry["raw"] == text
        elif at_index is not None and "not closed" not in expected:
            assert entry["record"] is not None or entry["raw"]


def test_the_catalogue_has_at_least_30_cases() -> None:
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


def test_rejects_file_that_is_also_the_input_is_refused_before_it_is_emptied(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.ndjson"
    path.write_bytes(nd(line(1), "{}"))
    before = path.read_bytes()
    result = CliRunner().invoke(
        app, ["import", "--store", str(tmp_path / "s.db"), "--rejects", str(path), str(path)]
    )
    assert result.exit_code == 1
    assert result.stderr == f"Error: {path}: is also the rejects file, which would overwrite it\n"
    assert path.read_bytes() == before


def test_rejects_file_inside_an_imported_directory_is_not_read_back(tmp_path: Path) -> None:
    crawl = tmp_path / "crawl"
    crawl.mkdir()
    (crawl / "a.ndjson").write_bytes(nd(line(1), "{}"))
    rejects = crawl / "rejects.ndjson"
    result = CliRunner().invoke(
        app, ["import", "--store", str(tmp_path / "s.db"), "--rejects", str(rejects), str(crawl)]
    )
    # Before the fix every rejection was read back, rejected again and appended, without end.
    assert result.stdout == "2 read: 1 inserted, 1 rejected\n"
    assert len(rejects.read_text(encoding="utf-8").splitlines()) == 1


def _write_catalogue(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        target = directory / f"{case.id}{''.join(Path(case.name).suffixes)}"
        target.write_bytes(case.content())
        print(target)


if __name__ == "__main__":
    _write_catalogue(Path(sys.argv[1] if len(sys.argv) > 1 else "bad_inputs_out"))
