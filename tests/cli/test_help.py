"""Help reads as words: every option explained, metavars that say what to type, choices
listed and completed by the shell. Walks the click command tree: later commands too."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from newsstore_cli.app import app

from .test_hostile import _command, _commands

# What Typer shows when a parameter names no metavar: a Python type, not a word.
PYTHON_TYPES = re.compile(r"<(str|int|float|path|list\[[^>]*\]|int range)>|\{[a-z_]+\}")


@pytest.mark.parametrize("path", _commands(), ids=" ".join)
def test_every_option_has_help_and_a_word_for_a_metavar(path: tuple[str, ...]) -> None:
    command = _command(path)
    for param in command.params:
        if param.param_type_name == "option" and "--help" not in param.opts:
            assert getattr(param, "help", None), (path, param.opts)
    shown = CliRunner().invoke(app, [*path, "-h"]).stdout
    assert PYTHON_TYPES.findall(shown) == [], (path, PYTHON_TYPES.findall(shown))


def test_the_root_help_has_words_too() -> None:
    shown = CliRunner().invoke(app, ["-h"]).stdout
    assert PYTHON_TYPES.findall(shown) == []
    assert "--store URI" in shown and "--tz ZONE" in shown


def _complete(words: str) -> list[str]:
    env = {
        "_NEWSSTORE_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split(" ")) - 1),
    }
    result = CliRunner().invoke(app, [], env=env, prog_name="newsstore")
    return result.stdout.split()


@pytest.mark.parametrize(
    ("words", "offered"),
    [
        ("newsstore find --match ", ["exact", "prefix", "host", "domain"]),
        ("newsstore find --format t", ["table", "tsv"]),
        ("newsstore import --format e", ["ejson"]),
        ("newsstore export --format ejson", ["ejson", "ejson-canonical"]),
    ],
)
def test_choices_are_completed_by_the_shell(words: str, offered: list[str]) -> None:
    assert _complete(words) == offered


def test_choices_are_listed_in_help() -> None:
    shown = CliRunner().invoke(app, ["find", "-h"]).stdout
    assert "--format <table|tsv|csv|json|ndjson>" in shown


def test_stats_json_help_says_what_it_prints(run) -> None:
    help_line = next(
        line for line in run("stats", "-h").stdout.splitlines() if line.strip().startswith("--json")
    )
    assert "object" in help_line
    assert isinstance(json.loads(run("stats", "--json").stdout), dict)
