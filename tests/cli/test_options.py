"""The options commands share (store, filters), their choices, and what the CLI owns."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

from newsstore_cli import output
from newsstore_cli.app import app

from ..conftest import SAMPLE

SAMPLE_KEY = "content:416eab2c0c7802e3eec1b3ba004c83cb"


@pytest.mark.slow
def test_python_dash_m_newsstore_runs_the_cli() -> None:
    from newsstore import __version__

    proc = subprocess.run(
        [sys.executable, "-m", "newsstore", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, f"newsstore {__version__}\n", "")


# -- shared options ---------------------------------------------------------------------------
WITHOUT_A_STORE = {"parse", "render", "schema"}
STORE_OPTIONS = {
    "--store": ("NEWSSTORE_STORE", None),
    "--database": ("NEWSSTORE_DATABASE", None),
    "--tz": ("NEWSSTORE_TIMEZONE", "Asia/Shanghai"),
}
FILTER_OPTIONS = {
    "--url": None,
    "--match": "exact",
    "--on": None,
    "--from": None,
    "--to": None,
    "--time": "published",
    "--category": None,
    "--source": None,
    "--sort": "newest",
}


def _options(name: str) -> dict[str, Any]:
    command = get_command(app).commands[name]  # type: ignore[attr-defined]
    return {flag: param for param in command.params for flag in param.opts}


def test_every_command_that_opens_a_store_has_the_store_options_and_their_envvars() -> None:
    names = set(get_command(app).commands) - WITHOUT_A_STORE  # type: ignore[attr-defined]
    assert len(names) == 19
    for name in sorted(names):
        options = _options(name)
        for flag, (envvar, default) in STORE_OPTIONS.items():
            assert flag in options, (name, flag)
            assert (options[flag].envvar, options[flag].default) == (envvar, default), (name, flag)
    assert _options("parse")["--tz"].envvar == "NEWSSTORE_TIMEZONE"


def test_find_and_export_share_the_filter_options() -> None:
    find, export = _options("find"), _options("export")
    for flag, default in FILTER_OPTIONS.items():
        assert find[flag].default == export[flag].default == default, flag
    assert (find["--limit"].default, find["--offset"].default) == (50, 0)
    assert export["--limit"].default is None and "--offset" not in export


def test_shared_options_read_their_environment_variables(run, tmp_path: Path, monkeypatch) -> None:
    run("import", str(SAMPLE))
    monkeypatch.setenv("NEWSSTORE_TIMEZONE", "UTC")
    got = json.loads(run("get", SAMPLE_KEY).stdout)
    assert got["published_at"] == "2023-11-14T03:19:00Z"
    # The day is read in the zone too: 2023-11-14 in UTC starts at 08:00 in Beijing.
    assert json.loads(run("find", "--on", "2023-11-13", "--json").stdout) == []
    assert len(json.loads(run("find", "--on", "2023-11-14", "--json").stdout)) == 1


def test_a_bad_match_is_a_usage_error_listing_the_choices(run) -> None:
    result = run("find", "--match", "regex", "--url", "x")
    assert result.exit_code == 2
    assert "Invalid value for '--match'" in result.stderr
    assert "'exact', 'prefix', 'host', 'domain'" in result.stderr
    assert "--match <exact|prefix|host|domain>" in run("find", "--help").stdout


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--on", "2023-02-30"], "'--on'"),
        (["--on", "9999-12-31"], "'--on'"),
        (["--from", "yesterday"], "'--from'"),
        (["--to", "14/11/2023"], "'--to'"),
        (["--on", "2023-11-14", "--to", "2023-11-15"], "--on"),
    ],
)
@pytest.mark.parametrize("command", ["find", "export"])
def test_bad_days_and_times_are_usage_errors_naming_the_option(
    run, command: str, args: list[str], named: str
) -> None:
    result = run(command, *args)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for {named}: " in result.stderr


def test_to_a_date_includes_that_day(run, tmp_path: Path) -> None:
    path = tmp_path / "d.ndjson"
    late = {"url": "https://n.example.com/late", "title": "晚", "published_at": "2023-11-14 23:30"}
    path.write_text(json.dumps(late, ensure_ascii=False) + "\n", encoding="utf-8")
    run("import", str(path))
    found = run("find", "--from", "2023-11-14", "--to", "2023-11-14", "--json")
    assert [s["url"] for s in json.loads(found.stdout)] == ["https://n.example.com/late"]
    assert json.loads(run("find", "--to", "2023-11-14T23:00", "--json").stdout) == []


def test_import_pauses_the_cycle_collector_and_restores_it(run, monkeypatch) -> None:
    seen: list[bool] = []

    @contextmanager
    def recording(quiet: bool):
        yield lambda records, nbytes: seen.append(gc.isenabled())

    monkeypatch.setattr(output, "progress", recording)
    assert gc.isenabled()
    assert run("import", str(SAMPLE)).exit_code == 0
    assert seen == [False]
    assert gc.isenabled()

    gc.disable()
    try:
        run("import", str(SAMPLE))
        assert not gc.isenabled()  # left as it was
    finally:
        gc.enable()


def test_related_takes_one_day_read_by_the_library(run) -> None:
    bad = run("related", "--on", "2023-08-32")
    assert bad.exit_code == 2 and "Invalid value for '--on': " in bad.stderr
    run("import", str(SAMPLE))
    assert run("related", "--on", "2023-08-02", "--ndjson").stdout.count("\n") == 1
    # The item is dated 18:16 in Beijing, which is already the next day at UTC+14.
    kiritimati = ("--tz", "Pacific/Kiritimati", "--ndjson")
    assert run("related", "--on", "2023-08-02", *kiritimati).stdout == ""
    assert run("related", "--on", "2023-08-03", *kiritimati).stdout.count("\n") == 1
