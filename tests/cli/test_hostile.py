"""Hostile option values never crash a command: every command in the app, with values of
the wrong kind, out of range, huge, empty or full of control characters, exits 0, 1 or 2
with no traceback (#15 item 9). The commands come from the click command tree, so a
command added later is driven too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.main import get_command
from typer.testing import CliRunner

from newsstore._store.sqlite import SQLiteStore
from newsstore_cli.app import app

from ..conftest import SAMPLE

ROOT = get_command(app)


def _commands(group: Any = ROOT, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command's name path, subcommands of groups included."""
    found: list[tuple[str, ...]] = []
    for name, command in sorted(getattr(group, "commands", {}).items()):
        if getattr(command, "commands", None):
            found.extend(_commands(command, (*path, name)))
        else:
            found.append((*path, name))
    return found


def _command(path: tuple[str, ...]) -> Any:
    command = ROOT
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    return command


# Text a user could type, or a crawl could hold, that the commands must survive (no NUL: a
# command line cannot carry one). Generated text stays relative and below the working
# directory (a temporary one): a value may be taken as a path to write.
_WORDS = [
    "",
    " ",
    "-",
    "\x1b]0;pwned\x07",
    "a\nb",
    "x" * 5000,
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59:59+14:00",
    "0001-01-01T00:00-14:00",
    "2023-02-30",
    "99999999999999999999",
    "9223372036854775808",
    "-9223372036854775809",
    "-1",
    "nan",
    "inf",
    "1e309",
    "http://[",
    "https://",
    "javascript:alert(1)",
    "example.com/news/1.html",
    "www.com",
    '{"$ne": null}',
    "$where",
    "%",
    "Bad/Zone",
    "mongdb://x/y",
    "sqlite:///",
    ":memory:",
    "content:",
    "/nonexistent/x",
]
_TEXT = st.sampled_from(_WORDS) | st.text(max_size=20).filter(
    lambda s: ".." not in s and not s.startswith(("/", "~")) and "\x00" not in s
)
_NUMBERS = st.sampled_from(["99999999999999999999", "9223372036854775808", "-1", "nan", "1e3", ""])


def _values(param: Any) -> st.SearchStrategy[str]:
    """Hostile values for a parameter, by the type it declares (Typer's annotation, or
    click's type for Typer versions built on click's own parameters)."""
    descriptor = getattr(param, "type_descriptor", None)
    annotation = descriptor.annotation if descriptor is not None else None
    kind = type(getattr(param, "type", None)).__name__
    if annotation in (int, float) or kind in ("IntRange", "IntParamType", "FloatParamType"):
        return _NUMBERS | st.integers().map(str)
    if get_origin(annotation) is Literal:
        return st.sampled_from([*get_args(annotation), "bogus", ""])
    if kind == "Choice":
        return st.sampled_from([*map(str, param.type.choices), "bogus", ""])
    return _TEXT


@st.composite
def _args(draw: st.DrawFn, command: Any) -> list[str]:
    args: list[str] = []
    options = [p for p in command.params if p.param_type_name == "option"]
    chosen = draw(st.lists(st.sampled_from(options), unique_by=id, max_size=4)) if options else []
    for param in chosen:
        flag = param.opts[0]
        if flag in ("--help", "-h", "--install-completion", "--show-completion"):
            continue
        if param.is_flag:
            args.append(flag)
        else:
            args += [flag, draw(_values(param))]
    for param in command.params:
        if param.param_type_name == "argument":
            count = 1 if param.nargs == 1 else draw(st.integers(1, 2))
            args += ["--", *(draw(_values(param)) for _ in range(count))]
    # "--" ends the options: a value starting with "-" is then an argument, as users write it.
    return _one_separator(args)


def _one_separator(args: list[str]) -> list[str]:
    if "--" not in args:
        return args
    first = args.index("--")
    return [*args[:first], "--", *(a for a in args[first + 1 :] if a != "--")]


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("hostile")
    with SQLiteStore(where / "cli.db") as st_:
        st_.import_records([SAMPLE])
    return where


@pytest.mark.parametrize("path", _commands(), ids=" ".join)
def test_hostile_values_never_give_a_traceback(path: tuple[str, ...], store_dir: Path) -> None:
    command = _command(path)
    runner = CliRunner()
    env = {"NEWSSTORE_STORE": str(store_dir / "cli.db"), "NEWSSTORE_TIMEZONE": None}

    @settings(
        max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "25")),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    # The options before the command (--store, --tz, …) get hostile values too.
    @given(
        before=_args(ROOT),
        args=_args(command),
        timeout=st.sampled_from([None, "abc", "-5", "nan", "inf"]),
    )
    def check(before: list[str], args: list[str], timeout: str | None) -> None:
        cwd = os.getcwd()
        os.chdir(store_dir)  # anything a value makes a file of lands here
        try:
            result = runner.invoke(
                app,
                [*before, *path, *args],
                input="",
                env={**env, "NEWSSTORE_SQLITE_TIMEOUT": timeout},
            )
        finally:
            os.chdir(cwd)
        args = [*before, *path, *args]
        assert result.exit_code in (0, 1, 2), (args, result.output)
        if result.exception is not None:
            assert isinstance(result.exception, SystemExit), (args, repr(result.exception))
        assert "Traceback" not in result.output, (args, result.output)

    check()


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["find", "--to", "9999-12-31"], 2, "Invalid value for '--to'"),
        (["find", "--on", "0001-01-01"], 2, "0001-01-01 is out of range"),
        (["related", "--on", "0001-01-01"], 2, "0001-01-01 is out of range"),
        (["related", "--on", "9999-12-31"], 2, "has no next day"),
        (["find", "--limit", "99999999999999999999"], 2, "Invalid value for '--limit'"),
        (["find", "--offset", "9223372036854775808"], 2, "Invalid value for '--offset'"),
        (["export", "--limit", "99999999999999999999"], 2, "Invalid value for '--limit'"),
        # A zone name longer than a file name can be (found by the test above).
        (["--tz", "x" * 5000, "stats"], 2, "unknown time zone 'xxx"),
        (["stats", "--tz", "x" * 5000], 2, "unknown time zone 'xxx"),
    ],
)
def test_values_out_of_range_are_one_line(run, args: list[str], code: int, says: str) -> None:
    result = run(*args)
    assert result.exit_code == code, result.output
    assert result.stderr.count("\n") == 1 and says in result.stderr, result.stderr


@pytest.mark.parametrize("value", ["abc", "-5", "nan"])
def test_a_bad_sqlite_timeout_is_one_line_naming_the_variable(run, value, monkeypatch) -> None:
    monkeypatch.setenv("NEWSSTORE_SQLITE_TIMEOUT", value)
    result = run("stats")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: NEWSSTORE_SQLITE_TIMEOUT: ")
    assert result.stderr.count("\n") == 1


@pytest.mark.slow
def test_closed_stdin_and_stdout_are_one_line_errors(tmp_path: Path) -> None:
    SQLiteStore(tmp_path / "s.db").close()
    env = {**os.environ, "NEWSSTORE_STORE": str(tmp_path / "s.db")}
    # The descriptor closed before Python starts: sys.stdin (sys.stdout) is then None.
    code = (
        "import os, sys; os.close({fd}); os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
    )
    for fd, args, says in (
        (0, ["import", "-"], "<stdin>: cannot read: standard input is closed"),
        (1, ["export"], "Error: standard output is closed"),
    ):
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                code.format(fd=fd),
                "-c",
                "from newsstore_cli.app import main; main()",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=False,
        )
        assert proc.returncode == 1, proc.stderr
        assert says in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
