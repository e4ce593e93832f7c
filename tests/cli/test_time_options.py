"""--on, --from and --to read in the zone --tz names, refusals naming the option that caused
them, and --encoding taking text encodings only."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[2] / "examples" / "snapshot-zh-intl-2023-11-14.json"


@pytest.fixture
def sample(run) -> None:
    """The example snapshot, published 2023-11-14 11:19 in Beijing (03:19 UTC)."""
    assert run("import", str(EXAMPLE)).exit_code == 0


@pytest.mark.parametrize(
    "args",
    [
        ["find", "--on", "0001-01-01", "--tz", "UTC", "--count"],
        ["--tz", "UTC", "find", "--on", "0001-01-01", "--count"],
        ["find", "--from", "0001-01-01T00:00", "--tz", "UTC", "--count"],
        ["find", "--from", "0001-01-01", "--to", "0001-01-01", "--tz", "UTC", "--count"],
    ],
)
def test_the_first_day_is_in_range_at_utc(run, args: list[str]) -> None:
    result = run(*args)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "0\n", "")


def test_the_zone_from_the_environment_reads_the_days_too(run, monkeypatch) -> None:
    monkeypatch.setenv("NEWSSTORE_TIMEZONE", "UTC")
    result = run("find", "--on", "0001-01-01", "--count")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "0\n", "")
    assert run("related", "--on", "0001-01-01").exit_code == 0


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--to", "9999-12-31T23:00", "--tz", "America/Los_Angeles"], "'--to'"),
        (["--from", "9999-12-31T23:00", "--tz", "America/Los_Angeles"], "'--from'"),
        (["--from", "2023-11-14", "--to", "9999-12-31"], "'--to'"),
    ],
)
def test_a_time_out_of_range_in_the_zone_names_its_option(run, args: list[str], named: str) -> None:
    result = run("find", *args, "--count")
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert f"Invalid value for {named}: " in result.stderr
    assert "is out of range" in result.stderr and "cannot read" not in result.stderr


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC", "America/Los_Angeles"])
def test_from_the_last_day_starts_that_day(run, zone: str) -> None:
    result = run("find", "--from", "9999-12-31", "--tz", zone, "--count")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "0\n", "")


@pytest.mark.parametrize("day", ["20231114", "2023-W46-2", "2023W462"])
def test_every_spelling_of_a_date_means_that_day(run, sample, day: str) -> None:
    # As 2023-11-14 does: a date as --to includes its day.
    for args in (["--on", day], ["--from", day, "--to", day], ["--to", day, "--from", day]):
        result = run("find", *args, "--count")
        assert (result.exit_code, result.stdout) == (0, "1\n"), (args, result.output)
    assert (
        run("find", "--from", "2023-11-13", "--to", day, "--tz", "UTC", "--count").stdout == "1\n"
    )


@pytest.mark.parametrize(
    "encoding", ["rot13", "base64", "hex", "uu", "quopri", "punycode", "undefined", "zlib"]
)
def test_an_encoding_that_is_no_text_encoding_is_a_usage_error(
    run, tmp_path: Path, encoding: str
) -> None:
    path = tmp_path / "f.ndjson"
    path.write_text('{"url": "https://n.example.com/a", "title": "t"}\n', encoding="utf-8")
    result = run("import", str(path), "--encoding", encoding)
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert f"Invalid value for '--encoding': {encoding!r} is not a text encoding" in result.stderr
