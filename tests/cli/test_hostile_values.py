"""Values a user may give that name no file or no key: a pipe for the rejects, a key typed
by hand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from newsstore import InvalidQueryError
from newsstore._store.sqlite import SQLiteStore


def test_rejects_go_to_a_pipe(tmp_path: Path) -> None:
    crawl = tmp_path / "mixed.ndjson"
    good = {"url": "https://news.example.com/a", "title": "a"}
    crawl.write_text(json.dumps(good) + "\n{not json\n", encoding="utf-8")
    env = {**os.environ, "NEWSSTORE_STORE": str(tmp_path / "s.db")}
    proc = subprocess.run(
        [sys.executable, "-m", "newsstore", "import", str(crawl), "--rejects", "/dev/stderr"],
        env=env,
        capture_output=True,  # stderr is a pipe, which cannot be truncated
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr  # a record was rejected
    assert "1 inserted, 1 rejected" in proc.stdout
    kept = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]
    assert [k["line"] for k in kept] == [2]


@pytest.mark.parametrize(
    "key", ['content:{"$gt": ""}', "content:", "content:; DROP TABLE snapshots; --", "content:AB"]
)
def test_a_key_that_no_snapshot_can_have_is_refused(run, key: str, tmp_path: Path) -> None:
    result = run("delete", key, "--reason", "x")
    assert result.exit_code != 0
    assert "not a key" in result.stderr and "\n" not in result.stderr.rstrip("\n")
    with SQLiteStore(tmp_path / "cli.db") as store:
        assert store.tombstones() == []
        with pytest.raises(InvalidQueryError, match="not a key"):
            store.get(key)


@pytest.mark.parametrize(
    "args",
    [
        ["related", "--on", "2023-11-14", "--json", "--ndjson"],
        ["find", "--json", "--ndjson"],
        ["find", "--json", "--format", "csv"],
        ["find", "--changed", "--on", "2023-11-14", "--format", "json"],
        ["find", "--changed", "--on", "2023-11-14", "--fields", "url"],
    ],
    ids=lambda args: " ".join(args),
)
def test_two_formats_at_once_are_a_usage_error(run, args: list[str]) -> None:
    # Each used to print one of them, or both (related: NDJSON lines inside a JSON array).
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""


def test_a_second_takedown_of_a_key_keeps_the_first(run) -> None:
    assert run("delete", "example.com/x", "--reason", "court order").exit_code == 0
    again = run("delete", "https://www.example.com/x?utm_source=a", "--reason", "again")
    assert again.exit_code == 0
    assert "was taken down already" in again.stdout and "(court order)" in again.stdout
    listed = json.loads(run("takedowns", "--json").stdout)
    assert [t["reason"] for t in listed] == ["court order"]


def test_a_takedown_needs_a_reason(run) -> None:
    result = run("delete", "example.com/y", "--reason", " ")
    assert result.exit_code != 0 and "needs a reason" in result.stderr
    assert json.loads(run("takedowns", "--json").stdout) == []


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_line_that_is_not_utf8_stays_rejected_from_its_rejects_file(
    run, tmp_path: Path, workers: str
) -> None:
    # 2,100 lines: enough for the worker processes to start (they prepare after 2,000).
    good = [json.dumps({"url": f"https://news.example.com/{n}", "title": "t"}) for n in range(2100)]
    bad = b'{"url":"http://a.com/\xff","title":"t"}\n'
    crawl = tmp_path / "u.ndjson"
    crawl.write_bytes("\n".join(good).encode() + b"\n" + bad)
    rejects = tmp_path / "r.ndjson"
    first = run("import", str(crawl), "--rejects", str(rejects), "--workers", workers)
    assert first.exit_code == 1 and "invalid UTF-8" in first.stderr
    (kept,) = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert kept["line"] == 2101 and "\\xff" in kept["raw"]  # the byte, shown
    assert "\ufffd" not in rejects.read_text(encoding="utf-8")
    # Imported again unfixed, it is rejected again, not stored altered.
    again = run("import", str(rejects), "--rejects", str(tmp_path / "r2.ndjson"))
    assert again.exit_code == 1, again.output
    assert run("find", "--count").stdout == "2100\n"


def _titled(run, tmp_path: Path, *titles: str) -> None:
    crawl = tmp_path / "t.ndjson"
    rows = [{"url": f"https://news.example.com/{n}", "title": t} for n, t in enumerate(titles)]
    crawl.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert run("import", str(crawl)).exit_code == 0


def test_tsv_cells_read_back_one_way(run, tmp_path: Path) -> None:
    _titled(run, tmp_path, "lit\\nbackslash", "real\nnewline")
    result = run("find", "--format", "tsv", "--fields", "title")
    assert result.exit_code == 0, result.output
    # A backslash is escaped too, so "\\n" (two characters) and a newline differ.
    assert sorted(result.stdout.splitlines()[1:]) == ["lit\\\\nbackslash", "real\\nnewline"]


def test_csv_escapes_controls_on_a_terminal_only(run, tmp_path: Path, monkeypatch) -> None:
    from rich.console import Console

    from newsstore_cli import output

    _titled(run, tmp_path, "\x1b]0;pwn\x07")
    piped = run("find", "--format", "csv", "--fields", "title")
    assert piped.stdout.splitlines()[1] == "\x1b]0;pwn\x07"  # exact, for programs
    monkeypatch.setattr(output, "out", Console(force_terminal=True))
    shown = run("find", "--format", "csv", "--fields", "title")
    assert shown.stdout.splitlines()[1] == "\\x1b]0;pwn\\x07"
