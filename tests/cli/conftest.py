"""The CLI tests' runner: the app against a fresh embedded store named by the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsstore._store.sqlite import SQLiteStore
from newsstore_cli.app import app


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Invoke the CLI against a fresh, empty embedded store named by the environment."""
    SQLiteStore(tmp_path / "cli.db").close()  # read-only commands do not create one
    monkeypatch.setenv("NEWSSTORE_STORE", str(tmp_path / "cli.db"))
    monkeypatch.delenv("NEWSSTORE_TIMEZONE", raising=False)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input)

    return invoke
