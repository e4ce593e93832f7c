"""``newsstore similar``, ``clusters`` and ``backfill``: output, --json, and the errors."""

from __future__ import annotations

import json
from pathlib import Path

from ..stories import republished, story_a, story_b

A0 = "https://a0.example.com/news/1.html"
A1 = "https://a1.example.com/news/1.html"
B0 = "https://b0.example.com/news/1.html"


def _import(run, tmp_path: Path) -> None:
    rows = [
        (A0, story_a(), "新华社", "2023-11-14 09:00:00"),
        (A1, republished(story_a(), 1), "人民网", "2023-11-14 12:00:00"),
        (B0, story_b(), "新华社", "2023-11-14 10:00:00"),
        (
            "https://b1.example.com/news/1.html",
            republished(story_b(), 2),
            "央视网",
            "2023-11-15 10:00:00",
        ),
    ]
    lines = [
        json.dumps(
            {
                "url": url,
                "title": "标题",
                "paragraphs": body,
                "source": source,
                "published_at": when,
            },
            ensure_ascii=False,
        )
        for url, body, source, when in rows
    ]
    data = tmp_path / "copies.ndjson"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert run("import", str(data)).exit_code == 0


def test_similar_lists_the_other_copies(run, tmp_path: Path) -> None:
    _import(run, tmp_path)
    result = run("similar", A0)
    assert result.exit_code == 0, result.output
    assert A1 in result.stdout and "人民网" in result.stdout
    assert B0 not in result.stdout

    as_json = run("similar", A0, "--json")
    assert as_json.exit_code == 0
    (hit,) = json.loads(as_json.stdout)
    assert hit["url"] == A1 and hit["source"] == "人民网"
    assert hit["published_at"] == "2023-11-14T12:00:00+08:00"
    assert 0 < hit["distance"] <= 32

    tight = run("similar", A0, "--max-distance", str(hit["distance"] - 1), "--json")
    assert json.loads(tight.stdout) == []
    none = run("similar", A0, "--max-distance", "0")
    assert none.exit_code == 0 and none.stdout == ""
    assert "No other copies" in none.stderr


def test_similar_of_an_unknown_url_is_one_error_line(run) -> None:
    result = run("similar", "https://nowhere.example.com/x.html")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no snapshot for https://nowhere.example.com/x.html")
    assert "Traceback" not in result.output
    assert run("similar", A0, "--max-distance", "65").exit_code == 2


def test_clusters_of_a_day_and_of_a_range(run, tmp_path: Path) -> None:
    _import(run, tmp_path)
    day = run("clusters", "--on", "2023-11-14", "--json")
    assert day.exit_code == 0, day.output
    (story,) = json.loads(day.stdout)  # B's copy is published the next day
    assert story["size"] == 2
    assert story["first"]["url"] == A0
    assert story["sources"] == ["新华社", "人民网"]
    assert [m["url"] for m in story["members"]] == [A0, A1]

    both = run("clusters", "--from", "2023-11-14", "--to", "2023-11-15", "--json")
    assert [s["first"]["url"] for s in json.loads(both.stdout)] == [A0, B0]

    table = run("clusters", "--on", "2023-11-14")
    assert table.exit_code == 0
    assert A0 in table.stdout and "人民网" in table.stdout

    empty = run("clusters", "--on", "2023-11-20")
    assert empty.exit_code == 0 and "No story" in empty.stderr


def test_clusters_needs_a_window(run) -> None:
    assert run("clusters").exit_code == 2
    assert run("clusters", "--from", "2023-11-14").exit_code == 2
    assert (
        run("clusters", "--on", "2023-11-14", "--from", "2023-11-14").exit_code == 2
    )  # a usage error


def test_backfill_has_nothing_left_on_a_current_store(run, tmp_path: Path) -> None:
    _import(run, tmp_path)
    result = run("backfill")
    assert result.exit_code == 0
    assert result.stdout == "0 snapshots fingerprinted\n"


def test_stats_show_how_many_snapshots_have_a_near_duplicate(run, tmp_path: Path) -> None:
    _import(run, tmp_path)
    # A0 and A1 are one story, B0 and b1 another.
    assert "4 snapshots have a near-duplicate (within 32 of 64)" in run("stats").stdout
    stats = json.loads(run("stats", "--json").stdout)
    assert (stats["near_duplicates"], stats["near_distance"]) == (4, 32)
    assert run("delete", A1, "--reason", "test").exit_code == 0
    assert json.loads(run("stats", "--json").stdout)["near_duplicates"] == 2


def test_stats_say_why_near_duplicates_are_not_counted(run, tmp_path: Path, monkeypatch) -> None:
    _import(run, tmp_path)
    monkeypatch.setenv("NEWSSTORE_SIMILAR_DISTANCE", "50")
    result = run("stats")
    assert result.exit_code == 0
    assert (
        "near-duplicates: not counted (NEWSSTORE_SIMILAR_DISTANCE is 50;"
        " they are counted within 40 at most)" in result.stdout
    )
    stats = json.loads(run("stats", "--json").stdout)
    assert (stats["near_duplicates"], stats["near_distance"]) == (None, 50)
