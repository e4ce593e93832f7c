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
