"""Smaller input edges, round two (issue #15, item 19).

* A raw control character inside a string of a JSON array element loses that element only
  (it used to end the array: the rest was one rejection).
* A long value in a message (a 100 KB host) is shortened: one readable line; the rejects
  file keeps the record whole.
* A snapshot text without its footer (cut short) is imported with a warning.
* A time out of range in a snapshot text is reported with its line.

(CR-only NDJSON and the store's own files inside a directory: test_input_edges.py and
test_import_sources.py.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from newsstore import InvalidURLError, SnapshotParseError, canonical_url, parse_snapshot
from newsstore import _errors as errors

from ..conftest import SAMPLE
from .test_input_edges import AFTER, landed, line, run_import

LONGEST_VALUE = 200  # errors.LONGEST_VALUE: what a message shows of one value


@pytest.mark.parametrize("char", ["\x01", "\x1f", "\t", "\n", "\x00"])
def test_a_raw_control_character_in_a_json_array_loses_only_its_element(
    tmp_path: Path, char: str
) -> None:
    bad = line(2).replace("第2篇", f"第{char}2篇")
    path = tmp_path / "crawl.json"
    path.write_text(f"[{line(1)},\n{bad},\n{line(3)}]\n", encoding="utf-8")
    result = run_import(tmp_path, path)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"rejected: {path}:2[1]: invalid JSON: a raw control"), (
        result.stderr
    )
    assert f"\\u{ord(char):04x}" in result.stderr
    assert landed(tmp_path) == {1, 3, AFTER}


def test_a_long_value_is_shortened_in_messages_and_kept_whole_in_rejects(tmp_path: Path) -> None:
    host = "a" * 100_000 + ".example.com"
    record = json.dumps({"url": f"https://{host}/x", "title": "t"})
    path = tmp_path / "long.ndjson"
    path.write_text(record + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.ndjson"
    result = run_import(tmp_path, path, "--rejects", str(rejects))
    (message,) = result.stderr.splitlines()
    assert message.startswith(f"rejected: {path}:1: invalid host 'aaaa")
    assert "more characters]…" in message and "example.com' in 'https://aaa" in message
    assert len(message) < 3 * LONGEST_VALUE + len(str(path)) + 100
    kept = json.loads(rejects.read_text(encoding="utf-8"))
    assert kept["record"] == json.loads(record)
    assert len(kept["error"]) < 3 * LONGEST_VALUE + 100


def test_shortening_leaves_short_values_and_says_how_much_it_cut() -> None:
    assert (
        errors.shorten_values("invalid host 'x' in 'https://x/'")
        == "invalid host 'x' in 'https://x/'"
    )
    long = "b" * 5000
    short = errors.shorten_values(f"bad {long} end")
    assert short.startswith("bad bbb") and short.endswith(" end")
    cut = int(re.search(r"…\[(\d+) more characters\]…", short).group(1))  # type: ignore[union-attr]
    assert len(short) - len("bad  end") - len(f"…[{cut} more characters]…") + cut == 5000
    with pytest.raises(InvalidURLError) as caught:
        canonical_url("https://exa mple.com/" + "x" * 10_000)
    assert len(str(caught.value)) < 2 * LONGEST_VALUE


def _cut_sample(at: str) -> str:
    text = SAMPLE.read_text(encoding="utf-8")
    return text[: text.index(at)]


@pytest.mark.parametrize(
    "cut", ["以上内容为资讯信息快照", "俄罗斯总统普京下令", "加强俄美对话十分有必"]
)  # before the footer, at a line in the body, and mid-sentence (a character boundary)
def test_a_snapshot_text_cut_short_imports_with_a_warning(tmp_path: Path, cut: str) -> None:
    path = tmp_path / "page.txt"
    text = _cut_sample(cut)
    path.write_text(text, encoding="utf-8")
    result = run_import(tmp_path, path)
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("0 rejected, 1 warning\n"), result.stdout
    lines = len(text.splitlines())
    assert result.stderr == (
        f"warning: {path}:{lines}: no footer (以上内容为资讯信息快照…/快照生成时间:/信息原文地址:):"
        " the text may be cut short; read as it is\n"
    )


def test_a_whole_snapshot_text_has_no_warning(tmp_path: Path) -> None:
    result = run_import(tmp_path, SAMPLE)
    assert (result.exit_code, result.stderr) == (0, "")
    assert "warning" not in result.stdout


@pytest.mark.parametrize(
    ("old", "line"),
    [
        ("发布时间:2023-11-14 11:19:00", 6),  # the meta line
        ("快照生成时间:2023-11-14 15:45:17", 58),  # the footer
        ("2023-08-02 18:16:00", 66),  # a related item
    ],
)
@pytest.mark.parametrize("bad", ["0001-01-01 00:00:00", "9999-12-31 23:00:00"])
def test_a_time_out_of_range_in_a_snapshot_text_names_its_line(
    old: str, line: int, bad: str
) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    assert old in text
    prefix = old[: old.index("2")]
    with pytest.raises(SnapshotParseError, match="time out of range") as caught:
        parse_snapshot(text.replace(old, prefix + bad, 1), source="page.txt")
    assert caught.value.line == line
    assert str(caught.value).startswith(f"page.txt:{line}: '{bad}': time out of range")
