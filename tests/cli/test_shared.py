"""Mechanisms every command shares: store options before or after the command, usage errors
as one line, control characters escaped in what people read (JSON left exact)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.main import get_command

from newsstore._store.sqlite import SQLiteStore
from newsstore_cli.app import app

from ..conftest import SAMPLE

SAMPLE_KEY = "content:416eab2c0c7802e3eec1b3ba004c83cb"


# -- global store options ---------------------------------------------------------------------
@pytest.fixture
def two_stores(run, tmp_path: Path) -> tuple[str, str]:
    """The environment's store (empty) and another one holding the sample."""
    other = tmp_path / "other.db"
    with SQLiteStore(other) as store:
        store.import_records([SAMPLE])
    return str(tmp_path / "cli.db"), str(other)


def test_store_before_the_command_wins_over_the_environment(run, two_stores) -> None:
    _, other = two_stores
    assert run("find", "--count").stdout == "0\n"
    assert run("--store", other, "find", "--count").stdout == "1\n"


def test_store_after_the_command_wins_over_the_one_before(run, two_stores) -> None:
    env, other = two_stores
    assert run("--store", env, "find", "--store", other, "--count").stdout == "1\n"
    assert run("--store", other, "find", "--store", env, "--count").stdout == "0\n"


def test_zone_before_the_command_reaches_every_command(run, two_stores) -> None:
    _, other = two_stores
    got = json.loads(run("--store", other, "--tz", "UTC", "get", SAMPLE_KEY).stdout)
    assert got["published_at"] == "2023-11-14T03:19:00Z"
    rendered = run("--tz", "UTC", "render", "-", input=json.dumps(got)).stdout
    assert "2023-11-14 03:19" in rendered


def test_a_bad_global_option_is_a_usage_error(run) -> None:
    result = run("--tz", "Mars/Olympus", "stats")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "Invalid value for '--tz'" in result.stderr


def test_every_store_command_takes_the_store_options_before_it() -> None:
    root = {flag for p in get_command(app).params for flag in p.opts}
    assert {"--store", "--database", "--tz"} <= root


# -- usage errors -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["find", "--from", "yesterday"],
        ["find", "--on", "2023-02-30"],
        ["find", "--match", "regex"],
        ["find", "--bogus"],
        ["export", "--fields", "bogus"],
        ["find", "--fields", "bogus"],
        ["find", "--url", "javascript:alert(1)"],
        ["find", "--url", "http://["],
        ["get"],
        ["nosuchcommand"],
    ],
)
def test_usage_errors_are_one_line_and_exit_2(run, args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "-h'" in result.stderr  # where to find help


# -- control characters ---------------------------------------------------------------------------
EVIL = "evil \x1b]0;pwned\x07\x1b[2J [bold]x[/bold] \x9b31m"


def _evil_record(tmp_path: Path) -> Path:
    record = {
        "url": "https://e.example.com/a",
        "title": EVIL,
        "category": "cat\x1b[31m",
        "source": "src\r\nforged",
        "published_at": "2023-11-14 11:00",
        "related": [
            {
                "title": "rel\x1b]0;x\x07",
                "url": "https://e.example.com/b",
                "published_at": "2023-11-14",
            }
        ],
    }
    path = tmp_path / "evil.ndjson"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return path


def _raw_controls(text: str) -> list[str]:
    # TSV's own tabs and every format's line ends are the output's, not the data's.
    return [c for c in text if (ord(c) < 0x20 and c not in "\t\n") or 0x7F <= ord(c) < 0xA0]


@pytest.mark.parametrize(
    "args",
    [["find"], ["stats"], ["related", "--on", "2023-11-14"], ["find", "--format", "tsv"]],
)
def test_control_characters_are_escaped_in_tables(run, tmp_path: Path, args: list[str]) -> None:
    run("import", str(_evil_record(tmp_path)))
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert _raw_controls(result.stdout) == []
    assert "\\x1b" in result.stdout


def test_json_output_keeps_control_characters_exact(run, tmp_path: Path) -> None:
    run("import", str(_evil_record(tmp_path)))
    (found,) = json.loads(run("find", "--json").stdout)
    assert found["title"] == EVIL
    assert json.loads(run("get", "https://e.example.com/a").stdout)["source"] == "src\r\nforged"


def test_a_file_name_with_a_newline_cannot_forge_a_line(run, tmp_path: Path) -> None:
    path = tmp_path / "x\nrejected: forged.ndjson"
    path.write_text("{not json\n", encoding="utf-8")
    result = run("import", str(path))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("rejected: ") and "x\\nrejected" in lines[0]


def test_errors_escape_what_the_user_typed(run) -> None:
    result = run("get", "https://e.example.com/\x1b[2J")
    assert result.exit_code == 1
    assert "\x1b" not in result.stderr and "\\x1b[2J" in result.stderr


# -- scheme-less URLs ---------------------------------------------------------------------------
def test_urls_without_a_scheme_work_in_every_lookup(run, tmp_path: Path) -> None:
    path = tmp_path / "a.ndjson"
    record = {
        "url": "https://www.xinhuanet.com/world/1.html",
        "title": "t",
        "published_at": "2023-11-14",
    }
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    run("import", str(path))
    got = run("get", "xinhuanet.com/world/1.html")
    assert got.exit_code == 0 and json.loads(got.stdout)["url"] == record["url"]
    for match in ("prefix", "host", "domain"):
        found = run("find", "--url", "xinhuanet.com/world", "--match", match, "--count")
        assert found.stdout == "1\n", match
    assert run("history", "www.xinhuanet.com/world/1.html").exit_code == 0
    assert run("delete", "xinhuanet.com/world/1.html", "--reason", "r").exit_code == 0
    assert run("find", "--count").stdout == "0\n"


@pytest.mark.parametrize("text", ["mailto:a@example.com", "javascript:alert(1)"])
def test_other_schemes_are_not_read_as_hosts(run, text: str) -> None:
    result = run("get", text)
    assert result.exit_code == 2 and "not an absolute http(s) URL" in result.stderr


def test_tsv_rows_stay_rows_whatever_the_cells_hold(run, tmp_path: Path) -> None:
    run("import", str(_evil_record(tmp_path)))
    lines = run("find", "--format", "tsv", "--fields", "title,source,stored.key").stdout
    header, row = lines.splitlines()
    assert header == "title\tsource\tstored.key"
    assert row.split("\t")[1:] == ["src\\r\\nforged", "https://e.example.com/a"]


def test_a_cut_tsv_says_so_on_stderr_and_keeps_its_rows(run, tmp_path: Path) -> None:
    path = tmp_path / "many.ndjson"
    rows = [
        {"url": f"https://m.example.com/{n}", "title": f"t{n}", "published_at": "2023-11-14"}
        for n in range(3)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    run("import", str(path))
    result = run("find", "--format", "tsv", "--limit", "2")
    assert result.stdout.count("\n") == 3  # the header and two rows
    assert result.stderr == "2 of 3 shown (use --limit, --offset)\n"
