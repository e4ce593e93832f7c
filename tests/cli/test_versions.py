"""history, diff, find --changed and get --version, through the command."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from newsstore import Snapshot

from ..conftest import DELETED, EDITED, EDITED_2, INSERTED, MOVED

URL = "https://news.example.com/world/2023/11/14/putin.html"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def imported(run, tmp_path: Path, three_versions: list[Snapshot]) -> list[Snapshot]:
    source = tmp_path / "versions.ndjson"
    source.write_text("".join(s.model_dump_json() + "\n" for s in three_versions), "utf-8")
    assert run("import", str(source)).exit_code == 0
    return three_versions


def test_history_shows_each_version_and_what_changed(run, imported) -> None:
    rows = json.loads(run("history", URL, "--json").stdout)
    assert [r["version"] for r in rows] == [1, 2, 3]
    assert [r["current"] for r in rows] == [False, False, True]
    assert [r["snapshot_at"] for r in rows] == [
        "2023-11-14T15:45:17+08:00",
        "2023-11-14T16:45:17+08:00",
        "2023-11-14T17:45:17+08:00",
    ]
    assert [r["changed"] for r in rows] == [
        [],
        ["title", "snapshot_at", "paragraphs"],
        ["snapshot_at", "images", "paragraphs"],
    ]
    assert rows[1]["paragraphs"] == {"added": 1, "removed": 1, "changed": 1, "moved": 0}
    assert rows[2]["paragraphs"] == {"added": 0, "removed": 0, "changed": 0, "moved": 1}
    assert all(r["first_seen"] and r["last_seen"] for r in rows)

    table = run("history", URL)
    assert table.exit_code == 0
    lines = [line for line in table.stdout.splitlines() if re.search(r"│ \d", line)]
    assert len(lines) == 3
    for line, row in zip(lines, rows, strict=True):
        assert row["content_hash"][:12] in line
        assert row["snapshot_at"][:10] + " " + row["snapshot_at"][11:19] in line
    assert "(first)" in lines[0]
    assert "title, snapshot_at, paragraphs" in lines[1] and "+1 -1 ~1 ↕0" in lines[1]
    assert "snapshot_at, images, paragraphs" in lines[2] and "+0 -0 ~0 ↕1" in lines[2]
    assert "(current)" in lines[2]


def test_diff_piped_is_a_unified_diff_of_exactly_the_changes(run, imported) -> None:
    first = run("diff", URL, "--from", "1", "--to", "2")
    assert first.exit_code == 0
    assert first.stdout.splitlines() == [
        f"--- {URL} version 1 (snapshot 2023-11-14T15:45:17+08:00)",
        f"+++ {URL} version 2 (snapshot 2023-11-14T16:45:17+08:00)",
        "@@ title @@",
        "-普京接过请柬",
        "+普京接过华盛顿请柬",
        "@@ snapshot_at @@",
        "-2023-11-14T15:45:17+08:00",
        "+2023-11-14T16:45:17+08:00",
        "@@ -2 @@ paragraph deleted",
        f"-{DELETED}",
        "@@ -1 +1 @@ paragraph changed",
        f"-{EDITED}",
        f"+{EDITED_2}",
        "@@ +4 @@ paragraph inserted",
        f"+{INSERTED}",
    ]
    last = run("diff", URL)  # the last two
    assert last.stdout.splitlines()[2:] == [
        "@@ snapshot_at @@",
        "-2023-11-14T16:45:17+08:00",
        "+2023-11-14T17:45:17+08:00",
        "@@ images @@",
        '-{"position": 2, "caption": "旧的说明"}',
        '+{"position": 2, "caption": "新的说明"}',
        "@@ -2 +5 @@ paragraph moved",
        f" {MOVED}",
    ]


def test_diff_json_is_the_structured_diff(run, imported) -> None:
    data = json.loads(run("diff", URL, "--from", "1", "--to", "2", "--json").stdout)
    assert (data["key"], data["from"]["version"], data["to"]["version"]) == (URL, 1, 2)
    assert [f["field"] for f in data["fields"]] == ["title", "snapshot_at"]
    assert [(p["kind"], p["old_index"], p["new_index"]) for p in data["paragraphs"]] == [
        ("delete", 1, None),
        ("change", 0, 0),
        ("insert", None, 3),
    ]
    edits = [(e["op"], e["text"]) for e in data["paragraphs"][1]["edits"] if e["op"] != "equal"]
    assert edits == [("delete", "美方"), ("insert", "华盛顿")]
    last = json.loads(run("diff", URL, "--json").stdout)
    assert [f["field"] for f in last["fields"]] == ["snapshot_at", "images"]
    assert last["fields"][1]["new"][1]["caption"] == "新的说明"
    assert [(p["kind"], p["old_index"], p["new_index"]) for p in last["paragraphs"]] == [
        ("move", 1, 4)
    ]


def test_diff_on_a_terminal_marks_insertions_and_deletions_in_colour(run, imported) -> None:
    first = run("diff", URL, "--from", "1", "--to", "2", "--color")
    assert first.exit_code == 0
    out = first.stdout
    assert "\x1b[" in out
    assert "\x1b[9;31m美方\x1b[0m" in out  # struck through, red
    assert "\x1b[1;32m华盛顿\x1b[0m" in out  # bold green
    plain = ANSI.sub("", out).splitlines()
    assert plain[2:] == [
        "title",
        "- 普京接过请柬",
        "+ 普京接过华盛顿请柬",
        "snapshot_at",
        "- 2023-11-14T15:45:17+08:00",
        "+ 2023-11-14T16:45:17+08:00",
        "@@ -2 @@ paragraph deleted",
        f"- {DELETED}",
        "@@ -1 +1 @@ paragraph changed",
        EDITED_2.replace("华盛顿", "美方华盛顿"),
        "@@ +4 @@ paragraph inserted",
        f"+ {INSERTED}",
    ]
    last = ANSI.sub("", run("diff", URL, "--color").stdout).splitlines()
    assert last[-2:] == ["@@ -2 +5 @@ paragraph moved", f"  {MOVED}"]
    assert '+ {"position": 2, "caption": "新的说明"}' in last


def test_a_version_diffed_with_itself_shows_no_change(run, imported) -> None:
    same = run("diff", URL, "--from", "2", "--to", "2")
    assert same.exit_code == 0
    assert len(same.stdout.splitlines()) == 2  # the two headers, no hunk
    data = json.loads(run("diff", URL, "--from", "2", "--to", "2", "--json").stdout)
    assert (data["fields"], data["paragraphs"]) == ([], [])
    assert "no changes" in ANSI.sub(
        "", run("diff", URL, "--from", "3", "--to", "3", "--color").stdout
    )


@pytest.mark.parametrize("args", [("--from", "4"), ("--to", "7"), ("--from", "1", "--to", "4")])
def test_a_version_out_of_range_is_one_line(run, imported, args) -> None:
    result = run("diff", URL, *args)
    assert result.exit_code == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert re.fullmatch(
        rf"Error: {re.escape(URL)} has 3 versions \(1–3\): there is no version \d", line
    )
    assert run("get", URL, "--version", "4").exit_code == 1
    assert run("diff", URL, "--from", "0").exit_code == 2  # not a version number at all


def test_find_changed_lists_keys_with_a_new_version_that_day(run, imported, tmp_path) -> None:
    single = tmp_path / "single.ndjson"
    single.write_text(
        json.dumps(
            {
                "url": "https://news.example.com/one.html",
                "title": "一版",
                "snapshot_at": "2023-11-14 12:00:00",
            }
        )
        + "\n",
        "utf-8",
    )
    run("import", str(single))
    rows = json.loads(run("find", "--changed", "--on", "2023-11-14", "--json").stdout)
    assert rows == [
        {"key": URL, "url": URL, "changed_at": "2023-11-14T17:45:17+08:00", "versions": 3}
    ]
    table = run("find", "--changed", "--on", "2023-11-14")
    assert table.exit_code == 0
    assert URL in table.stdout and "2023-11-14 17:45:17" in table.stdout
    assert "one.html" not in table.stdout
    none = run("find", "--changed", "--on", "2023-11-15")
    assert (none.exit_code, none.stdout) == (0, "")
    assert "No key got a new version" in none.stderr
    window = run(
        "find", "--changed", "--from", "2023-11-14 16:00", "--to", "2023-11-14 17:00", "--json"
    )
    assert [r["changed_at"] for r in json.loads(window.stdout)] == ["2023-11-14T16:45:17+08:00"]
    assert run("find", "--changed", "--category", "国际").exit_code == 2


def test_get_version_gives_that_version_and_render_shows_it(run, imported) -> None:
    v1, _, v3 = imported
    first = json.loads(run("get", URL, "--version", "1").stdout)
    assert (first["title"], first["paragraphs"]) == (v1.title, v1.paragraphs)
    assert json.loads(run("get", URL, "--version", "3").stdout)["paragraphs"] == v3.paragraphs
    text = run("render", "-", input=run("get", URL, "--version", "1").stdout)
    assert text.exit_code == 0
    assert v1.title in text.stdout and DELETED in text.stdout
    assert "旧的说明" in text.stdout
