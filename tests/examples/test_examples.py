"""Every example runs, as a user would run it, and does what it says."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[2] / "examples"


def _run(name: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_every_example_is_tested() -> None:
    tested = {"quickstart.py", "import_export.py", "mongodb_store.py", "versions.py"}
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested


def test_quickstart(tmp_path: Path) -> None:
    out = _run("quickstart.py", str(tmp_path / "news.db"))
    assert "first save: inserted\nsecond save: unchanged\n" in out
    assert "got content:416eab2c0c7802e3eec1b3ba004c83cb: 1 record(s) seen" in out
    assert "published on 2023-11-14: 2023-11-14 11:19:00+08:00 河南广播电视台" in out


def test_import_export(tmp_path: Path) -> None:
    out = _run("import_export.py", str(tmp_path))
    assert out.splitlines()[0] == "3 read: 2 inserted, 1 rejected"
    assert f"rejected: {tmp_path / 'crawl.ndjson'}:2: title: Field required" in out
    assert "exported: 2" in out
    assert "re-imported: 2 read: 2 inserted, 0 rejected" in out
    assert (tmp_path / "rejects.ndjson").read_text(encoding="utf-8").count("\n") == 1


def test_mongodb_example_on_the_test_database(mongodb, capsys: pytest.CaptureFixture[str]) -> None:
    namespace = runpy.run_path(str(EXAMPLES / "mongodb_store.py"))
    namespace["main"](mongodb)
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "3 read: 2 inserted, 1 unchanged, 0 rejected",
        "by URL: 中美缓和后,俄美要破冰?普京接过华盛顿请柬,西方或抛弃泽连斯基",
        "snapshots: 2",
    ]


def test_versions(tmp_path: Path) -> None:
    out = _run("versions.py", str(tmp_path / "news.db"))
    assert out.splitlines() == [
        "version 1: 09:00 ()",
        "version 2: 12:00 ('title', 'snapshot_at', 'paragraphs')",
        "version 3: 18:00 ('snapshot_at', 'paragraphs')",
        "edit: [('delete', '美方'), ('insert', '华盛顿')]",
        "then: [('move', 1, 0)]",
        "changed that day: [('https://news.example.com/a/1.html', 3)]",
    ]
