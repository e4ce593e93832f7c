"""Outputs never damage what they would replace (issue #15, item 2)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from typer.testing import CliRunner

from newsstore_cli.app import app

from ..conftest import SAMPLE

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args))


def _stocked(tmp_path: Path) -> Path:
    db = tmp_path / "news.db"
    assert _run("import", "-q", "--store", str(db), str(SAMPLE)).exit_code == 0
    return db


def test_export_to_the_store_or_its_wal_is_refused_and_the_store_is_intact(tmp_path: Path) -> None:
    db = _stocked(tmp_path)
    for target in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        before = target.read_bytes() if target.exists() else None
        result = _run("export", "--store", str(db), "-o", str(target))
        assert result.exit_code == 2  # a usage error: the option names the store
        assert "is the store's own database file" in result.stderr
        assert (target.read_bytes() if target.exists() else None) == before
    assert json.loads(_run("stats", "--json", "--store", str(db)).stdout)["snapshots"] == 1


def test_export_to_the_store_by_another_spelling_is_refused(tmp_path: Path) -> None:
    db = _stocked(tmp_path)
    os.link(db, tmp_path / "alias.db")
    result = _run("export", "--store", str(db), "-o", str(tmp_path / "." / "alias.db"))
    assert result.exit_code == 2
    assert (
        _run("get", "--store", str(db), "content:416eab2c0c7802e3eec1b3ba004c83cb").exit_code == 0
    )


def test_rejects_file_that_is_the_store_is_refused_before_it_is_opened(tmp_path: Path) -> None:
    db = _stocked(tmp_path)
    size = db.stat().st_size
    result = _run("import", "-q", "--store", str(db), "--rejects", str(db), str(SAMPLE))
    assert result.exit_code == 1
    assert "not a rejects file" in result.stderr
    assert db.stat().st_size == size
    assert json.loads(_run("stats", "--json", "--store", str(db)).stdout)["snapshots"] == 1


def test_a_failed_export_leaves_the_existing_file_as_it_was(tmp_path: Path) -> None:
    db = _stocked(tmp_path)
    keep = tmp_path / "keep.ndjson"
    keep.write_text("precious\n", encoding="utf-8")
    result = _run("export", "--store", str(db), "-o", str(keep), "--fields", "bogus")
    assert result.exit_code != 0
    assert keep.read_text(encoding="utf-8") == "precious\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


def test_a_successful_export_replaces_the_file_with_ordinary_permissions(tmp_path: Path) -> None:
    db = _stocked(tmp_path)
    out = tmp_path / "day.ndjson.gz"
    out.write_bytes(b"old")
    assert _run("export", "--store", str(db), "-o", str(out)).exit_code == 0
    import gzip

    assert json.loads(gzip.decompress(out.read_bytes()))["title"]
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask


def test_strict_keeps_the_failing_record_once_in_the_rejects_file(tmp_path: Path) -> None:
    # Issue #15, item 17.
    db = tmp_path / "news.db"
    source = tmp_path / "a.ndjson"
    source.write_text('{"title": "第1篇"}\n{"title": ""}\n{"title": "第3篇"}\n', encoding="utf-8")
    rejects = tmp_path / "rejects.ndjson"
    args = ("import", "-q", "--strict", "--store", str(db), "--rejects", str(rejects))
    result = _run(*args, str(source))
    assert result.exit_code == 1
    kept = rejects.read_text(encoding="utf-8").splitlines()
    assert len(kept) == 1 and json.loads(kept[0])["line"] == 2
